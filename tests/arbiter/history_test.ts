/**
 * The decision history: the store's limits and order (core/arbiter/history.ts), and the
 * events and reasons the arbiter records for real scenarios of each algorithm.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  DecisionHistory,
  eventCost,
  type HistoryEvent,
  HistoryEventKind,
  type HistoryRecord,
} from "../../core/arbiter/history.ts";
import { DecisionAlgorithm, Heuristics, MsgType } from "../../core/protocol/constants.ts";
import { Harness, HIGHEST, LOWEST, nodeTb } from "../support/mod.ts";

function store(perCluster: number, maxBytes: number) {
  const limits = { historyEventsPerCluster: perCluster, historyMaxMemory: maxBytes };
  let now = 1_000;
  return { limits, history: new DecisionHistory(limits, () => now++) };
}

function ev(cluster: string, text: string, nodeId = 1): HistoryRecord {
  return { cluster, kind: HistoryEventKind.MembershipList, nodeId, text };
}

Deno.test("DecisionHistory keeps the last N events per cluster, oldest first", () => {
  const { history } = store(3, 1 << 20);
  for (let i = 0; i < 5; i++) history.record(ev("a", `a${i}`));
  history.record(ev("b", "b0"));
  assertEquals(history.events({ cluster: "a" }).map((e) => e.text), ["a2", "a3", "a4"]);
  assertEquals(history.events().map((e) => e.text), ["a2", "a3", "a4", "b0"]);
  assertEquals(history.events({ cluster: "nope" }), []);
  const ids = history.events().map((e) => e.id);
  assertEquals(ids, [3, 4, 5, 6]);
  assertEquals(history.events({ afterId: 4 }).map((e) => e.text), ["a4", "b0"]);
});

Deno.test("DecisionHistory counts a repeat of the newest event instead of storing it", () => {
  const { history } = store(10, 1 << 20);
  history.record(ev("a", "x"));
  history.record(ev("a", "x"));
  const third = history.record(ev("a", "x"));
  history.record(ev("a", "x", 2));
  assertEquals(history.size, 2);
  assertEquals(third?.repeated, 3);
  assertEquals(history.events().map((e) => [e.text, e.nodeId, e.repeated]), [
    ["x", 1, 3],
    ["x", 2, 1],
  ]);
});

Deno.test("DecisionHistory drops the oldest events of any cluster at the memory limit", () => {
  const cost = eventCost(ev("c0", "e")) + 200 + 2 * "c0".length;
  const { history } = store(100, cost * 3);
  for (let i = 0; i < 5; i++) history.record(ev(`c${i}`, "e"));
  assert(history.bytes <= cost * 3, `${history.bytes} > ${cost * 3}`);
  assertEquals(history.events().map((e) => e.cluster), ["c2", "c3", "c4"]);
  assertEquals(history.clusterCount, 3);
});

Deno.test("DecisionHistory applies lowered limits at the next event, and 0 turns it off", () => {
  const { history, limits } = store(10, 1 << 20);
  for (let i = 0; i < 6; i++) history.record(ev("a", `a${i}`));
  for (let i = 0; i < 6; i++) history.record(ev("b", `b${i}`));
  (limits as { historyEventsPerCluster: number }).historyEventsPerCluster = 2;
  history.record(ev("c", "c0"));
  assertEquals(history.events().map((e) => e.text), ["a4", "a5", "b4", "b5", "c0"]);
  (limits as { historyEventsPerCluster: number }).historyEventsPerCluster = 0;
  assertEquals(history.record(ev("c", "c1")), undefined);
  assertEquals(history.size, 0);
  assertEquals(history.bytes, 0);
});

Deno.test("DecisionHistory tells subscribers of each new event until they unsubscribe", () => {
  const { history } = store(10, 1 << 20);
  const seen: HistoryEvent[] = [];
  const stop = history.subscribe((e) => seen.push(e));
  history.record(ev("a", "1"));
  stop();
  history.record(ev("a", "2"));
  assertEquals(seen.map((e) => e.text), ["1"]);
});

Deno.test("DecisionHistory stays under its memory limit under a churn of new cluster names", () => {
  const maxBytes = 256 * 1024;
  const { history } = store(200, maxBytes);
  let peak = 0;
  for (let i = 0; i < 50_000; i++) {
    // A new, long cluster name per event, as a hostile client would send.
    history.record(ev(`cluster-${i}-${"x".repeat(i % 300)}`, `membership list ${i}`, i));
    peak = Math.max(peak, history.bytes);
  }
  assert(peak <= maxBytes, `peak ${peak} > ${maxBytes}`);
  assert(history.clusterCount < 2_000, `${history.clusterCount} clusters kept`);
  assertEquals(history.events().length, history.size);
});

// -------------------------------------------------------------------------------------
// What the arbiter records

function kinds(h: Harness): string[] {
  return h.arbiter.history.events().map((e) => `${e.nodeId} ${e.kind}`);
}

function votes(h: Harness): string[] {
  return h.arbiter.history.events()
    .filter((e) => e.kind === HistoryEventKind.Vote)
    .map((e) => `${e.nodeId} ${e.vote}: ${e.reason}`);
}

Deno.test("the arbiter records a join, its lists, its vote and its disconnection", () => {
  const h = new Harness();
  h.join(1, { algorithm: DecisionAlgorithm.Ffsplit, config: [1, 2], tieBreaker: LOWEST });
  h.disconnect(1);
  assertEquals(kinds(h), [
    "1 connected",
    "1 config-list",
    "1 vote",
    "1 membership-list",
    "1 vote",
    "1 quorum-list",
    "1 disconnected",
  ]);
  const events = h.arbiter.history.events({ cluster: "cluster" });
  assertEquals(
    events[0]!.text,
    "connected from 127.0.0.1:40001 (algorithm Fifty-Fifty split, tie-breaker lowest node id)",
  );
  assertEquals(events[1]!.text, "initial config list: nodes {1,2}");
  assertEquals(events[3]!.text, "membership list: ring 1.1, nodes {1,2}, heuristics undefined");
  assertEquals(events[4]!.vote, "ack");
  assertEquals(events[4]!.reason, "partition {1,2} has 2 of 2 nodes");
  assertEquals(events[6]!.reason, "connection closed (by the client or a network error)");
});

Deno.test("ffsplit 50:50 split: the NACK says the lowest node id's partition wins", () => {
  const h = new Harness();
  for (const id of [1, 2, 3, 4]) {
    h.join(id, { algorithm: DecisionAlgorithm.Ffsplit, config: [1, 2, 3, 4], tieBreaker: LOWEST });
  }
  h.membership(3, [3, 4], [3, 2]);
  h.membership(4, [3, 4], [3, 2]);
  h.membership(1, [1, 2], [1, 2]);
  h.membership(2, [1, 2], [1, 2]);
  assertEquals(h.votes(), "1=ACK 2=ACK 3=NACK 4=NACK");
  const last = votes(h).slice(-4).sort();
  assertEquals(last, [
    "1 ack: tie: the partition with node 1 (lowest node id) wins (partition {1,2}; 2 of 4 nodes each, a 50:50 split)",
    "2 ack: tie: the partition with node 1 (lowest node id) wins (partition {1,2}; 2 of 4 nodes each, a 50:50 split)",
    "3 nack: tie: the partition with node 1 (lowest node id) wins (partition {1,2}; 2 of 4 nodes each, a 50:50 split)",
    "4 nack: tie: the partition with node 1 (lowest node id) wins (partition {1,2}; 2 of 4 nodes each, a 50:50 split)",
  ]);
});

Deno.test("ffsplit: a majority partition wins by its size, heuristics decide a 50:50 split", () => {
  const h = new Harness();
  for (const id of [1, 2, 3]) {
    h.join(id, { algorithm: DecisionAlgorithm.Ffsplit, config: [1, 2, 3], tieBreaker: LOWEST });
  }
  h.membership(1, [1], [1, 2]);
  h.membership(2, [2, 3], [2, 2]);
  h.membership(3, [2, 3], [2, 2]);
  assertEquals(h.votes(), "1=NACK 2=ACK 3=ACK");
  assert(votes(h).at(-1)!.endsWith(": partition {2,3} has 2 of 3 nodes"), votes(h).at(-1));

  const g = new Harness();
  for (const id of [1, 2]) {
    g.join(id, { algorithm: DecisionAlgorithm.Ffsplit, config: [1, 2], tieBreaker: LOWEST });
  }
  g.membership(1, [1], [1, 2], Heuristics.Fail);
  g.membership(2, [2], [2, 2], Heuristics.Pass);
  assertEquals(g.votes(), "1=NACK 2=ACK");
  const reason = votes(g).at(-1)!;
  assert(reason.includes("heuristics: 1 pass/0 fail beats 0 pass/1 fail"), reason);
});

Deno.test("ffsplit with KAP: the partition that was active keeps the vote", () => {
  const h = new Harness();
  for (const id of [1, 2, 3, 4]) {
    h.join(id, {
      algorithm: DecisionAlgorithm.Ffsplit,
      config: [1, 2, 3, 4],
      tieBreaker: LOWEST,
      kap: 1,
      members: [3, 4],
      ring: [3, 1],
    });
  }
  // Only {3,4} reported so far and won; now nodes 1 and 2 split off into their own ring.
  h.membership(1, [1, 2], [1, 2]);
  h.membership(2, [1, 2], [1, 2]);
  assertEquals(h.votes(), "1=NACK 2=NACK 3=ACK 4=ACK");
  const reason = votes(h).at(-1)!;
  assert(reason.includes("KAP: the partition that was active keeps the vote"), reason);
});

Deno.test("2nodelms and lms give their reasons", () => {
  const h = new Harness();
  for (const id of [1, 2]) {
    h.join(id, { algorithm: DecisionAlgorithm.TwoNodeLms, config: [1, 2], tieBreaker: HIGHEST });
  }
  h.membership(1, [1], [1, 2]);
  h.membership(2, [2], [2, 2]);
  assertEquals(
    votes(h).slice(-2),
    [
      "1 nack: tie: the partition with node 2 (highest node id) wins",
      "2 ack: tie: the partition with node 2 (highest node id) wins",
    ],
  );
  h.send(1, { type: MsgType.AskForVote });
  assertEquals(
    votes(h).at(-1),
    "1 nack: as decided last: tie: the partition with node 2 (highest node id) wins",
  );

  const l = new Harness();
  for (const id of [1, 2, 3]) {
    l.join(id, { algorithm: DecisionAlgorithm.Lms, config: [1, 2, 3], tieBreaker: nodeTb(3) });
  }
  l.membership(1, [1], [1, 5]);
  l.membership(2, [2, 3], [2, 5]);
  l.membership(3, [2, 3], [2, 5]);
  l.runTimers(5_000);
  const reasons = votes(l).filter((v) => v.includes("nodes, the most"));
  assert(
    reasons.some((v) => v.startsWith("3 ack: partition {2,3} has 2 of 3 nodes")),
    votes(l).join("\n"),
  );
});

Deno.test("DPD expiry is recorded before the disconnection it causes", () => {
  const h = new Harness({ dpdEnabled: true });
  h.join(1, {
    algorithm: DecisionAlgorithm.Test,
    config: [1],
    tieBreaker: LOWEST,
    heartbeat: 1000,
  });
  h.runTimers(5_000);
  const tail = h.arbiter.history.events().slice(-2);
  assertEquals(tail.map((e) => e.kind), [
    HistoryEventKind.DpdExpired,
    HistoryEventKind.Disconnected,
  ]);
  assertEquals(tail[0]!.text, "dead peer detection: no message for 1500 ms");
  assertEquals(tail[1]!.reason, "dead peer detection (no message in time)");
});

Deno.test("2nodelms: heuristics decide in the issue's words, and the change is recorded", () => {
  const h = new Harness();
  for (const id of [1, 2]) {
    h.join(id, { algorithm: DecisionAlgorithm.TwoNodeLms, config: [1, 2], tieBreaker: LOWEST });
  }
  h.membership(2, [2], [2, 2], Heuristics.Fail);
  h.membership(1, [1], [1, 2], Heuristics.Pass);
  assertEquals(votes(h).at(-1), "1 ack: heuristics: pass beats fail");
  h.send(2, { type: MsgType.HeuristicsChange, heuristics: Heuristics.Pass });
  const change = h.arbiter.history.events().findLast((e) => e.kind === HistoryEventKind.Heuristics);
  assertEquals([change?.nodeId, change?.text], [2, "heuristics change: fail -> pass"]);
});

Deno.test("a refused INIT is recorded with its error, in the cluster it named", () => {
  const h = new Harness();
  h.join(1, { algorithm: DecisionAlgorithm.Ffsplit, config: [1, 2], tieBreaker: LOWEST });
  h.join(1, {
    algorithm: DecisionAlgorithm.Ffsplit,
    config: [1, 2],
    tieBreaker: LOWEST,
    upTo: "init",
  });
  const refused = h.arbiter.history.events({ cluster: "cluster" })
    .find((e) => e.text.includes("refused"));
  assert(refused !== undefined, kinds(h).join("\n"));
  assert(
    /^init from 127\.0\.0\.1:40001 refused: duplicateNodeId \(17\)$/.test(refused.text),
    refused.text,
  );
});
