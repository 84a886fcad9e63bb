/**
 * Typed access to the byte captures of the real corosync-qnetd 3.0.3 in `tests/fixtures/vectors`
 * (see tests/fixtures/README.md). Load them at module level (top-level await) so that tests using
 * them can still run with `permissions: "none"`.
 *
 * @module
 */

/** The fixtures directory of the repository: the suite reads nothing outside it. */
export const FIXTURES_DIR = new URL("../fixtures/", import.meta.url);

/** The directory holding the captures of the real daemon. */
export const VECTORS_DIR = new URL("vectors/", FIXTURES_DIR);

/** The verbatim corosync-cmapctl transcripts. */
export const CMAP_TRANSCRIPTS_DIR = new URL("cmap-transcripts/", FIXTURES_DIR);

/** Direction of one captured write. */
export type Direction = "C->S" | "S->C";

/** One write on the connection, or the server closing it (`eof`). */
export interface VectorEvent {
  readonly dir: Direction;
  readonly note: string;
  /** The bytes written; empty for `eof`. */
  readonly bytes: Uint8Array;
  /** True when the capture records the server closing the connection. */
  readonly eof: boolean;
  /** The capture tool's own dump of the message, when there is one. */
  readonly decoded?: string;
}

/** A whole capture: `full_session.json`. */
export interface Session {
  readonly title: string;
  readonly events: readonly VectorEvent[];
}

/** One case of `malformed.json`, each on a fresh connection. */
export interface MalformedCase {
  readonly case: number;
  readonly title: string;
  readonly connectionOpenAfter: boolean;
  readonly events: readonly VectorEvent[];
}

/** Hex string to bytes (whitespace allowed). */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new SyntaxError(`Cannot parse hex string of length ${clean.length}`);
  }
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

/** Bytes to lowercase hex, for readable assertion diffs. */
export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface RawEvent {
  dir: Direction;
  note?: string;
  hex?: string;
  "hex_head"?: string;
  "total_len"?: number;
  decoded?: string;
}

/**
 * Rebuilds an abbreviated 32 KiB message from its head. The only one (malformed case 7)
 * ends in a cluster name of 32750 × "A" (reference §12), so the rest of the message
 * repeats the last byte of the head.
 */
function expand(head: Uint8Array, total: number): Uint8Array {
  const bytes = new Uint8Array(total).fill(head[head.length - 1] ?? 0);
  bytes.set(head);
  return bytes;
}

function toEvent(raw: RawEvent): VectorEvent {
  let bytes: Uint8Array = new Uint8Array(0);
  if (raw.hex !== undefined) bytes = hexToBytes(raw.hex);
  else if (raw.hex_head !== undefined && raw.total_len !== undefined) {
    bytes = expand(hexToBytes(raw.hex_head), raw.total_len);
  }
  const eof = raw.hex === undefined && raw.hex_head === undefined;
  const base = { dir: raw.dir, note: raw.note ?? "", bytes, eof };
  return raw.decoded === undefined ? base : { ...base, decoded: raw.decoded };
}

async function readJson(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(name, VECTORS_DIR)));
}

/** `full_session.json`: one client's whole session (ffsplit, TLS off). */
export async function loadFullSession(): Promise<Session> {
  const raw = await readJson("full_session.json") as { title: string; events: RawEvent[] };
  return { title: raw.title, events: raw.events.map(toEvent) };
}

/** `malformed.json`: the edge and error cases, in case-number order. */
export async function loadMalformed(): Promise<MalformedCase[]> {
  const raw = await readJson("malformed.json") as {
    case: number;
    title: string;
    connection_open_after: boolean;
    events: RawEvent[];
  }[];
  return raw.map((c) => ({
    case: c.case,
    title: c.title,
    connectionOpenAfter: c.connection_open_after,
    events: c.events.map(toEvent),
  }));
}
