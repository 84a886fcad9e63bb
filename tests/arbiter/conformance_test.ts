/**
 * The conformance table (tests/support/conformance_rows.ts) on the pure Arbiter, through the in-memory
 * Harness: every row's votes and errors as the real qnetd 3.0.3 gives them.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DecisionAlgorithm } from "../../core/protocol/constants.ts";
import {
  assertOutcome,
  Harness,
  outcomeOf,
  ROWS,
  runRow,
  type ScenarioHarness,
  voteText,
} from "../support/mod.ts";

/** The in-memory Harness seen through the runner's interface; lms timers run for 3 s. */
function inMemory(h: Harness): ScenarioHarness {
  return {
    join: (nodeId, options) => h.join(nodeId, options),
    membership: (nodeId, members, ring, heuristics) =>
      h.membership(nodeId, members, ring, heuristics),
    quorum: (nodeId, members) => h.quorum(nodeId, members),
    send: (nodeId, msg) => h.send(nodeId, msg),
    disconnect: (nodeId) => h.disconnect(nodeId),
    silence: (nodeId) => {
      h.node(nodeId).autoReply = false;
    },
    connectedIds: () =>
      [...h.nodes.values()].filter((n) => n.connected).map((n) => n.nodeId).sort((a, b) => a - b),
    settle: (algorithm) => {
      if (algorithm === DecisionAlgorithm.Lms) h.runTimers(3000);
    },
    votes: () => h.votes(),
    errors: () =>
      [...h.nodes.values()].flatMap((n) => n.errors.map((e) => `${n.nodeId}=${e}`)).join(" "),
  };
}

for (const row of ROWS) {
  Deno.test({
    name: `Arbiter votes as qnetd 3.0.3: ${row.id}`,
    permissions: "none",
    async fn() {
      const h = inMemory(new Harness());
      await runRow(row, h);
      assertOutcome(row, outcomeOf(h));
    },
  });
}

Deno.test({
  name: "voteText() renders not-voting as a dash",
  permissions: "none",
  fn() {
    assertEquals(voteText(undefined), "-");
  },
});
