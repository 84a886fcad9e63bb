/**
 * Protocol state fuzzing of the pure Arbiter (see tests/support/fuzz/arbiter_scenario.ts for the properties):
 * random well-formed sequences of many clients in several clusters, all four algorithms,
 * checked after every step. Fixed seeds; a failure names its seed.
 */
import { ok as assert } from "node:assert/strict";
import { Choices, Rng, runScenario, type ScenarioResult } from "../support/mod.ts";

interface Totals {
  messages: number;
  voteInfos: number;
  acks: number;
  errors: number;
  serverClosed: number;
}

function runSeeds(
  from: number,
  count: number,
  liveSafe: boolean,
): { runs: ScenarioResult[]; totals: Totals } {
  const runs: ScenarioResult[] = [];
  const totals: Totals = { messages: 0, voteInfos: 0, acks: 0, errors: 0, serverClosed: 0 };
  for (let seed = from; seed < from + count; seed++) {
    let result: ScenarioResult;
    try {
      result = runScenario(new Choices(new Rng(seed)), { maxSteps: 250, liveSafe });
    } catch (error) {
      throw new Error(`scenario seed ${seed} (liveSafe ${liveSafe}) failed`, { cause: error });
    }
    runs.push(result);
    totals.messages += result.stats.messages;
    totals.voteInfos += result.stats.voteInfos;
    totals.acks += result.stats.acks;
    totals.errors += result.stats.errors;
    totals.serverClosed += result.serverClosed.size;
  }
  return { runs, totals };
}

Deno.test({
  name: "Arbiter answers random multi-cluster sequences as the protocol requires",
  permissions: "none",
  fn() {
    const { totals } = runSeeds(1, 600, false);
    // The generator must reach the interesting states, or the properties prove nothing.
    assert(totals.acks > 500, `only ${totals.acks} ACK VOTE_INFOs`);
    assert(totals.errors > 1000, `only ${totals.errors} errors`);
    assert(totals.serverClosed > 50, `only ${totals.serverClosed} server-side disconnects`);
  },
});

Deno.test({
  name: "Arbiter answers the live-safe sequences as the protocol requires",
  permissions: "none",
  fn() {
    const { runs, totals } = runSeeds(10_000, 300, true);
    assert(totals.acks > 200, `only ${totals.acks} ACK VOTE_INFOs`);
    // Live-safe sequences have no clock: only STARTTLS-free, DPD-free closes by the clients.
    assert(runs.every((r) => r.serverClosed.size === 0));
    assert(runs.every((r) => r.steps.every((s) => s.kind !== "advance")));
  },
});
