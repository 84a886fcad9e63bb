/**
 * The client side of the daemon's cmap: a {@link CmapBackend} over the local IPC socket,
 * one connection per call (the socket takes one request line per connection), plus a
 * long-lived connection per tracker. What libcmap is to corosync-cmapctl.
 *
 * @module
 */
import type {
  CmapBackend,
  CmapConnect,
  CmapMapName,
  CmapTracker,
  LoadFailure,
  LoadOp,
} from "../core/cmap/backend.ts";
import { CmapError, CsError } from "../core/cmap/errors.ts";
import type { CmapEntry } from "../core/cmap/store.ts";
import type { TrackNotification } from "../core/cmap/track.ts";
import type { CmapValue } from "../core/cmap/value.ts";
import { IpcClientConnection, IpcConnectError } from "./client.ts";
import {
  type CmapRequest,
  decodeEntries,
  decodeErrorMessage,
  decodeGetBody,
  decodeLoadFailures,
  decodeNotification,
  encodeRequest,
} from "./cmap_protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function lost(cause: unknown): CmapError {
  return new CmapError(CsError.Library, "Connection to the daemon failed", { cause });
}

async function connect(path: string): Promise<IpcClientConnection> {
  try {
    return await IpcClientConnection.connect(path);
  } catch (error) {
    if (error instanceof IpcConnectError) throw lost(error);
    throw error;
  }
}

/** The body of an `OK` reply, or the CmapError of an `Error` reply. */
function replyBody(reply: string): string {
  if (reply.startsWith("OK\n")) return reply.slice(3);
  if (reply.startsWith("Error\n")) throw decodeErrorMessage(reply.slice(6));
  throw new CmapError(CsError.Library, "The daemon sent no reply");
}

/** Reads lines from a stream connection. */
class LineReader {
  readonly #conn: Deno.UnixConn;
  #buffer = "";
  readonly #chunk = new Uint8Array(16384);

  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** The next line without its newline; null at EOF. */
  async next(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      let count: number | null;
      try {
        count = await this.#conn.read(this.#chunk);
      } catch {
        count = null;
      }
      if (count === null) return null;
      this.#buffer += decoder.decode(this.#chunk.subarray(0, count), { stream: true });
    }
  }
}

/** A tracking stream over its own connection. */
class IpcTracker implements CmapTracker {
  readonly #conn: Deno.UnixConn;
  readonly #lines: LineReader;
  #closed = false;

  constructor(conn: Deno.UnixConn, lines: LineReader) {
    this.#conn = conn;
    this.#lines = lines;
  }

  get events(): AsyncIterable<TrackNotification> {
    return { [Symbol.asyncIterator]: () => this.#stream() };
  }

  async *#stream(): AsyncGenerator<TrackNotification> {
    for (;;) {
      const line = await this.#lines.next();
      if (line === null) {
        if (this.#closed) return;
        throw new CmapError(CsError.Library, "Connection to the daemon was lost");
      }
      yield decodeNotification(line);
    }
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A {@link CmapBackend} that talks to the daemon listening on `path`. */
export class IpcCmapBackend implements CmapBackend {
  readonly #path: string;
  readonly #map: CmapMapName;
  readonly #trackers = new Set<IpcTracker>();

  constructor(path: string, map: CmapMapName) {
    this.#path = path;
    this.#map = map;
  }

  async #call(request: CmapRequest): Promise<string> {
    await using conn = await connect(this.#path);
    let reply: Uint8Array;
    try {
      reply = await conn.exchange(encoder.encode(encodeRequest(request)));
    } catch (error) {
      throw lost(error);
    }
    return replyBody(decoder.decode(reply));
  }

  async get(key: string): Promise<CmapValue> {
    return decodeGetBody(await this.#call({ map: this.#map, op: "get", key }));
  }

  async set(key: string, value: CmapValue): Promise<void> {
    await this.#call({ map: this.#map, op: "set", key, value });
  }

  async delete(key: string): Promise<void> {
    await this.#call({ map: this.#map, op: "delete", key });
  }

  async iter(prefix: string): Promise<CmapEntry[]> {
    return decodeEntries(await this.#call({ map: this.#map, op: "iter", prefix }));
  }

  async load(ops: readonly LoadOp[]): Promise<LoadFailure[]> {
    return decodeLoadFailures(await this.#call({ map: this.#map, op: "load", ops }));
  }

  async track(names: readonly string[], flags: number): Promise<CmapTracker> {
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path: this.#path });
    } catch (error) {
      throw lost(error);
    }
    try {
      const bytes = encoder.encode(
        encodeRequest({ map: this.#map, op: "track", flags, names }),
      );
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      const lines = new LineReader(conn);
      const status = await lines.next();
      if (status === "Error") throw decodeErrorMessage((await lines.next()) ?? "");
      if (status !== "OK") throw new CmapError(CsError.Library, "The daemon sent no reply");
      const tracker = new IpcTracker(conn, lines);
      this.#trackers.add(tracker);
      return tracker;
    } catch (error) {
      conn.close();
      if (error instanceof CmapError) throw error;
      throw lost(error);
    }
  }

  async close(): Promise<void> {
    for (const tracker of this.#trackers) await tracker.close();
    this.#trackers.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A {@link CmapConnect} for the daemon's socket at `path`: checks that the daemon answers
 * (CS_ERR_LIBRARY if not, as libcmap when corosync is not running).
 */
export function ipcCmapConnect(path: string): CmapConnect {
  return async (map) => {
    (await connect(path)).close();
    return new IpcCmapBackend(path, map);
  };
}
