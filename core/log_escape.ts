/**
 * Control characters in text log lines, escaped. A cluster name is whatever bytes a client
 * sent in PREINIT, before any authentication; printed raw, a name holding a newline would
 * forge whole log lines, and an escape sequence would drive the terminal of whoever reads the
 * log. The C daemon prints them raw; ours writes each C0/C1 control character, DEL and the
 * Unicode line and paragraph separators as `\xNN` / `\uNNNN`, and leaves every other character
 * (backslashes included) as it is, so a line without control characters is byte-identical to
 * C's. Applied once, where a text log line is formatted (cli/logging.ts); JSON logs escape by
 * construction, and qnetd-tool's output is not a log and stays as C prints it.
 *
 * @module
 */

/** C0 and C1 controls, DEL, U+2028 and U+2029. */
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
/** Code points that fit `\xNN`. */
const BYTE_LIMIT = 0x100;

function escape(char: string): string {
  const point = char.codePointAt(0)!;
  return point < BYTE_LIMIT
    ? `\\x${point.toString(16).padStart(2, "0")}`
    : `\\u${point.toString(16).padStart(4, "0")}`;
}

/** `text` with its control characters escaped (see the module doc). */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, escape);
}
