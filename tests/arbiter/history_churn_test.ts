/**
 * The decision history's memory stays under `history_max_memory` whatever clients do: a
 * hostile churn of 90,000 connections, each inventing a new 200-byte cluster name, joining,
 * sending its lists and leaving, through the real Arbiter, measured as V8 heap after full
 * GCs in a child process (tests/support/history_churn.ts). A run with a 4x larger cap shows
 * that the measurement does see the history.
 */
import { ok as assert } from "node:assert/strict";

interface ChurnResult {
  baseline: number;
  after: number[];
  peakBytes: number;
  events: number;
  clusters: number;
  clients: number;
}

const SCRIPT = new URL("../support/history_churn.ts", import.meta.url).pathname;
const MIB = 1024 * 1024;

async function churn(maxBytes: number, rounds: number, perRound: number): Promise<ChurnResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-read",
      "--v8-flags=--expose-gc",
      SCRIPT,
      String(maxBytes),
      String(rounds),
      String(perRound),
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, `churn failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as ChurnResult;
}

Deno.test("history_max_memory bounds the heap under a hostile churn of cluster names", async () => {
  const cap = 4 * MIB;
  const small = await churn(cap, 3, 30_000);
  assert(small.clients === 0, "every client left");
  assert(small.peakBytes <= cap, `counted ${small.peakBytes} > cap ${cap}`);
  for (const [round, heap] of small.after.entries()) {
    const grown = heap - small.baseline;
    // The count is an upper bound of what V8 really holds; 1 MiB for GC noise.
    assert(grown <= cap + MIB, `round ${round}: heap grew ${grown} bytes > ${cap + MIB}`);
  }
  const first = small.after[0]!;
  const last = small.after.at(-1)!;
  assert(last - first <= MIB, `heap kept growing: ${first} -> ${last}`);

  const large = await churn(4 * cap, 1, 60_000);
  const grownLarge = large.after[0]! - large.baseline;
  const grownSmall = last - small.baseline;
  assert(
    grownLarge > grownSmall + 2 * MIB,
    `a 4x cap should hold more: ${grownLarge} vs ${grownSmall}`,
  );
});
