/**
 * The tests that need a real systemd journal run a script of tests/support in a private mount
 * namespace, where private_journald.sh starts a throwaway systemd-journald on tmpfs: the
 * script drives the daemons and prints what journald kept, in sections headed `=== NAME`.
 * This runs such a script and reads its sections back.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Missing, needAll, needProgram, needRoot } from "./precondition.ts";

const SUPPORT = new URL("./", import.meta.url).pathname;

/** How long a script may run (a bound on a hang, not a latency). */
const SCRIPT_TIMEOUT_MS = 90_000;

/** What a journal script needs from the machine. */
export function needJournalScript(): Missing {
  return needAll(
    needRoot(),
    needProgram("unshare", "util-linux"),
    needProgram("systemd-cat", "systemd"),
    needProgram("journalctl", "systemd"),
    needProgram("/lib/systemd/systemd-journald", "systemd"),
    needProgram("bash", "bash"),
  );
}

/**
 * Runs tests/support/`script` with `args` in a private mount namespace and returns its
 * stdout, once it exited with 0 (else the assertion names the script with its output).
 */
export async function runJournalScript(script: string, args: readonly string[]): Promise<string> {
  const output = await new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", `${SUPPORT}${script}`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(SCRIPT_TIMEOUT_MS),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `${script} failed:\n${stderr}\n${stdout}`);
  return stdout;
}

/** A script's output by section: the non-empty lines after each `=== NAME`, by NAME. */
export function scriptSections(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split("\n")) {
    const head = /^=== (.*)$/.exec(line);
    if (head !== null) map.set(head[1]!, current = []);
    else if (line !== "") current?.push(line);
  }
  return map;
}
