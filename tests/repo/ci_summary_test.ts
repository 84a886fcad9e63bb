/** `.ci/summary`, the closing line of `.ci/run`: "N passed, N failed, N skipped". */
import assert from "node:assert/strict";

const SUMMARY = new URL("../../.ci/summary", import.meta.url).pathname;

async function summarize(log: string): Promise<string> {
  const child = new Deno.Command(SUMMARY, { stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(log));
  await writer.close();
  return new TextDecoder().decode((await child.output()).stdout);
}

Deno.test(".ci/summary counts passed, failed and ignored (as skipped) from deno test's last line", async () => {
  const cases: [string, string][] = [
    [
      "x ... ok\nok | 12 passed (3 steps) | 0 failed | 2 ignored (1 step) (3s)\n",
      "12 passed, 0 failed, 2 skipped\n",
    ],
    [
      "\x1b[0m\x1b[31mFAILED\x1b[0m | 10 passed (4 steps) | 2 failed (1 step) (5s)\n",
      "10 passed, 2 failed, 0 skipped\n",
    ],
    [
      "ok | 1 passed | 0 failed (1s)\nok | 541 passed (323 steps) | 0 failed | 2 ignored (4m)\n",
      "541 passed, 0 failed, 2 skipped\n",
    ],
    ["ok | 3 passed | 0 failed | 5 filtered out (1s)\n", "3 passed, 0 failed, 0 skipped\n"],
    ["error: Found 1 problem\n", "0 passed, 1 failed, 0 skipped\n"],
  ];
  for (const [log, line] of cases) assert.equal(await summarize(log), line, log);
});
