/**
 * The little a subcommand needs from the process: two output streams. Subcommands return
 * their exit code instead of calling `Deno.exit`, so tests can run them in-process with a
 * recording `CliIo` and the compiled binary behaves the same.
 *
 * @module
 */

/** Where a subcommand writes. Writes are synchronous so output order matches the C tools. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Raw bytes, for output that need not be UTF-8 (cluster names are bytes on the wire). */
  outBytes?(bytes: Uint8Array): void;
  errBytes?(bytes: Uint8Array): void;
}

/** A subcommand entry point: arguments after the subcommand name in, exit code out. */
export type SubcommandMain = (args: string[], io: CliIo) => Promise<number>;

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, data: string | Uint8Array): void {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/**
 * Exit status when stdout is closed under us (`qnet cmapctl | head -1`): 128 + SIGPIPE, what a
 * shell reports for the C tools, which SIGPIPE kills there. Deno ignores SIGPIPE, so the write
 * fails with BrokenPipe instead.
 */
export const STDOUT_CLOSED_EXIT = 128 + 13;

/** Ends the process with `code`; never returns. */
export type ProcessExit = (code: number) => never;

let processExit: ProcessExit = (code) => Deno.exit(code);

/**
 * Replaces how {@link exitProcess} ends the process: a subcommand in the sandbox worker
 * (cli/sandbox_worker.ts) asks the launcher, since `Deno.exit` in a worker ends the worker
 * only.
 */
export function setProcessExit(exit: ProcessExit): void {
  processExit = exit;
}

/** Ends the whole process at once with `code`. */
export function exitProcess(code: number): never {
  return processExit(code);
}

let stderrOpen = true;
let stderrMayClose = false;

/**
 * From now on, nothing is written to stderr: a daemon started without -f has told its
 * starter that it is ready, and that process, which read our stderr, is gone (as the C
 * daemon's stderr is /dev/null once it has detached).
 */
export function closeStderr(): void {
  stderrOpen = false;
}

/**
 * From now on, a stderr whose reader went away is closed quietly instead of failing the
 * write: the detached daemon's stderr is its starter, which may be gone before the daemon
 * is ready (killed, or interrupted at a terminal).
 */
export function closeStderrWhenBroken(): void {
  stderrMayClose = true;
}

function writeStderr(data: string | Uint8Array): void {
  if (!stderrOpen) return;
  try {
    writeAll(Deno.stderr, data);
  } catch (error) {
    if (!(stderrMayClose && error instanceof Deno.errors.BrokenPipe)) throw error;
    stderrOpen = false;
  }
}

/**
 * Writes to stdout; a reader that went away ends the process at once and quietly, as SIGPIPE
 * ends a C tool: nothing more to say to anyone. stderr is left alone: the daemon logs there.
 */
function writeStdout(data: string | Uint8Array): void {
  try {
    writeAll(Deno.stdout, data);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) exitProcess(STDOUT_CLOSED_EXIT);
    throw error;
  }
}

/**
 * An environment variable, read only where the permission set grants it (a variable outside
 * the set reads as unset, instead of throwing): the launcher grants a subcommand only the
 * variables its command line needs (cli/permission_sets.ts).
 */
export function grantedEnv(variable: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  return Deno.env.get(variable);
}

/** The process's real stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => writeStdout(text),
  err: (text) => writeStderr(text),
  outBytes: (bytes) => writeStdout(bytes),
  errBytes: (bytes) => writeStderr(bytes),
};

/** A `CliIo` that records everything, for tests. */
export class RecordingIo implements CliIo {
  stdout = "";
  stderr = "";
  // Arrow properties, so `io.out` can be passed around unbound like processIo's.
  out = (text: string): void => {
    this.stdout += text;
  };
  err = (text: string): void => {
    this.stderr += text;
  };
}
