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
 * @module
 */
import { FrameDecoder, type FrameEvent } from "../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../core/protocol/decode.ts";
import { Priority } from "../core/log.ts";
import type { Log } from "../core/log.ts";
import type { DecodeResult } from "../core/protocol/types.ts";
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
  /** A frame event arrived (`decoded` is set for complete messages). */
  frame(conn: ClientConnection, event: FrameEvent, decoded?: DecodeResult): void;
  /** The TLS handshake finished (peer names: SAN dNSNames or CN; undefined: no certificate). */
  tlsEstablished(conn: ClientConnection, peerCertNames: string[] | undefined): void;
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
    if (this.#closed) return this.#host.ended(this); // Closed before its first read.
    this.#slot = this.#host.readBuffers.takeSlot();
    this.#readNext();
  }

  #readNext(): void {
    this.#conn.read(this.#burst ?? this.#slot!).then(this.#onRead, this.#onReadError);
  }

  /** One read settled with `n` bytes (null: EOF) in the current read buffer. */
  readonly #onRead = (n: number | null): void => {
    if (this.#closed) return this.#end();
    if (n === null) {
      this.#host.log(Priority.Debug, "Client closed connection");
      this.#fail(CloseReason.PeerClosed);
      return this.#end();
    }
    const buffer = this.#burst ?? this.#slot!;
    this.#received(buffer.subarray(0, n));
    if (this.#closed) return this.#end();
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
    if (!this.#closed) {
      this.#host.log(
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
    this.stats.queueSize = 0;
    this.#tls?.[Symbol.dispose]();
    this.#tls = undefined;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or by a failed write: nothing left to release.
    }
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
        if (r.handshakeDone && !wasDone) {
          this.#host.tlsEstablished(this, this.#tls.peerCertificateNames());
        }
        plain = r.plaintext;
      } catch (error) {
        this.#host.log(
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

  #queueTlsOutput(): void {
    if (this.#tls === undefined) return;
    const out = this.#tls.takeOutgoing();
    if (out.length === 0) return;
    this.#queue.push(out);
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
          this.#host.log(Priority.Debug, "Client closed connection");
        } else {
          this.#host.log(
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
