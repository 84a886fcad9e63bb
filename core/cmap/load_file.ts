/**
 * The `corosync-cmapctl -p FILE` format (read_in_config_file() in corosync
 * `tools/corosync-cmapctl.c`):
 *
 * ```
 * # comment (first non-blank character)
 * key type value [ignored...]
 * ^key [ignored...]        delete one key
 * ^^prefix [ignored...]    delete every key starting with prefix
 * ```
 *
 * Leading spaces and tabs are skipped; tokens are separated by spaces only (a tab belongs to
 * the token, as in C), so string values cannot contain spaces.
 *
 * Deliberate deviations from the C tool:
 * - the C tool reads lines in 1023-byte pieces and processes the rest of a longer line as a
 *   new line; here such a line is an error;
 * - `^` or `^^` without a name is an error (C deletes key "" or, for `^^`, the whole map);
 * - the C tool applies lines one by one and stops at the first bad one, leaving earlier lines
 *   applied; here the file is parsed completely first and applied as a whole (see
 *   CmapBackend.load()), so an error leaves the map unchanged.
 *
 * @module
 */

/** One meaningful line of a load file, with its 1-based line number. */
export type LoadLine =
  | {
    readonly kind: "set";
    readonly line: number;
    readonly key: string;
    readonly type: string;
    readonly value: string;
  }
  | { readonly kind: "delete"; readonly line: number; readonly key: string }
  | { readonly kind: "deletePrefix"; readonly line: number; readonly prefix: string };

/** The outcome of parsing: the lines, or the message to print (exit status 1). */
export type LoadParse =
  | { readonly ok: true; readonly lines: LoadLine[] }
  | { readonly ok: false; readonly message: string };

/** Longest line content (without its newline) that C's 1024-byte `fgets` reads in one piece. */
export const MAX_LOAD_LINE_LENGTH = 1023;

/** Parses a load file. Pure: binary values stay file names for the caller to read. */
export function parseLoadFile(bytes: Uint8Array): LoadParse {
  const text = new TextDecoder().decode(bytes);
  const rawLines = text.split("\n");
  if (rawLines.at(-1) === "") rawLines.pop();
  const lines: LoadLine[] = [];
  for (const [index, raw] of rawLines.entries()) {
    const line = index + 1;
    if (new TextEncoder().encode(raw).length > MAX_LOAD_LINE_LENGTH) {
      return {
        ok: false,
        message: `Line ${line} is longer than ${MAX_LOAD_LINE_LENGTH} bytes`,
      };
    }
    const content = raw.replace(/^[ \t]*/, "");
    if (content === "" || content.startsWith("#")) continue;
    const tokens = content.split(" ").filter((t) => t !== "");
    const [first, type, value] = tokens;
    if (first === undefined) continue;
    if (first.startsWith("^^")) {
      const prefix = first.slice(2);
      if (prefix === "") return { ok: false, message: `Line ${line}: '^^' needs a key prefix` };
      lines.push({ kind: "deletePrefix", line, prefix });
    } else if (first.startsWith("^")) {
      const key = first.slice(1);
      if (key === "") return { ok: false, message: `Line ${line}: '^' needs a key name` };
      lines.push({ kind: "delete", line, key });
    } else if (type === undefined || value === undefined) {
      return { ok: false, message: `Both type and value for key ${first} are required` };
    } else {
      lines.push({ kind: "set", line, key: first, type, value });
    }
  }
  return { ok: true, lines };
}
