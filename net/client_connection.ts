/**
 * One client's TCP connection: bytes in, frames to the arbiter, replies out.
 *
 * This is the I/O edge of the per-client protocol (the C files qnetd-client-net.c and
 * qnetd-client-send.c). It owns the socket, the frame decoder, the optional TLS session and
 * the bounded send queue; every protocol decision is the arbiter's.
 *
 * Memory per idle client is kept small on purpose (an arbiter holds thousands of mostly idle
 * connections, and Deno needs one pending read per connection): the pending read goes into a
 * 128-byte slot of a shared slab ({@link ReadBuffers}), enough for the small steady-state
 * messages; only a read that fills the slot is followed by reads into a larger pooled buffer.
 * The read loop is driven by two callbacks made once per connection instead of an `async`
 * function, whose suspended frame would stay on the heap for the whole life of the client.
 * The send queue is empty except for the moment a reply is being written.
 *
 * Back-pressure: while the send queue holds `max_client_send_buffers` messages the connection
 * stops decoding (and reading) and resumes once the queue has drained, so a client that sends
 * many requests in one write gets every reply, as from the C daemon (which handles one message
 * per poll wake-up and writes in between). A client that does not read its replies would keep
 * the queue full for good: after {@link SEND_STALL_MS} decoding goes on regardless, and the
 * next reply that does not fit drops the client, as the C daemon drops one whose kernel send
 * buffer is full. TLS output (handshake, alerts, KeyUpdate responses) counts against the same
 * queue.
 *
 * @module
 */
import { FrameDecoder, type FrameEvent } from "../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../core/protocol/decode.ts";
import { Priority } from "../core/log.ts";
import type { Log } from "../core/log.ts";
import type { DecodeResult } from "../core/protocol/types.ts";
import type { PeerCertNames } from "../core/certs/peer_names.ts";
import type { TlsServerContext, TlsSession } from "./tls_server.ts";
import { errorText } from "../core/error_text.ts";
import { CloseReason } from "../core/metrics/traffic.ts";

/** Bytes an idle connection keeps for its pending read (an echo request is 16 bytes). */
const IDLE_READ_SIZE = 128;
/** Idle read slots per shared slab. */
const SLOTS_PER_SLAB = 256;
/** The buffer for reads that follow a full one (the C daemon reads 1024 bytes per call at most). */
const BURST_READ_SIZE = 4096;
/** Burst buffers kept for reuse; more are allocated while many clients send at once. */
const MAX_SPARE_BURST_BUFFERS = 64;
/**
 * A send queue that stays at its limit this long without draining means a client that does
 * not read: decoding resumes so that the next reply over the limit drops it. A reading client
 * drains 32 small replies in well under a millisecond on a LAN.
 */
export const SEND_STALL_MS = 2000;

/**
 * Read buffers shared by the connections of one process. A read buffer is only touched by
 * the pending read that owns it and by the synchronous processing of what that read
 * returned (the frame decoder and TLS copy what they keep), so a buffer is free for another
 * connection as soon as its read settled and its bytes were handled.
 */
export class ReadBuffers {
  #slab: ArrayBuffer | undefined;
  #slabUsed = SLOTS_PER_SLAB;
  readonly #freeSlots: Uint8Array[] = [];
  readonly #spareBursts: Uint8Array[] = [];

  /** A 128-byte slot for a connection's idle read; give it back with {@link releaseSlot}. */
  takeSlot(): Uint8Array {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    if (this.#slabUsed === SLOTS_PER_SLAB) {
      this.#slab = new ArrayBuffer(IDLE_READ_SIZE * SLOTS_PER_SLAB);
      this.#slabUsed = 0;
    }
    return new Uint8Array(this.#slab!, IDLE_READ_SIZE * this.#slabUsed++, IDLE_READ_SIZE);
  }

  releaseSlot(slot: Uint8Array): void {
    this.#freeSlots.push(slot);
  }

  /** A larger buffer for the reads that follow a full idle read. */
  takeBurst(): Uint8Array {
    return this.#spareBursts.pop() ?? new Uint8Array(BURST_READ_SIZE);
  }

  releaseBurst(buffer: Uint8Array): void {
    if (this.#spareBursts.length < MAX_SPARE_BURST_BUFFERS) this.#spareBursts.push(buffer);
  }
}

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly log: Log;
  /** The TLS context when the daemon runs with `-s on` or `-s req`; undefined with `-s off`. */
  readonly tls: TlsServerContext | undefined;
  /** Where connections take their read buffers from. */
  readonly readBuffers: ReadBuffers;
  /** Send-queue limits, read live so cmap changes apply to existing clients too. */
  maxClientSendBuffers(): number;
  maxClientSendSize(): number;
  /**
   * The connection's first bytes arrived. True: go on now. False: the connection waits (its
   * bytes held, no read pending) until the host calls {@link ClientConnection.admit}.
   */
  spoke(conn: ClientConnection): boolean;
  /** A frame event arrived (`decoded` is set for complete messages). */
  frame(conn: ClientConnection, event: FrameEvent, decoded?: DecodeResult): void;
  /** The TLS handshake finished (peer names as NSS reads them; undefined: no certificate). */
  tlsEstablished(conn: ClientConnection, peerCertNames: PeerCertNames | undefined): void;
  /**
   * The connection is gone for a reason of its own (EOF, read/write error, TLS failure);
   * `cause` is the error that ended it, if any.
   */
  gone(conn: ClientConnection, reason?: CloseReason, cause?: unknown): void;
  /** The connection is closed and its last read has settled: nothing of it runs any more. */
  ended(conn: ClientConnection): void;
}

/**
 * Counters for one connection, in the spirit of corosync's `runtime.connections.*` keys:
 * what came in, what went out, and how often the limits or the socket pushed back.
 */
export interface ConnectionStats {
  /** Complete messages received (skipped ones included). */
  requests: number;
  /** Messages queued to the client. */
  responses: number;
  /** Messages that were skipped (unknown type, too long) or could not be decoded. */
  invalidRequests: number;
  /** Times a message was refused because the send limits were reached. */
  overload: number;
  /** Writes the socket took only partly, so the rest had to be written again. */
  sendRetries: number;
  /** Messages queued and not yet fully written. */
  queueSize: number;
  /** When the last message (complete or skipped) arrived, `performance.now()` ms; 0: none. */
  lastMessageAt: number;
  /** When the last vote other than NO_CHANGE was queued, ms since the epoch; 0: none. */
  lastDecisionAt: number;
  /** That vote: the one the client holds (NO_CHANGE keeps it); 0 (undefined): none yet. */
  currentVote: number;
}

/** A connected TCP client. Created by the server after the arbiter accepted it. */
export class ClientConnection {
  readonly id: number;
  readonly address: string;
  readonly stats: ConnectionStats = {
    requests: 0,
    responses: 0,
    invalidRequests: 0,
    overload: 0,
    sendRetries: 0,
    queueSize: 0,
    lastMessageAt: 0,
    lastDecisionAt: 0,
    currentVote: 0,
  };
  readonly #conn: Deno.TcpConn;
  readonly #host: ConnectionHost;
  readonly #decoder: FrameDecoder;
  #tls: TlsSession | undefined;
  /** Encoded bytes waiting for the socket, oldest first. */
  #queue: Uint8Array[] = [];
  #writing = false;
  #closed = false;
  /** Set when the arbiter asked for TLS while a read chunk still had unprocessed bytes. */
  #switchToTls = false;
  /** The slab slot the idle read goes into; undefined once given back. */
  #slot: Uint8Array | undefined;
  /** Set while reads go into a pooled burst buffer (the last read filled its buffer). */
  #burst: Uint8Array | undefined;
  /** A read is pending on the socket (its settling will call #end() once closed). */
  #readInFlight = false;
  /** Set once start() ran; #ended once the host heard ended(). */
  #started = false;
  #ended = false;
  /** Decoding (and reading) waits for the send queue to drain. */
  #paused = false;
  /** Set once the first bytes arrived. */
  #spoke = false;
  /** The first bytes arrived and wait, with reading, for the host's admit(). */
  #awaitingAdmission = false;
  /** Plaintext received and not yet decoded while paused (a copy: read buffers are shared). */
  #held: Uint8Array | undefined;
  /** Fires when the queue stayed full for SEND_STALL_MS while paused. */
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** The queue stalled: no more pausing until it drains (the client is probably not reading). */
  #stalled = false;

  constructor(
    id: number,
    address: string,
    conn: Deno.TcpConn,
    host: ConnectionHost,
    maxReceiveSize: number,
  ) {
    this.id = id;
    this.address = address;
    this.#conn = conn;
    this.#host = host;
    this.#decoder = new FrameDecoder(maxReceiveSize);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The receive limit, changed live when `max_client_receive_size` changes. */
  set maxReceiveSize(size: number) {
    this.#decoder.maxReceiveSize = size;
  }

  /**
   * Starts reading; reads go on until EOF, an error or {@link close}, and the host hears
   * `ended()` once the last read has settled.
   */
  start(): void {
    this.#started = true;
    if (this.#closed) return this.#end(); // Closed before its first read.
    this.#slot = this.#host.readBuffers.takeSlot();
    this.#readNext();
  }

  /** True once the connection has sent its first bytes. */
  get spoke(): boolean {
    return this.#spoke;
  }

  /** Lets a connection that {@link ConnectionHost.spoke} held go on. */
  admit(): void {
    if (!this.#awaitingAdmission) return;
    this.#awaitingAdmission = false;
    this.#continue();
  }

  /** True while decoding waits for the send queue to drain (no read is pending then). */
  get paused(): boolean {
    return this.#paused;
  }

  #readNext(): void {
    this.#readInFlight = true;
    this.#conn.read(this.#burst ?? this.#slot!).then(this.#onRead, this.#onReadError);
  }

  /** A log line about this connection: JSON logs name the client (`client_address`). */
  #log(priority: Priority, message: string): void {
    this.#host.log(priority, message, { clientAddress: this.address });
  }

  /** One read settled with `n` bytes (null: EOF) in the current read buffer. */
  readonly #onRead = (n: number | null): void => {
    this.#readInFlight = false;
    if (this.#closed) return this.#end();
    if (n === null) {
      this.#log(Priority.Debug, "Client closed connection");
      this.#fail(CloseReason.PeerClosed);
      return this.#end();
    }
    const buffer = this.#burst ?? this.#slot!;
    if (!this.#spoke) {
      this.#spoke = true;
      if (!this.#host.spoke(this)) {
        // Held until admit(); the first bytes are always plaintext (TLS starts later).
        this.#held = buffer.slice(0, n);
        this.#awaitingAdmission = true;
        return;
      }
      if (this.#closed) return this.#end();
    }
    this.#received(buffer.subarray(0, n));
    if (this.#closed) return this.#end();
    if (this.#queueFull()) this.#pause();
    // Paused: the next read starts when the send queue has drained (#resume).
    if (this.#paused) return;
    // A full buffer means more is probably waiting: read it in one go into a larger buffer.
    if (n === buffer.length) {
      this.#burst ??= this.#host.readBuffers.takeBurst();
    } else if (this.#burst !== undefined) {
      this.#host.readBuffers.releaseBurst(this.#burst);
      this.#burst = undefined;
    }
    this.#readNext();
  };

  readonly #onReadError = (error: unknown): void => {
    this.#readInFlight = false;
    if (!this.#closed) {
      this.#log(
        Priority.Err,
        `Unhandled error when reading from client. Disconnecting client (${errorCode(error)}): ${
          nssErrorText(error)
        }`,
      );
      this.#fail(peerWentAway(error) ? CloseReason.PeerClosed : CloseReason.IoError, error);
    }
    this.#end();
  };

  /** The last read settled after close: give the buffers back and tell the host. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const buffers = this.#host.readBuffers;
    if (this.#slot !== undefined) buffers.releaseSlot(this.#slot);
    if (this.#burst !== undefined) buffers.releaseBurst(this.#burst);
    this.#slot = undefined;
    this.#burst = undefined;
    this.#host.ended(this);
  }

  /** Switches the socket to TLS right after the StartTLS message (no bytes read ahead). */
  startTls(): boolean {
    const tls = this.#host.tls;
    if (tls === undefined) return false;
    this.#tls = tls.newSession();
    this.#switchToTls = true;
    return true;
  }

  /** Queues one encoded message; false when the C daemon's send limits would be exceeded. */
  send(bytes: Uint8Array): boolean {
    if (this.#closed) return true;
    if (
      bytes.length > this.#host.maxClientSendSize() ||
      this.#queue.length >= this.#host.maxClientSendBuffers()
    ) {
      this.stats.overload++;
      return false;
    }
    this.stats.responses++;
    if (this.#tls !== undefined) {
      this.#tls.send(bytes);
      const out = this.#tls.takeOutgoing();
      if (out.length > 0) this.#queue.push(out);
    } else {
      this.#queue.push(bytes);
    }
    this.stats.queueSize = this.#queue.length;
    if (!this.#writing) void this.#flush();
    return true;
  }

  /** Closes the socket now. Queued bytes are dropped, as when the C daemon frees a client. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#held = undefined;
    this.stats.queueSize = 0;
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#tls?.[Symbol.dispose]();
    this.#tls = undefined;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or by a failed write: nothing left to release.
    }
    // No read pending (paused): nothing else will report the end.
    if (this.#started && !this.#readInFlight) this.#end();
  }

  /** The send queue is at its limit and pausing is allowed (it has not stalled). */
  #queueFull(): boolean {
    return !this.#stalled && this.#queue.length >= this.#host.maxClientSendBuffers();
  }

  /** Stops decoding and reading until the send queue drains (or stalls). */
  #pause(): void {
    this.#paused = true;
    this.#stallTimer ??= setTimeout(() => {
      this.#stallTimer = undefined;
      if (!this.#paused || this.#closed) return;
      this.#log(
        Priority.Debug,
        `Client does not read its replies: send queue full for ${SEND_STALL_MS} ms`,
      );
      this.#stalled = true;
      this.#resume();
    }, SEND_STALL_MS);
  }

  /** Ends a pause: the send queue drained or stalled. */
  #resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#continue();
  }

  /** Goes on decoding what was held, then reading, unless something holds it again. */
  #continue(): void {
    if (this.#closed || this.#paused || this.#awaitingAdmission) return;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#frames(held);
    if (this.#closed || this.#paused) return;
    if (this.#queueFull()) return this.#pause();
    this.#readNext();
  }

  #fail(reason: CloseReason, cause?: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#host.gone(this, reason, cause);
  }

  #received(chunk: Uint8Array): void {
    if (this.#tls !== undefined) {
      let plain: Uint8Array;
      try {
        const wasDone = this.#tls.handshakeComplete;
        const r = this.#tls.receive(chunk);
        this.#queueTlsOutput();
        if (this.#closed) return;
        if (r.handshakeDone && !wasDone) {
          this.#host.tlsEstablished(this, this.#tls.peerCertificateNames());
        }
        plain = r.plaintext;
      } catch (error) {
        this.#log(
          Priority.Err,
          `Unhandled error when reading from client. Disconnecting client (${errorCode(error)}): ${
            nssErrorText(error)
          }`,
        );
        this.#queueTlsOutput();
        this.#fail(CloseReason.TlsError, error);
        return;
      }
      this.#frames(plain);
    } else {
      this.#frames(chunk);
    }
  }

  /** Feeds plaintext to the frame decoder, one message at a time, stopping at a TLS switch. */
  #frames(data: Uint8Array): void {
    while (data.length > 0 && !this.#closed) {
      if (this.#queueFull()) {
        this.#held = data.slice();
        this.#pause();
        return;
      }
      const { consumed, events } = this.#decoder.feed(data);
      data = data.subarray(consumed);
      for (const event of events) {
        if (this.#closed) return;
        if (event.kind === "message") {
          this.stats.requests++;
          const decoded = decodeMsg(event.bytes);
          if (!decoded.ok) this.stats.invalidRequests++;
          this.#host.frame(this, event, decoded);
        } else {
          if (event.kind === "skipped") {
            this.stats.requests++;
            this.stats.invalidRequests++;
          }
          this.#host.frame(this, event);
        }
      }
      if (this.#switchToTls) {
        this.#switchToTls = false;
        // Whatever followed the StartTLS message is already the client's TLS handshake.
        if (data.length > 0) this.#received(data);
        return;
      }
    }
  }

  /**
   * Queues what OpenSSL wrote (handshake records, alerts, KeyUpdate responses) under the same
   * limit as replies: below it, one read's output may take the queue one entry past the limit
   * (then reading pauses, see #onRead); once the queue has stalled at the limit, more TLS
   * output drops the client. So a TLS 1.3 peer that keeps asking for key updates and never
   * reads holds at most max_client_send_buffers + 1 entries, each the output of one read.
   */
  #queueTlsOutput(): void {
    if (this.#tls === undefined) return;
    const out = this.#tls.takeOutgoing();
    if (out.length === 0) return;
    if (this.#stalled && this.#queue.length >= this.#host.maxClientSendBuffers()) {
      this.stats.overload++;
      this.#log(
        Priority.Err,
        "Can't queue TLS output: client send queue is full. Disconnecting client connection.",
      );
      this.#fail(CloseReason.SendQueueFull);
      return;
    }
    this.#queue.push(out);
    this.stats.queueSize = this.#queue.length;
    if (!this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        let bytes = this.#queue[0]!;
        for (;;) {
          bytes = bytes.subarray(await this.#conn.write(bytes));
          if (bytes.length === 0) break;
          this.stats.sendRetries++;
        }
        this.#queue.shift();
        this.stats.queueSize = this.#queue.length;
      }
    } catch (error) {
      if (!this.#closed) {
        if (peerWentAway(error)) {
          // The C daemon reads before it writes, so it meets the peer's FIN first.
          this.#log(Priority.Debug, "Client closed connection");
        } else {
          this.#log(
            Priority.Err,
            `Unhandled error when sending message to client (${errorCode(error)}): ${
              nssErrorText(error)
            }`,
          );
        }
        this.#fail(peerWentAway(error) ? CloseReason.PeerClosed : CloseReason.IoError, error);
      }
    } finally {
      this.#writing = false;
    }
    if (this.#queue.length === 0 && !this.#closed) {
      // Drained: the client reads (it may pause again later); decoding goes on.
      this.#stalled = false;
      this.#resume();
    }
  }
}

/** A write failed because the client closed or reset its end: a disconnect, not an error. */
function peerWentAway(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** NSPR's code and text for a reset connection (PR_CONNECT_RESET_ERROR), as log_nss() prints. */
const NSPR_CONNECT_RESET = { code: "-5961", text: "TCP connection reset by peer" };

function errorCode(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionReset) return NSPR_CONNECT_RESET.code;
  return error instanceof Error && "code" in error ? String(error.code) : "-1";
}

/** The C daemon prints NSS's text; a TlsError carries the NSS equivalent when there is one. */
function nssErrorText(error: unknown): string {
  if (error instanceof Error && "nssMessage" in error && typeof error.nssMessage === "string") {
    return error.nssMessage;
  }
  if (error instanceof Deno.errors.ConnectionReset) return NSPR_CONNECT_RESET.text;
  return errorText(error);
}
