/**
 * The client side of the local IPC socket: connect, send one request, read to EOF.
 * Port of the socket part of qdevices/corosync-qnetd-tool.c (unix_socket_client_create()).
 *
 * @module
 */
import { strerrorText } from "../core/error_text.ts";
import { fitsSunPath } from "./socket_path.ts";

/** The socket could not be connected; `reason` is the strerror() text the C tool prints. */
export class IpcConnectError extends Error {
  constructor(readonly path: string, readonly reason: string, options?: ErrorOptions) {
    super(`Cannot connect to '${path}': ${reason}`, options);
    this.name = "IpcConnectError";
  }
}

/**
 * A connected IPC socket, for one request. Connecting and sending are separate steps
 * because the C tool connects before it builds its request (a connect error wins).
 */
export class IpcClientConnection implements AsyncDisposable {
  readonly #conn: Deno.UnixConn;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /**
   * Connects to the unix socket at `path` (unix_socket_client_create()).
   *
   * @throws {IpcConnectError} when the socket cannot be connected.
   */
  static async connect(path: string): Promise<IpcClientConnection> {
    if (!fitsSunPath(path)) {
      throw new IpcConnectError(path, "File name too long");
    }
    try {
      return new IpcClientConnection(await Deno.connect({ transport: "unix", path }));
    } catch (error) {
      throw new IpcConnectError(path, strerrorText(error), { cause: error });
    }
  }

  /**
   * Sends `request` and returns every byte the server sends until it closes the
   * connection. A reset after the reply counts as the end, like the C tool's fgetc() loop.
   */
  async exchange(request: Uint8Array): Promise<Uint8Array> {
    let offset = 0;
    while (offset < request.length) offset += await this.#conn.write(request.subarray(offset));
    const parts: Uint8Array[] = [];
    const chunk = new Uint8Array(4096);
    for (;;) {
      let count: number | null;
      try {
        count = await this.#conn.read(chunk);
      } catch {
        break; // reset or error: what arrived is the reply
      }
      if (count === null) break;
      parts.push(chunk.slice(0, count));
    }
    const reply = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
      reply.set(part, at);
      at += part.length;
    }
    return reply;
  }

  /**
   * Sends `request` and yields what the server sends, chunk by chunk, until it closes the
   * connection (or this one is closed): for replies that stream (`events follow`).
   */
  async *stream(request: Uint8Array): AsyncGenerator<Uint8Array> {
    let offset = 0;
    while (offset < request.length) offset += await this.#conn.write(request.subarray(offset));
    const chunk = new Uint8Array(4096);
    for (;;) {
      let count: number | null;
      try {
        count = await this.#conn.read(chunk);
      } catch {
        return; // reset, error or closed by us: the stream ends
      }
      if (count === null) return;
      yield chunk.slice(0, count);
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Connects to `path`, sends `request`, returns the whole reply.
 *
 * @throws {IpcConnectError} when the socket cannot be connected.
 */
export async function ipcRequest(path: string, request: Uint8Array): Promise<Uint8Array> {
  await using connection = await IpcClientConnection.connect(path);
  return await connection.exchange(request);
}
