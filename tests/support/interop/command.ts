/**
 * Running short external commands (ip, nsenter, the corosync tools) with a time limit, for the
 * interop harness. Long-lived daemons are spawned elsewhere; this is for commands that finish.
 *
 * @module
 */

/** What a finished command left behind. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command that failed, timed out, or could not be started. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult | undefined,
    options?: ErrorOptions,
  ) {
    const why = result === undefined
      ? "did not run"
      : `exited with ${result.code}: ${(result.stderr || result.stdout).trim()}`;
    super(`Command "${argv.join(" ")}" ${why}`, options);
    this.name = "CommandError";
  }
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  /** Kill the command after this many milliseconds (default 10000). */
  timeoutMs?: number;
  /** Throw a {@linkcode CommandError} unless the exit code is 0 (default true). */
  check?: boolean;
}

const decoder = new TextDecoder();

/**
 * Runs `argv` to completion with no standard input and returns its exit code and output.
 * A command that outlives `timeoutMs` is killed (SIGKILL) and reported with code -1.
 */
export async function run(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("Cannot run an empty command");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signal = AbortSignal.timeout(timeoutMs);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (cause) {
    throw new CommandError(argv, undefined, { cause });
  }
  const result: CommandResult = {
    code: signal.aborted ? -1 : output.code,
    stdout: decoder.decode(output.stdout),
    stderr: signal.aborted
      ? `killed after ${timeoutMs} ms\n${decoder.decode(output.stderr)}`
      : decoder.decode(output.stderr),
  };
  if ((options.check ?? true) && result.code !== 0) throw new CommandError(argv, result);
  return result;
}
