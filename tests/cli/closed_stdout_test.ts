/**
 * A closed stdout ends every tool quietly (`qnet cmapctl | head -1`), as SIGPIPE ends the C
 * tools: no stack trace, no message, exit status 128 + SIGPIPE (cli/io.ts). Port 18540.
 */
import assert from "node:assert/strict";
import { STDOUT_CLOSED_EXIT } from "../../cli/io.ts";
import { QNET_ARGV, startArbiter } from "../support/mod.ts";

const QNET = QNET_ARGV;

/** Runs `argv` with its stdout's reader closed before it writes; exit code and stderr. */
async function withClosedStdout(argv: string[]): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  await child.stdout.cancel();
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("every tool ends quietly with 128 + SIGPIPE when its stdout is closed", async () => {
  for (
    const args of [
      ["qnetd", "-h"],
      ["qnetd", "-v"],
      ["qnetd-tool", "-h"],
      ["cmapctl", "-h"],
      ["certutil", "-h"],
    ]
  ) {
    const r = await withClosedStdout([...QNET, ...args]);
    assert.deepEqual(r, { code: STDOUT_CLOSED_EXIT, stderr: "" }, args.join(" "));
  }
});

Deno.test({
  name: "qnet cmapctl | head -1 prints one line and nothing on stderr",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using daemon = await startArbiter("qnet", { port: 18540, args: ["-s", "off"] });
    const cmd = [...QNET, "cmapctl", "-P", daemon.socketPath].map((w) => `'${w}'`).join(" ");
    const out = await new Deno.Command("/bin/bash", {
      args: ["-c", `${cmd} | head -1; echo "status \${PIPESTATUS[0]}" >&2`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(stdout.split("\n").length, 2, stdout);
    assert.match(stdout, /^\S+ \(\w+\) = /);
    // Either the whole dump fit the pipe before head closed it (0), or the write failed (141).
    assert.match(new TextDecoder().decode(out.stderr), /^status (0|141)\n$/);
  },
});
