/**
 * Text encoding of {@link CmapBackend} calls for the daemon's local socket, to fit its framing
 * (one request line per connection; reply `OK\n<body>` or `Error\n<message>\n`). This is our own
 * protocol, not libcmap's: corosync's shared-memory transport cannot be spoken from Deno (see
 * reference/cmap.md section 5).
 *
 * Request: `cmap <map> <op> <tokens...>\n` where map is `icmap` or `stats` and op one of
 *
 * | op | tokens | OK body |
 * |---|---|---|
 * | get | KEY | `TYPE VALUE\n` |
 * | set | KEY TYPE VALUE | empty |
 * | delete | KEY | empty |
 * | iter | PREFIX | `KEY TYPE VALUE\n` per key, in key order |
 * | load | (`set` KEY TYPE VALUE \| `delete` KEY \| `deleteprefix` PREFIX)... | `KEY CODE\n` per failed delete |
 * | track | FLAGS NAME... | long-lived: one notification line per change until either side closes |
 *
 * A notification line is `EVENT KEY NEWTYPE NEWVALUE OLDTYPE OLDVALUE` with EVENT `add`,
 * `modify` or `delete`, and `-` / `%` for an absent value's type / value.
 *
 * An error message is `CODE NAME` (`12 CS_ERR_NOT_EXIST`), plus the failing step's index for
 * `load` (`11 CS_ERR_ACCESS 3`).
 *
 * Tokens: every byte outside `A-Z a-z 0-9 . _ - / :` is percent-encoded (`%20`, `%0A`, the
 * UTF-8 bytes of non-ASCII text), and the empty string is a lone `%`. So a token never holds
 * spaces, quotes, backslashes or newlines, and the qnetd IPC lexer passes it through unchanged.
 * Values: integers in decimal, flt/dbl as the shortest JS text that reads back to the same
 * number (`-0`, `NaN`, `Infinity`), str as its UTF-8 bytes, bin as its bytes.
 *
 * @module
 */
import type { CmapBackend, CmapMapName, LoadFailure, LoadOp } from "../core/cmap/backend.ts";
import {
  CmapError,
  CmapLoadError,
  CsError,
  csErrorFromName,
  csStrerror,
} from "../core/cmap/errors.ts";
import type { CmapEntry } from "../core/cmap/store.ts";
import { TrackFlag, type TrackNotification } from "../core/cmap/track.ts";
import { type CmapValue, isValueTypeName, valueProblem } from "../core/cmap/value.ts";

/** A decoded request. */
export type CmapRequest =
  & { readonly map: CmapMapName }
  & (
    | { readonly op: "get" | "delete"; readonly key: string }
    | { readonly op: "set"; readonly key: string; readonly value: CmapValue }
    | { readonly op: "iter"; readonly prefix: string }
    | { readonly op: "load"; readonly ops: readonly LoadOp[] }
    | { readonly op: "track"; readonly flags: number; readonly names: readonly string[] }
  );

/** Text that does not follow this protocol. */
export class CmapProtocolError extends SyntaxError {
  override name = "CmapProtocolError";
}

/** The first token of every cmap request. */
export const CMAP_COMMAND = "cmap";

const SAFE_BYTE = /[A-Za-z0-9._\-/:]/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Percent-encodes bytes or a string's UTF-8 bytes; the empty string is `%`. */
export function encodeToken(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  if (bytes.length === 0) return "%";
  let out = "";
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE_BYTE.test(c)
      ? c
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The bytes of a token made by {@link encodeToken}. */
export function decodeTokenBytes(token: string): Uint8Array {
  if (token === "%") return new Uint8Array(0);
  const out: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if (c === "%") {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new CmapProtocolError(`Bad escape in ${token}`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (SAFE_BYTE.test(c)) out.push(c.charCodeAt(0));
    else throw new CmapProtocolError(`Unexpected character in ${token}`);
  }
  return Uint8Array.from(out);
}

/** The string of a token made by {@link encodeToken}. */
export function decodeToken(token: string): string {
  try {
    return decoder.decode(decodeTokenBytes(token));
  } catch (error) {
    if (error instanceof CmapProtocolError) throw error;
    throw new CmapProtocolError(`Token ${token} is not UTF-8`, { cause: error });
  }
}

/** `TYPE VALUE` for a value. */
export function encodeValue(value: CmapValue): string {
  switch (value.type) {
    case "str":
    case "bin":
      return `${value.type} ${encodeToken(value.value)}`;
    case "flt":
    case "dbl":
      return `${value.type} ${Object.is(value.value, -0) ? "-0" : String(value.value)}`;
    default:
      return `${value.type} ${value.value}`;
  }
}

/** The value of `TYPE VALUE` tokens; checks it as the store would. */
export function decodeValue(type: string | undefined, token: string | undefined): CmapValue {
  if (type === undefined || token === undefined) throw new CmapProtocolError("Missing value");
  if (!isValueTypeName(type)) throw new CmapProtocolError(`Unknown type ${type}`);
  let value: CmapValue;
  if (type === "str") value = { type, value: decodeToken(token) };
  else if (type === "bin") value = { type, value: decodeTokenBytes(token) };
  else if (type === "flt" || type === "dbl") {
    if (!/^(-?(\d+(\.\d+)?(e[+-]\d+)?|Infinity)|NaN)$/.test(token)) {
      throw new CmapProtocolError(`Bad ${type} value ${token}`);
    }
    value = { type, value: Number(token) };
  } else {
    if (!/^-?\d+$/.test(token)) throw new CmapProtocolError(`Bad ${type} value ${token}`);
    value = type === "i64" || type === "u64"
      ? { type, value: BigInt(token) }
      : { type, value: Number(token) };
  }
  const problem = valueProblem(value);
  // Over-long values are the store's to refuse (CS_ERR_INVALID_PARAM), not a syntax error.
  if (problem !== undefined && !problem.startsWith("longer")) {
    throw new CmapProtocolError(`Bad ${type} value ${token}: ${problem}`);
  }
  return value;
}

function encodeLoadOp(op: LoadOp): string {
  switch (op.op) {
    case "set":
      return `set ${encodeToken(op.key)} ${encodeValue(op.value)}`;
    case "delete":
      return `delete ${encodeToken(op.key)}`;
    case "deletePrefix":
      return `deleteprefix ${encodeToken(op.prefix)}`;
  }
}

/** The request line, newline included. */
export function encodeRequest(request: CmapRequest): string {
  const head = `${CMAP_COMMAND} ${request.map} ${request.op}`;
  switch (request.op) {
    case "get":
    case "delete":
      return `${head} ${encodeToken(request.key)}\n`;
    case "set":
      return `${head} ${encodeToken(request.key)} ${encodeValue(request.value)}\n`;
    case "iter":
      return `${head} ${encodeToken(request.prefix)}\n`;
    case "load":
      return [head, ...request.ops.map(encodeLoadOp)].join(" ") + "\n";
    case "track":
      return [head, String(request.flags), ...request.names.map(encodeToken)].join(" ") + "\n";
  }
}

/** Splits a request line made by {@link encodeRequest} into its tokens. */
export function splitRequestLine(line: string): string[] {
  return line.replace(/\r?\n$/, "").split(" ").filter((t) => t !== "");
}

function exactly(tokens: readonly string[], count: number): void {
  if (tokens.length !== count) {
    throw new CmapProtocolError(`Expected ${count} tokens, got ${tokens.length}`);
  }
}

/** A request from its tokens (as the IPC lexer splits the line), `cmap` included. */
export function decodeRequest(tokens: readonly string[]): CmapRequest {
  const [command, map, op, ...rest] = tokens;
  if (command !== CMAP_COMMAND) throw new CmapProtocolError("Not a cmap request");
  if (map !== "icmap" && map !== "stats") throw new CmapProtocolError(`Unknown map ${map}`);
  switch (op) {
    case "get":
    case "delete":
      exactly(rest, 1);
      return { map, op, key: decodeToken(rest[0]!) };
    case "set":
      exactly(rest, 3);
      return { map, op, key: decodeToken(rest[0]!), value: decodeValue(rest[1], rest[2]) };
    case "iter":
      exactly(rest, 1);
      return { map, op, prefix: decodeToken(rest[0]!) };
    case "load": {
      const ops: LoadOp[] = [];
      for (let i = 0; i < rest.length;) {
        const kind = rest[i];
        const name = rest[i + 1];
        if (name === undefined) throw new CmapProtocolError(`Incomplete load step ${kind}`);
        if (kind === "set") {
          ops.push({
            op: "set",
            key: decodeToken(name),
            value: decodeValue(rest[i + 2], rest[i + 3]),
          });
          i += 4;
        } else if (kind === "delete") {
          ops.push({ op: "delete", key: decodeToken(name) });
          i += 2;
        } else if (kind === "deleteprefix") {
          ops.push({ op: "deletePrefix", prefix: decodeToken(name) });
          i += 2;
        } else throw new CmapProtocolError(`Unknown load step ${kind}`);
      }
      return { map, op, ops };
    }
    case "track": {
      const [flags, ...names] = rest;
      if (flags === undefined || !/^\d{1,10}$/.test(flags)) {
        throw new CmapProtocolError(`Bad track flags ${flags}`);
      }
      return { map, op, flags: Number(flags), names: names.map(decodeToken) };
    }
    default:
      throw new CmapProtocolError(`Unknown cmap operation ${op}`);
  }
}

/** The message of an `Error` reply for `error`. */
export function encodeErrorMessage(error: CmapError): string {
  const base = `${error.code} ${csStrerror(error.code)}`;
  return error instanceof CmapLoadError ? `${base} ${error.index}` : base;
}

/** The CmapError of an `Error` reply's message (other messages become CS_ERR_LIBRARY). */
export function decodeErrorMessage(message: string): CmapError {
  const match = /^(\d+) (\S+)(?: (\d+))?$/.exec(message.trim());
  const code = match === null ? undefined : Number(match[1]);
  if (match === null || code === undefined || csErrorFromName(match[2]!) !== code) {
    return new CmapError(CsError.Library, `Unexpected error reply: ${message.trim()}`);
  }
  return match[3] === undefined
    ? new CmapError(code as CsError)
    : new CmapLoadError(Number(match[3]), code as CsError);
}

/** `KEY TYPE VALUE\n` lines for iter. */
export function encodeEntries(entries: readonly CmapEntry[]): string {
  return entries.map((e) => `${encodeToken(e.key)} ${encodeValue(e.value)}\n`).join("");
}

function bodyLines(body: string): string[][] {
  return body.split("\n").filter((l) => l !== "").map((l) => l.split(" "));
}

/** The entries of an iter reply body. */
export function decodeEntries(body: string): CmapEntry[] {
  return bodyLines(body).map((t) => {
    exactly(t, 3);
    return { key: decodeToken(t[0]!), value: decodeValue(t[1], t[2]) };
  });
}

/** The value of a get reply body. */
export function decodeGetBody(body: string): CmapValue {
  const lines = bodyLines(body);
  if (lines.length !== 1) throw new CmapProtocolError("Expected one value");
  exactly(lines[0]!, 2);
  return decodeValue(lines[0]![0], lines[0]![1]);
}

/** `KEY CODE\n` lines for the failed deletes of a load. */
export function encodeLoadFailures(failures: readonly LoadFailure[]): string {
  return failures.map((f) => `${encodeToken(f.key)} ${f.error.code}\n`).join("");
}

/** The failed deletes of a load reply body. */
export function decodeLoadFailures(body: string): LoadFailure[] {
  return bodyLines(body).map((t) => {
    exactly(t, 2);
    return { key: decodeToken(t[0]!), error: new CmapError(Number(t[1]) as CsError) };
  });
}

const EVENT_NAMES = new Map<number, string>([
  [TrackFlag.Add, "add"],
  [TrackFlag.Modify, "modify"],
  [TrackFlag.Delete, "delete"],
]);

/** One notification line, newline included. */
export function encodeNotification(n: TrackNotification): string {
  const value = (v: CmapValue | undefined) => v === undefined ? "- %" : encodeValue(v);
  return `${EVENT_NAMES.get(n.event)} ${encodeToken(n.key)} ${value(n.newValue)} ${
    value(n.oldValue)
  }\n`;
}

/** The notification of one line (without its newline). */
export function decodeNotification(line: string): TrackNotification {
  const t = line.split(" ");
  exactly(t, 6);
  const event = [...EVENT_NAMES].find(([, name]) => name === t[0])?.[0];
  if (event === undefined) throw new CmapProtocolError(`Unknown event ${t[0]}`);
  const value = (type: string, token: string) =>
    type === "-" && token === "%" ? undefined : decodeValue(type, token);
  const newValue = value(t[2]!, t[3]!);
  const oldValue = value(t[4]!, t[5]!);
  return {
    event: event as TrackNotification["event"],
    key: decodeToken(t[1]!),
    ...(newValue === undefined ? {} : { newValue }),
    ...(oldValue === undefined ? {} : { oldValue }),
  };
}

/**
 * Serves a non-track request with `backend`: the body of the `OK` reply, or the CmapError
 * whose {@link encodeErrorMessage} is the `Error` reply. Track requests need a streaming
 * writer: use `backend.track()` and {@link encodeNotification} directly.
 */
export async function executeRequest(backend: CmapBackend, request: CmapRequest): Promise<string> {
  switch (request.op) {
    case "get":
      return `${encodeValue(await backend.get(request.key))}\n`;
    case "set":
      await backend.set(request.key, request.value);
      return "";
    case "delete":
      await backend.delete(request.key);
      return "";
    case "iter":
      return encodeEntries(await backend.iter(request.prefix));
    case "load":
      return encodeLoadFailures(await backend.load(request.ops));
    case "track":
      throw new CmapError(CsError.InvalidParam, "track requests stream, see the module doc");
  }
}
