/**
 * One client's TCP connection: bytes in, frames to the arbiter, replies out.
 *
 * This is the I/O edge of the per-client protocol (the C files qnetd-client-net.c and
 * qnetd-client-send.c). It owns the socket, the frame decoder, the optional TLS session and
 * the bounded send queue; every protocol decision is the arbiter's.
 *
 * Memory per idle client is kept small on purpose (an arbiter holds thousands of mostly idle
 * connections): one 1 KiB read buffer, as the C daemon reads at most 1024 bytes per call, and a
 * send queue that is empty except for the moment a reply is being written.
 *
 * @module
 */
import { FrameDecoder, type FrameEvent } from "../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../core/protocol/decode.ts";
import { Priority } from "../core/log.ts";
import type { Log } from "../core/log.ts";
import type { DecodeResult } from "../core/protocol/types.ts";
import type { TlsServerContext, TlsSession } from "./tls_server.ts";

/** The C daemon reads at most this many bytes per read call (msgio.c). */
const READ_CHUNK_SIZE = 1024;

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly log: Log;
  /** The TLS context when the daemon runs with `-s on` or `-s req`; undefined with `-s off`. */
  readonly tls: TlsServerContext | undefined;
  /** Send-queue limits, read live so cmap changes apply to existing clients too. */
  maxClientSendBuffers(): number;
  maxClientSendSize(): number;
  /** A frame event arrived (`decoded` is set for complete messages). */
  frame(conn: ClientConnection, event: FrameEvent, decoded?: DecodeResult): void;
  /** The TLS handshake finished (peer names: SAN dNSNames or CN; undefined: no certificate). */
  tlsEstablished(conn: ClientConnection, peerCertNames: string[] | undefined): void;
  /** The connection is gone for a reason of its own (EOF, read/write error, TLS failure). */
  gone(conn: ClientConnection): void;
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

  /** Reads until EOF or error. Resolves when the connection is closed, whoever closed it. */
  async run(): Promise<void> {
    const buf = new Uint8Array(READ_CHUNK_SIZE);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (error) {
        if (this.#closed) return;
        this.#host.log(
          Priority.Err,
          `Unhandled error when reading from client. Disconnecting client (${errorCode(error)}): ${
            errorText(error)
          }`,
        );
        this.#fail();
        return;
      }
      if (n === null) {
        if (this.#closed) return;
        this.#host.log(Priority.Debug, "Client closed connection");
        this.#fail();
        return;
      }
      this.#received(buf.subarray(0, n));
    }
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

  #fail(): void {
    if (this.#closed) return;
    this.close();
    this.#host.gone(this);
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
            errorText(error)
          }`,
        );
        this.#queueTlsOutput();
        this.#fail();
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
        this.#host.log(
          Priority.Err,
          `Unhandled error when sending message to client (${errorCode(error)}): ${
            errorText(error)
          }`,
        );
        this.#fail();
      }
    } finally {
      this.#writing = false;
    }
  }
}

function errorCode(error: unknown): string {
  return error instanceof Error && "code" in error ? String(error.code) : "-1";
}

/** The C daemon prints NSS's text; a TlsError carries the NSS equivalent when there is one. */
function errorText(error: unknown): string {
  if (error instanceof Error && "nssMessage" in error && typeof error.nssMessage === "string") {
    return error.nssMessage;
  }
  return error instanceof Error ? error.message : String(error);
}
