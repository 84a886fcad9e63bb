/**
 * The text of whatever was thrown, in one place: an Error's message, anything else as String()
 * (a thrown string, a rejected non-Error). And the C view of an OS error: Deno's messages read
 * `No such file or directory (os error 2): open '/x'`, where C prints strerror(errno) and the
 * number separately.
 *
 * @module
 */

/**
 * Deno's advice in a refused access (`Requires read access to "/x", run again with the
 * --allow-read flag`): flags mean nothing to a user of the compiled binary.
 */
const FLAG_ADVICE = /, run again with the --allow-\w+ flag/g;

/**
 * The message of `reason`: an Error's message, else `String(reason)`; without Deno's
 * `--allow-*` advice.
 */
export function errorText(reason: unknown): string {
  return (reason instanceof Error ? reason.message : String(reason)).replace(FLAG_ADVICE, "");
}

/** Deno's "(os error N)" after the strerror() text; what follows it names the call. */
const OS_ERROR = /^(.*?) \(os error (\d+)\)/;

/** An OS error as C sees it: strerror() text and errno. */
export interface OsError {
  readonly text: string;
  readonly errno: number;
}

/** The strerror() text and errno in the message of `reason`, or undefined when it has none. */
export function osError(reason: unknown): OsError | undefined {
  const m = OS_ERROR.exec(errorText(reason));
  return m === null ? undefined : { text: m[1]!, errno: Number(m[2]) };
}

/** strerror() text of an OS error ("No such file or directory"); other errors' whole text. */
export function strerrorText(reason: unknown): string {
  return osError(reason)?.text ?? errorText(reason);
}
