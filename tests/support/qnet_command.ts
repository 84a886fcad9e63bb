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
