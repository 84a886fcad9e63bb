/**
 * How the tests run `qnet` as a program: `deno run` with exactly the flags baked into the
 * compiled binary (scripts/compile.ts --print-flags, cli/baked_flags.ts), so that the
 * launcher computes the least set and runs the subcommand in its worker, as the binary does.
 * Never -A, never hand-picked flags.
 *
 * @module
 */
import { bakedFlags } from "../../cli/baked_flags.ts";

/** The repository's mod.ts. */
export const QNET_MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** The arguments of `deno` that run `qnet` as the binary runs. */
export const QNET_RUN_ARGS: readonly string[] = [
  "run",
  "--quiet",
  "--no-prompt",
  ...bakedFlags(),
  QNET_MOD,
];

/** argv of `qnet`: the Deno executable, then {@link QNET_RUN_ARGS}. */
export const QNET_ARGV: readonly string[] = [Deno.execPath(), ...QNET_RUN_ARGS];

/** What {@link runToEnd} returns. */
export interface RunOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `argv` to its end (SIGKILL after 30 s), with no configuration file unless `env` names one
 * and the C locale, as the daemon tests expect: its exit code and its output as text.
 */
export async function runToEnd(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<RunOutput> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { QNETD_CONFIG_FILE: "/nonexistent/qnetd.toml", LC_ALL: "C", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(killer);
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
