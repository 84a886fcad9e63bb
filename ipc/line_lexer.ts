/**
 * The request line of the local IPC socket: the C tokenizer and the parsing of the qnetd
 * commands (`status`, `list`, `shutdown`, and our own `json` prefix).
 *
 * Everything here works on bytes, as the C daemon does: a request may hold any byte, and
 * what the daemon echoes back (`Unknown command '<word>'`) is the raw bytes. Where a string
 * is needed, bytes are mapped one to one onto the code points 0..255 ("byte strings"), so
 * no information is lost and nothing depends on an encoding.
 *
 * Pure: no I/O, no timers.
 *
 * @module
 */
import { bytesToByteString } from "../core/byte_string.ts";

/** `Error` reply texts of the C daemon (qnetd_ipc_parse_line() in qdevices/qnetd-ipc.c). */
export const IpcErrorText = {
  noCommand: "No command specified",
  commandTooLong: "Command too long",
  unknownCommand: (word: string): string => `Unknown command '${word}'`,
} as const;

/** The tokenizer's whitespace (locale independent, as dynar_simple_lex_is_space()). */
function isSpace(byte: number): boolean {
  // ' ', \f, \n, \r, \t, \v
  return byte === 0x20 || byte === 0x0c || byte === 0x0a || byte === 0x0d || byte === 0x09 ||
    byte === 0x0b;
}

function isLineEnd(byte: number): boolean {
  return byte === 0x0a || byte === 0x0d;
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/** Lexer states, named after what dynar_simple_lex_token_next() is doing in each. */
const State = {
  Done: 0,
  SkipSpace: 1,
  Word: 2,
  WordBackslash: 3,
  Quoted: 4,
  QuotedBackslash: 5,
} as const;
type State = typeof State[keyof typeof State];

/** Raised when a token does not fit the token buffer (the C lexer's allocation failure). */
export class TokenTooLongError extends RangeError {
  constructor(readonly limit: number) {
    super(`Cannot store a token longer than ${limit - 1} bytes`);
    this.name = "TokenTooLongError";
  }
}

/**
 * Splits the first line of `input` into tokens.
 *
 * Port of dynar_simple_lex_token_next() in qdevices/dynar-simple-lex.c (quote mode):
 * - whitespace is space, \f, \n, \r, \t, \v; a \n or \r between tokens ends the line;
 * - outside quotes, `\x` is `x`; a backslash at the end of the line is dropped;
 * - `"..."` quotes may sit anywhere in a word (`st"at"us` is `status`); inside them `\\` and
 *   `\"` are `\` and `"`, any other `\x` stays `\x`, and a line end closes the quote;
 * - an empty pair of quotes gives an empty token, which is kept (the C parser treats it as
 *   the end of the arguments).
 *
 * `maxTokenSize` is the C token buffer (the receive buffer's maximum, NUL included); a longer
 * token raises {@link TokenTooLongError}, answered with "Command too long".
 *
 * @example
 * ```ts
 * const words = tokenize(new TextEncoder().encode('list cluster "a b"\n'));
 * // three tokens: list, cluster, a b
 * ```
 */
export function tokenize(input: Uint8Array, maxTokenSize = Infinity): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    const token: number[] = [];
    const add = (byte: number): void => {
      // +1: the C token is NUL-terminated inside the same buffer.
      if (token.length + 1 + 1 > maxTokenSize) throw new TokenTooLongError(maxTokenSize);
      token.push(byte);
    };
    let state: State = State.SkipSpace;
    let lineEnded = false;
    while (state !== State.Done) {
      const atEnd = pos >= input.length;
      const byte = atEnd ? 0 : input[pos]!;
      switch (state) {
        case State.SkipSpace:
          if (atEnd || isLineEnd(byte)) {
            lineEnded = true;
            state = State.Done;
          } else if (isSpace(byte)) pos++;
          else state = State.Word;
          break;
        case State.Word:
          if (atEnd || isSpace(byte)) state = State.Done;
          else if (byte === BACKSLASH) {
            pos++;
            state = State.WordBackslash;
          } else if (byte === QUOTE) {
            pos++;
            state = State.Quoted;
          } else {
            add(byte);
            pos++;
          }
          break;
        case State.WordBackslash:
          if (atEnd || isLineEnd(byte)) state = State.Done;
          else {
            add(byte);
            pos++;
            state = State.Word;
          }
          break;
        case State.Quoted:
          if (atEnd || isLineEnd(byte)) state = State.Done;
          else if (byte === BACKSLASH) {
            pos++;
            state = State.QuotedBackslash;
          } else if (byte === QUOTE) {
            pos++;
            state = State.Word;
          } else {
            add(byte);
            pos++;
          }
          break;
        case State.QuotedBackslash:
          if (atEnd || isLineEnd(byte)) state = State.Done;
          else {
            if (byte !== BACKSLASH && byte !== QUOTE) add(BACKSLASH);
            add(byte);
            pos++;
            state = State.Quoted;
          }
          break;
      }
    }
    if (lineEnded) return tokens;
    tokens.push(Uint8Array.from(token));
  }
}

/**
 * The token as the C code sees it: a C string, so cut at its first NUL byte. The C parser
 * compares and prints tokens with str*() functions, so `stat\0us` is the word `stat`.
 */
export function cString(token: Uint8Array): Uint8Array {
  const nul = token.indexOf(0);
  return nul < 0 ? token : token.subarray(0, nul);
}

/** ASCII-only case folding, as strcasecmp() in the C locale. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** strcasecmp(token, word) === 0 for a token in C-string form and an ASCII word. */
export function tokenIs(token: Uint8Array, word: string): boolean {
  return asciiLower(bytesToByteString(cString(token))) === word;
}

/** `status [verbose]`: any other second word is ignored, as in C. */
export interface StatusCommand {
  readonly name: "status";
  readonly verbose: boolean;
  /** Our extension (`json status ...`): the C daemon answers it with "Unknown command 'json'". */
  readonly json: boolean;
}

/** `list [verbose] [cluster NAME]...`: the last `cluster` wins; parsing stops at an unknown word. */
export interface ListCommand {
  readonly name: "list";
  readonly verbose: boolean;
  /** Filter in C-string form; absent or empty means every cluster. */
  readonly cluster?: Uint8Array;
  readonly json: boolean;
}

/** `shutdown`: reply OK, then stop the daemon. */
export interface ShutdownCommand {
  readonly name: "shutdown";
}

export type QnetdCommand = StatusCommand | ListCommand | ShutdownCommand;

/** Outcome of parsing a request line: a command, or the text of the `Error` reply. */
export type ParseResult =
  | { readonly ok: true; readonly command: QnetdCommand }
  | { readonly ok: false; readonly message: string };

/** Arguments of `status` (tokens after the command word). */
export function parseStatusArgs(args: readonly Uint8Array[], json = false): StatusCommand {
  const first = args[0];
  return { name: "status", verbose: first !== undefined && tokenIs(first, "verbose"), json };
}

/** Arguments of `list`, as the loop in qnetd_ipc_parse_line(). */
export function parseListArgs(args: readonly Uint8Array[], json = false): ListCommand {
  let verbose = false;
  let cluster: Uint8Array | undefined;
  for (let i = 0; i < args.length; i++) {
    const word = cString(args[i]!);
    if (word.length === 0) break;
    if (tokenIs(word, "verbose")) verbose = true;
    else if (tokenIs(word, "cluster")) {
      // A missing name is the lexer's empty end-of-line token: "no filter".
      cluster = cString(args[++i] ?? new Uint8Array());
    } else break;
  }
  return cluster === undefined ? { name: "list", verbose, json } : {
    name: "list",
    verbose,
    cluster,
    json,
  };
}

/**
 * Parses a tokenized request line into a qnetd command. Port of qnetd_ipc_parse_line() in
 * qdevices/qnetd-ipc.c, plus the `json` prefix (`json status [verbose]`, `json list ...`)
 * which only our daemon knows.
 */
export function parseQnetdCommand(tokens: readonly Uint8Array[]): ParseResult {
  const first = cString(tokens[0] ?? new Uint8Array());
  const args = tokens.slice(1);
  if (first.length === 0) return { ok: false, message: IpcErrorText.noCommand };
  if (tokenIs(first, "shutdown")) return { ok: true, command: { name: "shutdown" } };
  if (tokenIs(first, "status")) return { ok: true, command: parseStatusArgs(args) };
  if (tokenIs(first, "list")) return { ok: true, command: parseListArgs(args) };
  if (tokenIs(first, "json")) {
    const sub = cString(args[0] ?? new Uint8Array());
    if (tokenIs(sub, "status")) return { ok: true, command: parseStatusArgs(args.slice(1), true) };
    if (tokenIs(sub, "list")) return { ok: true, command: parseListArgs(args.slice(1), true) };
    return {
      ok: false,
      message: IpcErrorText.unknownCommand(`json ${bytesToByteString(sub)}`),
    };
  }
  return { ok: false, message: IpcErrorText.unknownCommand(bytesToByteString(first)) };
}
