/**
 * The TCP side of the daemon: the listener, the connections, and the one timer that drives
 * the arbiter's dead-peer and algorithm timers.
 *
 * The arbiter is pure and returns actions; this module carries them out. Everything the
 * arbiter decides while handling one event is applied before the next event is read, which
 * gives the same reply order as the C daemon's single-threaded poll loop.
 *
 * @module
 */
import type { Action, Arbiter } from "../core/arbiter/arbiter.ts";
import type { DecodeResult } from "../core/protocol/types.ts";
import type { PeerCertNames } from "../core/certs/peer_names.ts";
import type { FrameEvent } from "../core/protocol/frame_decoder.ts";
import { encodeServerMsg } from "../core/protocol/encode_server.ts";
import { MSG_TYPE_NAMES, MsgType } from "../core/protocol/constants.ts";
import { type Log, Priority } from "../core/log.ts";
import {
  ClientConnection,
  type ConnectionHost,
  type ConnectionStats,
  ReadBuffers,
} from "./client_connection.ts";
import type { TlsServerContext } from "./tls_server.ts";
import { decidedVote, EdgeCounters } from "./edge_counters.ts";
import { CloseReason } from "../core/metrics/traffic.ts";
import { TLS_ABORTED_REASON, tlsFailureReason } from "./tls_failure_reason.ts";
import { type ListenAddress, listenTcp } from "./listen_socket.ts";

/**
 * Admission: who is served first when many clients connect at once.
 *
 * Every accepted connection is read at once (a pending read costs a 128-byte slot), but it
 * enters setup only when its first bytes arrive: a connection that has sent nothing is
 * "silent" and costs a real client nothing (issue 17, finding 1). At most ADMISSION_WINDOW
 * connections are in setup (spoke, not yet sent their INIT_REPLY) at once; those that speak
 * while the window is full wait, with their first bytes held and no read pending, in the
 * admission queue (ADMISSION_LIFO_AFTER_MS says in which order). Without a window every
 * client's setup round trips queue behind every other client's, all of them finish late, and
 * all of them hit their connect timeout together (then reconnect, and the storm feeds itself).
 * TLS handshakes cost the daemon far more CPU than plain setups, hence a smaller window.
 *
 * Connections are accepted at once (and counted against max_clients, as in C) and queue in
 * the daemon, not in the kernel: Deno listens with a fixed backlog of 511, and a storm that
 * overflows it has its SYNs dropped and retried by the clients' kernels 1 s and 3 s later.
 * Silent connections are bounded by SILENT_BUDGET, the oldest dropped first; they never enter
 * the admission queue, so they cannot push a client that has spoken to the back.
 */
export const ADMISSION_WINDOW = { plain: 512, tls: 64 } as const;
/**
 * A client stops counting against the window after this long in setup, so clients that
 * speak and then stall cannot hold the window.
 */
const ADMISSION_TIMEOUT_MS = 1000;
/**
 * Clients that spoke and wait for the window, at most; beyond that the accept loop pauses and
 * the kernel's listen queue takes over (each waiting client holds a descriptor).
 */
const MAX_WAITING = 16384;
/**
 * When the oldest waiting client has waited this long, the daemon is behind and serves the
 * newest first ("adaptive LIFO"). A client gives up after its connect timeout (1 s at the
 * least) and reconnects; served in order, the fresh connection would queue behind the
 * abandoned ones and give up too, and a storm would never end. Abandoned connections are
 * served last, when they cost only a read of their PREINIT and their EOF.
 */
const ADMISSION_LIFO_AFTER_MS = 500;
/**
 * Connections that have sent nothing yet, at most; beyond it the oldest silent one is closed,
 * once it has been silent for SILENT_MIN_AGE_MS. Each holds a descriptor and a pending read.
 * A flood of 800 silent connections a second, each held 3 s, stays under it.
 */
export const SILENT_BUDGET = 4096;
/**
 * In a storm thousands of connections are accepted before the daemon reads their first bytes
 * (already sent): they look silent but are not. Only a connection silent for this long is
 * closed for the budget; a client that speaks right after connecting, as qdevice does, is
 * never one of them.
 */
const SILENT_MIN_AGE_MS = 1000;
/** Silent connections, at most, whatever their age (each holds a descriptor). */
const SILENT_HARD_CAP_FACTOR = 4;

/** The admission rules; tests narrow them to observe the order with a few clients. */
export interface AdmissionPolicy {
  /** Clients in setup at once (default: ADMISSION_WINDOW for the TLS mode). */
  readonly window: number;
  /** A client in setup stops counting after this long (ADMISSION_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Newest first once the oldest waiting client has waited this long (ADMISSION_LIFO_AFTER_MS). */
  readonly lifoAfterMs: number;
  /** Silent connections beyond which the oldest is closed (SILENT_BUDGET). */
  readonly silentBudget: number;
  /** Only connections silent for this long are closed for the budget (SILENT_MIN_AGE_MS). */
  readonly silentMinAgeMs: number;
}

/** How many connections are where in admission, for tests and monitoring. */
export interface AdmissionState {
  /** Connected, nothing sent yet. */
  readonly silent: number;
  /** Spoke, waiting for a place in setup. */
  readonly waiting: number;
  /** In setup (counting against the window). */
  readonly inSetup: number;
}

/** How the server listens and what it enforces per client. */
export interface QnetdServerOptions {
  /** Where to listen: the -l address or the wildcard, the -4/-6 family, the port. */
  readonly listen: ListenAddress;
  readonly arbiter: Arbiter;
  readonly log: Log;
  readonly tls?: TlsServerContext;
  /** Where to count the traffic (default: fresh counters, see {@link QnetdServer.counters}). */
  readonly counters?: EdgeCounters;
  /** Admission rules other than the defaults (tests only). */
  readonly admission?: Partial<AdmissionPolicy>;
  /** Live limits (cmap may change them while the daemon runs). */
  readonly limits: {
    maxClientSendBuffers: number;
    maxClientSendSize: number;
    maxClientReceiveSize: number;
    /** `-m`: clients at most (0: no limit), the arbiter's refusal at accept; undefined: 0. */
    maxClients?: number;
  };
}

/** The daemon's TCP server. `serve()` runs until `close()`. */
export class QnetdServer implements ConnectionHost, AsyncDisposable {
  readonly log: Log;
  #tls: TlsServerContext | undefined;
  readonly readBuffers = new ReadBuffers();
  /** Traffic counters (cmap runtime keys, metrics), counted where each event is handled. */
  readonly counters: EdgeCounters;
  /** Connections whose TLS handshake started and has not completed. */
  readonly #tlsPending = new Set<number>();
  readonly #arbiter: Arbiter;
  readonly #listener: Deno.TcpListener;
  readonly #limits: QnetdServerOptions["limits"];
  readonly #connections = new Map<number, ClientConnection>();
  /** Connections whose reads have not ended yet; close() waits for them. */
  #reading = 0;
  #allEnded: PromiseWithResolvers<void> | undefined;
  /** Clients in setup (spoke, no INIT_REPLY yet): id → when they entered it (ms). */
  readonly #admitting = new Map<number, number>();
  readonly #policy: AdmissionPolicy;
  /** Accepted connections that have sent nothing yet, oldest first, with their accept time. */
  readonly #silent = new Map<number, { conn: ClientConnection; at: number }>();
  /** Clients that spoke and wait for the window, oldest first from #waitingHead. */
  #waiting: ClientConnection[] = [];
  /** When each of #waiting spoke (ms), same indexes. */
  #waitingSince: number[] = [];
  #waitingHead = 0;
  /** Wakes the window when its oldest member times out while clients wait. */
  #admissionTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolved when the waiting queue has room again (the accept loop paused on it). */
  #acceptWait: PromiseWithResolvers<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDeadline = Infinity;
  #closing = false;
  #served: Promise<void> | undefined;

  private constructor(options: QnetdServerOptions, listener: Deno.TcpListener) {
    this.log = options.log;
    this.#tls = options.tls;
    this.#arbiter = options.arbiter;
    this.#limits = options.limits;
    this.counters = options.counters ?? new EdgeCounters();
    this.#listener = listener;
    this.#policy = {
      window: options.tls === undefined ? ADMISSION_WINDOW.plain : ADMISSION_WINDOW.tls,
      timeoutMs: ADMISSION_TIMEOUT_MS,
      lifoAfterMs: ADMISSION_LIFO_AFTER_MS,
      silentBudget: SILENT_BUDGET,
      silentMinAgeMs: SILENT_MIN_AGE_MS,
      ...options.admission,
    };
  }

  /** The TLS context that every later StartTLS starts its session from. */
  get tls(): TlsServerContext | undefined {
    return this.#tls;
  }

  /**
   * Key rotation: `next` serves every later StartTLS; sessions already started keep the
   * context they started from (each `SSL` holds its own reference to its `SSL_CTX`). Returns
   * the previous context, for the caller to dispose.
   */
  replaceTls(next: TlsServerContext): TlsServerContext | undefined {
    const previous = this.#tls;
    this.#tls = next;
    return previous;
  }

  /** Binds the listening socket (SO_REUSEADDR is Deno's default, as in C). */
  static listen(options: QnetdServerOptions): QnetdServer {
    return new QnetdServer(options, listenTcp(options.listen));
  }

  /** The bound address (useful with port 0 in tests). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Accepts clients until the server is closed. */
  serve(): Promise<void> {
    this.#served ??= this.#acceptLoop();
    return this.#served;
  }

  async #acceptLoop(): Promise<void> {
    this.#armTimer();
    for (;;) {
      if (this.#waitingCount >= MAX_WAITING) {
        this.#acceptWait = Promise.withResolvers();
        await this.#acceptWait.promise;
        this.#acceptWait = undefined;
        if (this.#closing) return;
      }
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          return;
        }
        // Out of file descriptors and similar: keep serving the clients we have.
        this.log(Priority.Err, `Can't accept connection: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.#accepted(conn);
    }
  }

  #accepted(conn: Deno.TcpConn): void {
    const remote = conn.remoteAddr;
    const address = `${remote.hostname}:${remote.port}`;
    this.counters.accepted++;
    this.#makeRoom(address);
    const accepted = this.#arbiter.accept(address);
    if (accepted === undefined) {
      this.counters.closed[CloseReason.MaxClients]!++;
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    const client = new ClientConnection(
      accepted.clientId,
      address,
      conn,
      this,
      this.#limits.maxClientReceiveSize,
    );
    this.#connections.set(client.id, client);
    this.#reading++;
    this.#apply(accepted.actions, CloseReason.ProtocolError);
    const now = performance.now();
    if (!client.closed) this.#silent.set(client.id, { conn: client, at: now });
    client.start();
    this.#trimSilent(now);
    this.#armTimer();
  }

  /**
   * At `-m` clients a new connection would be refused (as by C): if the oldest connection that
   * has sent nothing has been silent for SILENT_MIN_AGE_MS, it makes room instead, so silent
   * connections cannot fill `-m` and keep a real client out.
   */
  #makeRoom(address: string): void {
    const max = this.#limits.maxClients ?? 0;
    if (max === 0 || this.#connections.size < max) return;
    const oldest = this.#silent.values().next();
    if (oldest.done) return;
    const silentMs = performance.now() - oldest.value.at;
    if (silentMs < this.#policy.silentMinAgeMs) return;
    this.log(
      Priority.Debug,
      `Closing connection ${oldest.value.conn.address}: it sent nothing for ${
        Math.round(silentMs)
      } ms, and ${address} needs its place (max_clients ${max})`,
    );
    this.#drop(oldest.value.conn, CloseReason.Silent);
  }

  /**
   * Closes the oldest silent connections beyond the budget (those silent long enough), and
   * beyond SILENT_HARD_CAP_FACTOR times the budget whatever their age.
   */
  #trimSilent(now: number): void {
    const { silentBudget, silentMinAgeMs } = this.#policy;
    while (this.#silent.size > silentBudget) {
      const oldest = this.#silent.values().next().value!;
      const hardCap = this.#silent.size > silentBudget * SILENT_HARD_CAP_FACTOR;
      if (!hardCap && now - oldest.at < silentMinAgeMs) return;
      this.log(
        Priority.Debug,
        `Closing connection ${oldest.conn.address}: it sent nothing for ${
          Math.round(now - oldest.at)
        } ms, beyond the ${silentBudget} silent connections allowed`,
      );
      this.#drop(oldest.conn, CloseReason.Silent);
    }
  }

  /** A connection's first bytes: into setup now if the window has room, else it waits. */
  spoke(conn: ClientConnection): boolean {
    this.#silent.delete(conn.id);
    if (this.#waitingCount === 0 && this.#admitting.size >= this.#policy.window) {
      this.#expireAdmissions();
    }
    if (this.#waitingCount === 0 && this.#admitting.size < this.#policy.window) {
      this.#admitting.set(conn.id, performance.now());
      return true;
    }
    // Others wait already: take a place among them, in the queue's order.
    this.#waiting.push(conn);
    this.#waitingSince.push(performance.now());
    return this.#admitWaiting(conn);
  }

  get #waitingCount(): number {
    return this.#waiting.length - this.#waitingHead;
  }

  /**
   * Lets waiting clients into setup while the window has room: oldest first, newest first
   * once the oldest has waited ADMISSION_LIFO_AFTER_MS. Returns whether `asking` (a client
   * inside its own spoke() call, which cannot be admitted from here) got a place.
   */
  #admitWaiting(asking?: ClientConnection): boolean {
    if (this.#waitingCount > 0 && this.#admitting.size >= this.#policy.window) {
      this.#expireAdmissions();
    }
    const behind = this.#waitingCount > 0 &&
      performance.now() - this.#waitingSince[this.#waitingHead]! > this.#policy.lifoAfterMs;
    const admitted: ClientConnection[] = [];
    let askingAdmitted = false;
    while (this.#waitingCount > 0 && this.#admitting.size < this.#policy.window) {
      const client = behind ? this.#takeNewestWaiting() : this.#takeOldestWaiting();
      if (client.closed) continue; // Dropped while waiting (a send limit, shutdown).
      this.#admitting.set(client.id, performance.now());
      if (client === asking) askingAdmitted = true;
      else admitted.push(client);
    }
    if (this.#waitingCount < MAX_WAITING) this.#acceptWait?.resolve();
    this.#armAdmissionTimer();
    // After the loop: admit() runs the held messages, which may free places again.
    for (const client of admitted) client.admit();
    return askingAdmitted;
  }

  #takeOldestWaiting(): ClientConnection {
    const client = this.#waiting[this.#waitingHead]!;
    this.#waiting[this.#waitingHead++] = undefined!;
    if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitingHead);
      this.#waitingSince = this.#waitingSince.slice(this.#waitingHead);
      this.#waitingHead = 0;
    }
    return client;
  }

  #takeNewestWaiting(): ClientConnection {
    this.#waitingSince.pop();
    return this.#waiting.pop()!;
  }

  /** Clients in setup for longer than ADMISSION_TIMEOUT_MS stop counting (oldest first). */
  #expireAdmissions(): void {
    const now = performance.now();
    for (const [id, at] of this.#admitting) {
      if (now - at < this.#policy.timeoutMs) break;
      this.#admitting.delete(id);
    }
  }

  /** While clients wait, wake up when the window's oldest member stops counting. */
  #armAdmissionTimer(): void {
    if (this.#admissionTimer !== undefined || this.#waitingCount === 0 || this.#closing) return;
    const oldest = this.#admitting.values().next();
    const wait = oldest.done ? 0 : oldest.value + this.#policy.timeoutMs - performance.now();
    this.#admissionTimer = setTimeout(() => {
      this.#admissionTimer = undefined;
      this.#admitWaiting();
    }, Math.max(1, Math.ceil(wait)));
  }

  maxClientSendBuffers(): number {
    return this.#limits.maxClientSendBuffers;
  }

  maxClientSendSize(): number {
    return this.#limits.maxClientSendSize;
  }

  frame(conn: ClientConnection, event: FrameEvent, decoded?: DecodeResult): void {
    switch (event.kind) {
      case "skipStarted":
        this.#arbiter.skipStarted(conn.id, event.reason, event.msgType, event.length);
        return;
      case "skipped":
        conn.stats.lastMessageAt = performance.now();
        this.counters.skipped();
        this.#apply(this.#arbiter.skipped(conn.id, event.reason), CloseReason.ProtocolError);
        break;
      case "message": {
        conn.stats.lastMessageAt = performance.now();
        const bytes = event.bytes;
        this.counters.received(bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1);
        this.#apply(this.#arbiter.received(conn.id, bytes, decoded!), CloseReason.ProtocolError);
        break;
      }
    }
    this.#armTimer();
  }

  tlsEstablished(conn: ClientConnection, peerCertNames: PeerCertNames | undefined): void {
    if (this.#tlsPending.delete(conn.id)) this.counters.tlsHandshakesOk++;
    this.#arbiter.tlsEstablished(conn.id, peerCertNames);
  }

  /**
   * The connection is gone: `reason` for the metrics, `cause` the error that ended it, `text`
   * (for the decision history) when we closed it.
   */
  gone(
    conn: ClientConnection,
    reason: CloseReason = CloseReason.IoError,
    cause?: unknown,
    text?: string,
  ): void {
    this.#silent.delete(conn.id);
    this.#admitted(conn.id);
    if (!this.#connections.delete(conn.id)) return;
    this.#countClosed(conn.id, reason, cause);
    this.#apply(this.#arbiter.closed(conn.id, text), CloseReason.ProtocolError);
    this.#armTimer();
  }

  /** Counts a closed connection, and a failed handshake if it was in one. */
  #countClosed(id: number, reason: CloseReason, cause?: unknown): void {
    this.counters.closed[reason]!++;
    if (this.#tlsPending.delete(id)) {
      this.counters.tlsFailed(
        reason === CloseReason.TlsError ? tlsFailureReason(cause) : TLS_ABORTED_REASON,
      );
    }
  }

  ended(_conn: ClientConnection): void {
    if (--this.#reading === 0) this.#allEnded?.resolve();
  }

  /**
   * Carries out the arbiter's decisions, in order. `reason` is what a disconnect among them
   * counts as: the event that produced the actions tells (a message: a protocol error; the
   * timers: DPD; shutdown).
   */
  #apply(actions: readonly Action[], reason: CloseReason): void {
    for (const action of actions) {
      const conn = this.#connections.get(action.clientId);
      if (conn === undefined) continue;
      switch (action.kind) {
        case "send": {
          if (action.msg.type === MsgType.InitReply) this.#admitted(conn.id);
          this.counters.sent(action.msg);
          const vote = decidedVote(action.msg);
          if (vote !== undefined) {
            conn.stats.lastDecisionAt = Date.now();
            conn.stats.currentVote = vote;
          }
          const bytes = encodeServerMsg(action.msg);
          if (!conn.send(bytes)) {
            this.log(
              Priority.Err,
              `Can't alloc ${
                MSG_TYPE_NAMES[action.msg.type].toLowerCase()
              } msg from list. Disconnecting client connection.`,
            );
            this.#drop(
              conn,
              CloseReason.SendQueueFull,
              "send queue full (max_client_send_buffers): the client reads too slowly",
            );
          }
          break;
        }
        case "startTls":
          if (!conn.startTls()) {
            // The C daemon fails in NSS here when it has no server certificate (-s off).
            this.log(
              Priority.Err,
              "Can't start TLS. Disconnecting client. (-8187): security library: invalid arguments.",
            );
            this.#drop(conn, CloseReason.TlsError, "TLS could not start");
          } else {
            this.#tlsPending.add(conn.id);
          }
          break;
        case "disconnect":
          this.#silent.delete(conn.id);
          this.#admitted(conn.id);
          this.#connections.delete(conn.id);
          this.#countClosed(conn.id, reason);
          conn.close();
          break;
      }
    }
  }

  /** The client got its INIT_REPLY or is gone: its place in the window goes to a waiting one. */
  #admitted(id: number): void {
    if (this.#admitting.delete(id) && this.#waitingCount > 0) this.#admitWaiting();
  }

  /** Closes a connection on our initiative and runs the arbiter's disconnect path. */
  #drop(conn: ClientConnection, reason: CloseReason, text?: string): void {
    conn.close();
    this.gone(conn, reason, undefined, text);
  }

  /** One timer for all clients: the arbiter's timer heap says when the next one is due. */
  #armTimer(): void {
    if (this.#closing) return;
    const ms = this.#arbiter.msUntilNextTimer();
    const deadline = ms === undefined ? Infinity : performance.now() + ms;
    // Re-arming on every message would cost a clearTimeout/setTimeout pair each time; only
    // do it when the next deadline moved earlier or the pending timer is gone.
    if (this.#timer !== undefined && deadline >= this.#timerDeadline) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDeadline = deadline;
    if (ms === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDeadline = Infinity;
      this.#apply(this.#arbiter.expireTimers(), CloseReason.Dpd);
      this.#armTimer();
    }, Math.max(0, Math.ceil(ms)));
  }

  /** The open connections with their counters, for cmap's runtime.connections keys. */
  connections(): Iterable<ClientConnection> {
    return this.#connections.values();
  }

  /** The counters and timing of the open connection `id` (the arbiter's client id). */
  connectionStats(id: number): ConnectionStats | undefined {
    return this.#connections.get(id)?.stats;
  }

  /** Where the connections are in admission now. */
  get admission(): AdmissionState {
    return {
      silent: this.#silent.size,
      waiting: this.#waiting.slice(this.#waitingHead).filter((c) => !c.closed).length,
      inSetup: this.#admitting.size,
    };
  }

  /** The admission rules in force. */
  get admissionPolicy(): AdmissionPolicy {
    return this.#policy;
  }

  /** Number of open TCP connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops accepting, disconnects every client as the C daemon does on shutdown. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#acceptWait?.resolve();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#admissionTimer !== undefined) clearTimeout(this.#admissionTimer);
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    this.log(Priority.Debug, "Closing server socket");
    this.#apply(this.#arbiter.shutdown(), CloseReason.Shutdown);
    for (const conn of this.#connections.values()) conn.close();
    this.#connections.clear();
    // Clients still waiting for the window were closed above (their close() reported ended()).
    this.#silent.clear();
    this.#waiting = [];
    this.#waitingSince = [];
    this.#waitingHead = 0;
    if (this.#reading > 0) {
      this.#allEnded = Promise.withResolvers();
      await this.#allEnded.promise;
    }
    await this.#served;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
