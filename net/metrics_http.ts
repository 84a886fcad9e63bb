/**
 * The metrics endpoint: a deliberately small HTTP/1.x server for `GET /metrics` (404 for any
 * other path, 405 for another method), one request per connection. Everything about a
 * scraper is bounded so that it can never hold up the arbiter: the request head (8 KiB), the
 * time a connection may take (read and write, 10 s), and the connections served at once (8,
 * more are closed at accept). The body is made synchronously by `render()` (the daemon
 * caches it per scrape) and written asynchronously like any other socket write.
 *
 * @module
 */
import { type Log, Priority } from "../core/log.ts";
import { errorText } from "../core/error_text.ts";
import { EXPOSITION_CONTENT_TYPE } from "../core/metrics/exposition.ts";

/** Longest request head read; a longer one gets 431 and the connection is closed. */
export const MAX_REQUEST_HEAD = 8192;
/** A connection is closed after this long, whatever it is doing. */
export const CONNECTION_TIMEOUT_MS = 10_000;
/** Connections served at once; more are closed at accept. */
export const MAX_CONNECTIONS = 8;
/** The one path served. */
export const METRICS_PATH = "/metrics";

/** Thrown when the endpoint cannot listen; carries the address. */
export class MetricsListenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MetricsListenError";
  }
}

const encoder = new TextEncoder();
const HEAD_END = encoder.encode("\r\n\r\n");

/** The HTTP server of the metrics endpoint. */
export class MetricsHttpServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #render: () => string;
  readonly #log: Log;
  readonly #open = new Set<Deno.TcpConn>();
  #served: Promise<void> | undefined;
  #closing = false;

  private constructor(listener: Deno.TcpListener, render: () => string, log: Log) {
    this.#listener = listener;
    this.#render = render;
    this.#log = log;
  }

  /** Binds `hostname:port`; serving starts with {@link serve}. */
  static listen(
    options: { hostname: string; port: number; render: () => string; log: Log },
  ): MetricsHttpServer {
    try {
      const listener = Deno.listen({ hostname: options.hostname, port: options.port });
      return new MetricsHttpServer(listener, options.render, options.log);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new MetricsListenError(
        `Can't create metrics listening socket on ${options.hostname}:${options.port}: ${
          errorText(error)
        }`,
        { cause: error },
      );
    }
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Accepts scrapers until {@link close}. */
  serve(): Promise<void> {
    this.#served ??= this.#acceptLoop();
    return this.#served;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) return;
        this.#log(Priority.Err, `Can't accept metrics connection: ${errorText(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#open.size >= MAX_CONNECTIONS) {
        conn.close();
        continue;
      }
      void this.#handle(conn);
    }
  }

  async #handle(conn: Deno.TcpConn): Promise<void> {
    this.#open.add(conn);
    const timer = setTimeout(() => close(conn), CONNECTION_TIMEOUT_MS);
    try {
      const head = await readHead(conn);
      if (head === undefined) return;
      await writeAll(conn, this.#respond(head));
    } catch {
      // The scraper went away or timed out: nothing to answer.
    } finally {
      clearTimeout(timer);
      close(conn);
      this.#open.delete(conn);
    }
  }

  /** The whole response for a request head ("too large" when it did not fit). */
  #respond(head: string | "too large"): Uint8Array {
    if (head === "too large") return response(431, "Request Header Fields Too Large\n");
    const [method = "", target = ""] = head.slice(0, head.indexOf("\r\n")).split(" ");
    const path = target.split("?", 1)[0];
    if (path !== METRICS_PATH) return response(404, "Not Found\n");
    if (method !== "GET" && method !== "HEAD") {
      return response(405, "Method Not Allowed\n", ["Allow: GET, HEAD"]);
    }
    const body = this.#render();
    return response(200, method === "HEAD" ? undefined : body, [], EXPOSITION_CONTENT_TYPE, body);
  }

  /** Stops accepting and closes every open scrape. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    close(this.#listener);
    for (const conn of this.#open) close(conn);
    await this.#served;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Reads up to the blank line ending the request head; undefined on EOF first. */
async function readHead(conn: Deno.TcpConn): Promise<string | "too large" | undefined> {
  const buffer = new Uint8Array(MAX_REQUEST_HEAD);
  let used = 0;
  while (used < buffer.length) {
    const n = await conn.read(buffer.subarray(used));
    if (n === null) return undefined;
    const from = Math.max(0, used - HEAD_END.length + 1);
    used += n;
    const end = indexOf(buffer.subarray(0, used), HEAD_END, from);
    if (end >= 0) return new TextDecoder("latin1").decode(buffer.subarray(0, end));
  }
  return "too large";
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
};

/**
 * Status line, headers and body. `lengthOf` is the body a HEAD answer stands for (its
 * Content-Length), when it differs from `body`.
 */
function response(
  status: number,
  body: string | undefined,
  headers: string[] = [],
  contentType = "text/plain; charset=utf-8",
  lengthOf: string | undefined = body,
): Uint8Array {
  const bodyBytes = encoder.encode(body ?? "");
  const length = lengthOf === body ? bodyBytes.length : encoder.encode(lengthOf ?? "").length;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${length}`,
    "Connection: close",
    ...headers,
    "",
    "",
  ].join("\r\n");
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + bodyBytes.length);
  out.set(headBytes);
  out.set(bodyBytes, headBytes.length);
  return out;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

function close(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}
