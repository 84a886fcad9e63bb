/**
 * The daemon's local IPC socket: a unix stream socket taking one request line per
 * connection and answering `OK\n<body>` or `Error\n<message>\n`, then closing.
 *
 * Port of qdevices/unix-socket-ipc.c, unix-socket-client.c and the I/O half of qnetd-ipc.c,
 * with the same limits: at most `maxClients` connections at once (more are accepted and
 * closed at once), requests read in chunks of at most 256 bytes into a buffer of at most
 * `maxReceiveSize` bytes (overflow closes the connection without a reply), the line parsed
 * as soon as a chunk holds a `\n`, replies bounded by `maxSendSize`.
 *
 * Unlike the C single-threaded poll loop, every connection is its own async task, and a
 * write that makes no progress for `writeTimeoutMs` drops the client, so a client that
 * stops reading can never hold up the daemon.
 *
 * Access control: Deno cannot read the peer's credentials (no SO_PEERCRED), and neither
 * does the C daemon check them; who may connect is decided by the socket file's owner,
 * group and mode. The C daemon 3.0.3 leaves the mode to the process umask (0755 under the
 * usual 022, so only the owner and root can connect, since connecting needs write
 * permission); we set it explicitly, 0660 by default (owner and group).
 *
 * @module
 */
import { type Log, nullLog, Priority } from "../core/log.ts";
import { bytesToByteString, byteStringToBytes } from "../core/byte_string.ts";
import { asciiLower, cString, IpcErrorText, tokenize, TokenTooLongError } from "./line_lexer.ts";
import { errorText } from "../core/error_text.ts";
import { fitsSunPath } from "./socket_path.ts";

/** The C read chunk (UNIX_SOCKET_CLIENT_BUFFER). */
const READ_CHUNK = 256;
const NEWLINE = 0x0a;

/** Defaults of corosync-qnetd 3.0.3 (qnet-config.h) and of ours. */
export const IPC_DEFAULTS = {
  maxClients: 10,
  maxReceiveSize: 4096,
  maxSendSize: 10485760,
  mode: 0o660,
  writeTimeoutMs: 10_000,
  idleTimeoutMs: 0,
} as const;

/** What a command handler gets: the request line's tokens and the connection's means. */
export interface IpcRequest {
  /** Every token of the line as the lexer produced it, command word first (may hold NULs). */
  readonly tokens: readonly Uint8Array[];
  /** Aborted when the client goes away (read EOF or error, failed write) or the server closes. */
  readonly signal: AbortSignal;
  /**
   * Sends bytes now, for long-lived replies (the handler then returns `undefined` and must
   * start with `OK\n` itself). Rejects when the client is gone or does not read in time.
   */
  write(bytes: Uint8Array): Promise<void>;
}

/** A complete reply; the server frames it, checks the send limit, writes it and closes. */
export type IpcReply =
  | {
    readonly ok: true;
    readonly body: Uint8Array;
    /** The error sent instead when the body does not fit `maxSendSize`. */
    readonly tooLargeError?: string;
    /** Called once the whole reply is written (e.g. `shutdown`). */
    readonly afterSend?: () => void;
  }
  | { readonly ok: false; readonly message: string };

/**
 * A command handler. Returns the reply, or `undefined` when it streamed its reply itself
 * through {@link IpcRequest.write}.
 */
export type IpcHandler = (
  request: IpcRequest,
) => IpcReply | undefined | Promise<IpcReply | undefined>;

/** How to run the server. */
export interface IpcServerOptions {
  /** Socket file path (`local_socket_file`); a stale file there is removed first. */
  readonly path: string;
  /** Handlers by lower-case command word (matched case-insensitively, as strcasecmp). */
  readonly handlers: ReadonlyMap<string, IpcHandler>;
  /** Socket file mode; default 0660. */
  readonly mode?: number;
  /** `ipc_max_clients`; 0 = unlimited. */
  readonly maxClients?: number;
  /** `ipc_max_receive_size`. */
  readonly maxReceiveSize?: number;
  /** `ipc_max_send_size`. */
  readonly maxSendSize?: number;
  /** A write making no progress for this long drops the client. */
  readonly writeTimeoutMs?: number;
  /** Drop a client that has not sent a whole line in this time; 0 = never, as in C. */
  readonly idleTimeoutMs?: number;
  /**
   * A longer limit for the lines of one command (cmap values reach 16 KiB): a line whose
   * first bytes are `command` and a space may grow to `maxSize` bytes; every other line keeps
   * `maxReceiveSize`, so what corosync-qnetd-tool sees does not change.
   */
  readonly largeRequest?: { readonly command: string; readonly maxSize: number };
  readonly log?: Log;
}

/** The socket could not be created (logged by the daemon as "Can't create unix socket"). */
export class IpcListenError extends Error {
  constructor(readonly path: string, options?: ErrorOptions) {
    super(`Cannot create unix socket '${path}'`, options);
    this.name = "IpcListenError";
  }
}

/** A client did not take its reply in time. */
export class IpcWriteTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Cannot write to IPC client within ${timeoutMs} ms`);
    this.name = "IpcWriteTimeoutError";
  }
}

function removeStale(path: string): void {
  try {
    // unlink() as in unix_socket_server_create(): anything but a directory goes.
    if (!Deno.lstatSync(path).isDirectory) Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Runs `operation`, failing with `onTimeout()` after `ms` (0 = no limit). */
async function within<T>(ms: number, operation: Promise<T>, onTimeout: () => Error): Promise<T> {
  operation.catch(() => {}); // it may settle after losing the race
  if (ms <= 0) return await operation;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One accepted connection, from the request line to the close. */
class IpcConnection {
  readonly #conn: Deno.UnixConn;
  readonly #server: IpcServer;
  readonly #abort = new AbortController();
  #closed = false;

  constructor(conn: Deno.UnixConn, server: IpcServer) {
    this.#conn = conn;
    this.#server = server;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer's failure path
    }
  }

  /** Reads up to the first chunk holding a newline (unix_socket_client_io_read()). */
  async readLine(): Promise<Uint8Array | undefined> {
    const { maxReceiveSize, idleTimeoutMs, log } = this.#server.settings;
    let buffer = new Uint8Array(maxReceiveSize);
    const chunk = new Uint8Array(READ_CHUNK);
    let size = 0;
    for (;;) {
      let count: number | null;
      try {
        count = await within(idleTimeoutMs, this.#conn.read(chunk), () => new Error("idle"));
      } catch (error) {
        if (!this.#closed) {
          log(
            Priority.Err,
            `Can't receive message from IPC client. Disconnecting client.` +
              ` (${errorText(error)})`,
          );
        }
        return undefined;
      }
      if (count === null) {
        log(Priority.Debug, "IPC client closed connection");
        return undefined;
      }
      const limit = this.#server.receiveLimit(buffer.subarray(0, size), chunk.subarray(0, count));
      if (size + count > limit) {
        log(Priority.Err, "Can't store message from IPC client. Disconnecting client.");
        return undefined;
      }
      if (size + count > buffer.length) {
        const grown = new Uint8Array(Math.min(limit, Math.max(size + count, buffer.length * 2)));
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(chunk.subarray(0, count), size);
      size += count;
      if (chunk.subarray(0, count).includes(NEWLINE)) return buffer.subarray(0, size);
    }
  }

  /** Keeps reading (and dropping) input so that a client going away aborts the signal. */
  watchForHangup(): void {
    const sink = new Uint8Array(READ_CHUNK);
    const loop = async (): Promise<void> => {
      try {
        while (!this.#closed && (await this.#conn.read(sink)) !== null);
      } catch {
        // read error: the client is gone too
      }
      this.#abort.abort();
    };
    void loop();
  }

  /** Writes all bytes; a write without progress for `writeTimeoutMs` closes the client. */
  async write(bytes: Uint8Array): Promise<void> {
    const { writeTimeoutMs } = this.#server.settings;
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#closed) throw new Deno.errors.BrokenPipe("IPC client connection is closed");
      try {
        offset += await within(
          writeTimeoutMs,
          this.#conn.write(bytes.subarray(offset)),
          () => new IpcWriteTimeoutError(writeTimeoutMs),
        );
      } catch (error) {
        this.close();
        throw error;
      }
    }
  }
}

/**
 * The local IPC server. Create it with {@link IpcServer.listen}; close it (or `await using`
 * it) to stop accepting, drop every client and remove the socket file.
 *
 * @example
 * ```ts
 * await using server = IpcServer.listen({ path: "/run/qnetd.sock", handlers });
 * ```
 */
export class IpcServer implements AsyncDisposable {
  readonly path: string;
  /** Limits in force, with defaults applied. */
  readonly settings: Required<Omit<IpcServerOptions, "path" | "handlers" | "largeRequest">>;
  readonly #largeRequest: { readonly prefix: Uint8Array; readonly maxSize: number } | undefined;
  readonly #handlers: ReadonlyMap<string, IpcHandler>;
  readonly #listener: Deno.UnixListener;
  readonly #connections = new Set<IpcConnection>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #acceptLoop: Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(options: IpcServerOptions, listener: Deno.UnixListener) {
    this.path = options.path;
    this.#handlers = options.handlers;
    this.#listener = listener;
    this.settings = {
      mode: options.mode ?? IPC_DEFAULTS.mode,
      maxClients: options.maxClients ?? IPC_DEFAULTS.maxClients,
      maxReceiveSize: options.maxReceiveSize ?? IPC_DEFAULTS.maxReceiveSize,
      maxSendSize: options.maxSendSize ?? IPC_DEFAULTS.maxSendSize,
      writeTimeoutMs: options.writeTimeoutMs ?? IPC_DEFAULTS.writeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? IPC_DEFAULTS.idleTimeoutMs,
      log: options.log ?? nullLog,
    };
    const large = options.largeRequest;
    this.#largeRequest = large === undefined ? undefined : {
      prefix: byteStringToBytes(`${large.command} `),
      maxSize: Math.max(large.maxSize, this.settings.maxReceiveSize),
    };
    this.#acceptLoop = this.#accept();
  }

  /**
   * Creates the socket: removes a stale file, binds, sets the mode, starts accepting.
   * Port of unix_socket_ipc_init() / unix_socket_server_create().
   */
  static listen(options: IpcServerOptions): IpcServer {
    const { path } = options;
    if (!fitsSunPath(path)) {
      throw new IpcListenError(path, { cause: new RangeError("File name too long") });
    }
    let listener: Deno.UnixListener;
    try {
      removeStale(path);
      listener = Deno.listen({ transport: "unix", path });
    } catch (error) {
      throw new IpcListenError(path, { cause: error });
    }
    try {
      Deno.chmodSync(path, options.mode ?? IPC_DEFAULTS.mode);
    } catch (error) {
      listener.close();
      throw new IpcListenError(path, { cause: error });
    }
    return new IpcServer(options, listener);
  }

  /**
   * The receive limit for a line that starts with `head` followed by `next` (see
   * {@link IpcServerOptions.largeRequest}).
   */
  receiveLimit(head: Uint8Array, next: Uint8Array = new Uint8Array()): number {
    const large = this.#largeRequest;
    if (large === undefined) return this.settings.maxReceiveSize;
    const prefix = large.prefix;
    for (let i = 0; i < prefix.length; i++) {
      const byte = i < head.length ? head[i] : next[i - head.length];
      if (byte === undefined || (byte | 0x20) !== (prefix[i]! | 0x20)) {
        return this.settings.maxReceiveSize;
      }
    }
    return large.maxSize;
  }

  /** Connections being served now. */
  get clientCount(): number {
    return this.#connections.size;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  async #accept(): Promise<void> {
    const { maxClients, log } = this.settings;
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing === undefined) {
          log(Priority.Err, `Can't accept local IPC connection (${errorText(error)})`);
          continue;
        }
        return;
      }
      if (maxClients !== 0 && this.#connections.size >= maxClients) {
        log(Priority.Err, "Maximum IPC clients reached. Not accepting connection");
        conn.close();
        continue;
      }
      const connection = new IpcConnection(conn, this);
      this.#connections.add(connection);
      const task = this.#serve(connection).finally(() => {
        connection.close();
        this.#connections.delete(connection);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  async #serve(connection: IpcConnection): Promise<void> {
    const { log } = this.settings;
    const line = await connection.readLine();
    if (line === undefined) return;
    let reply: IpcReply | undefined;
    try {
      reply = await this.#dispatch(line, connection);
    } catch (error) {
      log(Priority.Err, `IPC command failed: ${errorText(error)}`);
      reply = { ok: false, message: "Internal error" };
    }
    if (reply === undefined) return;
    const bytes = this.#frame(reply);
    if (bytes === undefined) return;
    try {
      await connection.write(bytes);
    } catch (error) {
      log(
        Priority.Err,
        `Can't send message to IPC client. Disconnecting client (${errorText(error)})`,
      );
      return;
    }
    connection.close();
    if (reply.ok && reply.afterSend !== undefined) {
      try {
        reply.afterSend();
      } catch (error) {
        log(Priority.Err, `IPC after-send action failed: ${errorText(error)}`);
      }
    }
  }

  /** Tokenizes the line and runs the handler of its first word (qnetd_ipc_parse_line()). */
  async #dispatch(line: Uint8Array, connection: IpcConnection): Promise<IpcReply | undefined> {
    const { log } = this.settings;
    let tokens: Uint8Array[];
    try {
      tokens = tokenize(line, this.receiveLimit(line));
    } catch (error) {
      if (!(error instanceof TokenTooLongError)) throw error;
      log(Priority.Err, "Can't alloc memory for simple lex");
      return { ok: false, message: IpcErrorText.commandTooLong };
    }
    const word = bytesToByteString(cString(tokens[0] ?? new Uint8Array()));
    if (word === "") {
      log(Priority.Debug, "IPC client doesn't send command");
      return { ok: false, message: IpcErrorText.noCommand };
    }
    const handler = this.#handlers.get(asciiLower(word));
    if (handler === undefined) {
      log(Priority.Debug, "IPC client sent unknown command");
      return { ok: false, message: IpcErrorText.unknownCommand(word) };
    }
    connection.watchForHangup();
    return await handler({
      tokens,
      signal: connection.signal,
      write: (bytes) => connection.write(bytes),
    });
  }

  /**
   * The reply's bytes within `maxSendSize`, as qnetd_ipc_send_buffer() and
   * qnetd_ipc_send_error() build them; undefined when not even the error fits.
   */
  #frame(reply: IpcReply): Uint8Array | undefined {
    const { maxSendSize, log } = this.settings;
    if (reply.ok) {
      // The C body buffer also needs room for a NUL, then "OK\n" is prepended.
      if (reply.body.length + 1 > maxSendSize || reply.body.length + 3 > maxSendSize) {
        log(Priority.Err, "Can't send ipc message to client (buffer too small)");
        const tooLarge = reply.body.length + 1 > maxSendSize && reply.tooLargeError !== undefined;
        return this.#frame({
          ok: false,
          message: tooLarge ? reply.tooLargeError! : "Internal IPC buffer too small",
        });
      }
      const bytes = new Uint8Array(3 + reply.body.length);
      bytes.set([0x4f, 0x4b, NEWLINE]);
      bytes.set(reply.body, 3);
      return bytes;
    }
    const message = byteStringToBytes(reply.message);
    if (6 + message.length + 1 > maxSendSize) {
      log(Priority.Err, "Can't send ipc error to client (buffer too small)");
      return undefined;
    }
    const bytes = new Uint8Array(6 + message.length + 1);
    bytes.set(byteStringToBytes("Error\n"));
    bytes.set(message, 6);
    bytes[bytes.length - 1] = NEWLINE;
    return bytes;
  }

  /**
   * Stops accepting, removes the socket file, drops every connection and waits for their
   * tasks. Port of unix_socket_ipc_close() + unix_socket_ipc_destroy(). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        this.#listener.close();
      } catch {
        // already closed
      }
      try {
        Deno.removeSync(this.path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) {
          this.settings.log(Priority.Warning, `Can't close local IPC (${errorText(error)})`);
        }
      }
      await this.#acceptLoop;
      for (const connection of this.#connections) connection.close();
      await Promise.allSettled([...this.#tasks]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
