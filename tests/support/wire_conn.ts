/**
 * A raw TCP client for protocol tests: write bytes, read exactly N bytes or EOF, with a bound
 * on every wait so a broken daemon fails the test instead of hanging it.
 *
 * @module
 */

/** How long any single read may wait before the test fails. */
export const READ_TIMEOUT_MS = 10_000;

/** What a bounded read produced. */
export type ReadResult = { kind: "data"; bytes: Uint8Array } | { kind: "eof" } | {
  kind: "timeout";
  bytes: Uint8Array;
};

/** A connected test client with an internal buffer. */
export class WireConn implements Disposable {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  #eof = false;
  #pending: Promise<number | null> | undefined;
  readonly #chunk = new Uint8Array(65536);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `hostname:port`; `noDelay` sends each write at once (no Nagle). */
  static async connect(port: number, hostname = "127.0.0.1", noDelay = false): Promise<WireConn> {
    const conn = await Deno.connect({ hostname, port });
    if (noDelay) conn.setNoDelay(true);
    return new WireConn(conn);
  }

  /** The local port of the connection (as the daemon lists the client). */
  get localPort(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) rest = rest.subarray(await this.#conn.write(rest));
  }

  /** Reads exactly `n` bytes, or reports EOF / timeout with what arrived. */
  async readExactly(n: number, timeoutMs = READ_TIMEOUT_MS): Promise<ReadResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffer.length < n) {
      if (this.#eof) return { kind: "eof" };
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.#fill(left))) {
        if (this.#eof) return { kind: "eof" };
        return { kind: "timeout", bytes: this.#buffer.slice() };
      }
    }
    const bytes = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return { kind: "data", bytes };
  }

  /** Reads one whole QNet message (6-byte header + body). */
  async readMessage(timeoutMs = READ_TIMEOUT_MS): Promise<ReadResult> {
    const header = await this.readExactly(6, timeoutMs);
    if (header.kind !== "data") return header;
    const len = new DataView(header.bytes.buffer).getUint32(2);
    const body = await this.readExactly(len, timeoutMs);
    if (body.kind !== "data") return body;
    const whole = new Uint8Array(6 + len);
    whole.set(header.bytes);
    whole.set(body.bytes, 6);
    return { kind: "data", bytes: whole };
  }

  /** Waits for EOF (the server closed), returning false if data or the timeout came first. */
  async expectEof(timeoutMs = READ_TIMEOUT_MS): Promise<boolean> {
    const r = await this.readExactly(1, timeoutMs);
    return r.kind === "eof";
  }

  /** Fills the buffer; false when the wait timed out. */
  async #fill(timeoutMs: number): Promise<boolean> {
    this.#pending ??= this.#conn.read(this.#chunk).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const n = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (n === "timeout") return false;
    this.#pending = undefined;
    if (n === null) {
      this.#eof = true;
      return true;
    }
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(this.#chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }
}
