/**
 * OS errors in the C daemon's words. The C tools print `strerror(errno)` with the number,
 * as `(2): No such file or directory`; Deno's messages carry the same facts as
 * `No such file or directory (os error 2): open '/x'`.
 *
 * @module
 */
import { errorText, osError } from "../core/error_text.ts";

/** `(errno): strerror` for an error from a Deno API, as C's log_err() appends it. */
export function osErrorSuffix(error: unknown): string {
  const os = osError(error);
  return os === undefined ? `(-1): ${errorText(error)}` : `(${os.errno}): ${os.text}`;
}
