/**
 * The metrics endpoint: a deliberately small HTTP/1.x server for `GET /metrics` (404 for any
 * other path, 405 for another method), one request per connection. Everything about a
 * scraper is bounded so that it can never hold up the arbiter: the request head (8 KiB), the
 * time a connection may take (read and write, 10 s), and the connections served at once (8,
 * more are closed at accept). The body comes from a {@link MetricsSource} (the daemon renders
 * it once per scrape into a buffer it reuses) and is written as it is, without a copy.
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

/** Where the exposition comes from: bytes held from `acquire()` until `release()`. */
export interface MetricsSource {
  acquire(): Promise<Uint8Array>;
  release(bytes: Uint8Array): void;
}

/** The HTTP server of the metrics endpoint. */
export class MetricsHttpServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #source: MetricsSource;
  readonly #log: Log;
  readonly #open = new Set<Deno.TcpConn>();
  #served: Promise<void> | undefined;
  #closing = false;

  private constructor(listener: Deno.TcpListener, source: MetricsSource, log: Log) {
    this.#listener = listener;
    this.#source = source;
    this.#log = log;
  }

  /** Binds `hostname:port`; serving starts with {@link serve}. */
  static listen(
    options: { hostname: string; port: number; source: MetricsSource; log: Log },
  ): MetricsHttpServer {
    try {
      const listener = Deno.listen({ hostname: options.hostname, port: options.port });
      return new MetricsHttpServer(listener, options.source, options.log);
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
      await this.#respond(conn, head);
    } catch {
      // The scraper went away or timed out: nothing to answer.
    } finally {
      clearTimeout(timer);
      close(conn);
      this.#open.delete(conn);
    }
  }

  /** Answers a request head ("too large" when it did not fit). */
  async #respond(conn: Deno.TcpConn, head: string | "too large"): Promise<void> {
    if (head === "too large") {
      return await writeAll(conn, response(431, "Request Header Fields Too Large\n"));
    }
    const [method = "", target = ""] = head.slice(0, head.indexOf("\r\n")).split(" ");
    const path = target.split("?", 1)[0];
    if (path !== METRICS_PATH) return await writeAll(conn, response(404, "Not Found\n"));
    if (method !== "GET" && method !== "HEAD") {
      return await writeAll(conn, response(405, "Method Not Allowed\n", ["Allow: GET, HEAD"]));
    }
    const body = await this.#source.acquire();
    try {
      await writeAll(conn, responseHead(200, body.length, EXPOSITION_CONTENT_TYPE));
      if (method === "GET") await writeAll(conn, body);
    } finally {
      this.#source.release(body);
    }
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

/** Status line and headers, up to the blank line. */
function responseHead(
  status: number,
  length: number,
  contentType: string,
  headers: readonly string[] = [],
): Uint8Array {
  return encoder.encode(
    [
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`,
      `Content-Type: ${contentType}`,
      `Content-Length: ${length}`,
      "Connection: close",
      ...headers,
      "",
      "",
    ].join("\r\n"),
  );
}

/** A whole short plain-text response. */
function response(status: number, body: string, headers: readonly string[] = []): Uint8Array {
  const bodyBytes = encoder.encode(body);
  const head = responseHead(status, bodyBytes.length, "text/plain; charset=utf-8", headers);
  const out = new Uint8Array(head.length + bodyBytes.length);
  out.set(head);
  out.set(bodyBytes, head.length);
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
