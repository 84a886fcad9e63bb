/**
 * OS errors in the C daemon's words. The C tools print `strerror(errno)` with the number,
 * as `(2): No such file or directory`; Deno's messages carry the same facts as
 * `No such file or directory (os error 2): open '/x'`.
 *
 * @module
 */

/** `(errno): strerror` for an error from a Deno API, as C's log_err() appends it. */
export function osErrorSuffix(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = /^(.*?) \(os error (\d+)\)/.exec(message);
  return m === null ? `(-1): ${message}` : `(${m[2]}): ${m[1]}`;
}
