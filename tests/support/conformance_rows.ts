/**
 * The conformance scenarios of qnetd-algorithms.md §2.6 (run against the real qnetd 3.0.3),
 * plus the cases described in the §2 prose, as one table, and one runner for it that drives
 * any harness: the in-memory one over the pure Arbiter (conformance_test.ts) or the TCP one
 * against a running daemon (tests/daemon/wire_conformance_test.ts).
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DecisionAlgorithm, Heuristics, type Vote } from "../../core/protocol/constants.ts";
import type { DecodedMsg, TieBreaker } from "../../core/protocol/types.ts";
import { HIGHEST, type JoinOptions, LOWEST, nodeTb } from "./arbiter_harness.ts";

/** A value a harness returns at once (in memory) or after network round trips (TCP). */
export type Awaitable<T> = T | Promise<T>;

/** What a node received because of one message it sent, in order. */
export type Replies = readonly { readonly type: number; readonly vote?: Vote }[];

/**
 * The operations a scenario needs, with the meaning Harness (harness.ts) gives them: every
 * call returns once the votes it causes have settled; effective votes follow §2.6 ("-" after
 * ASK_LATER / WAIT_FOR_REPLY / SERVER_ERROR, NO_CHANGE keeps the last ACK/NACK).
 */
export interface ScenarioHarness {
  /** The standard join of §2.6 (PREINIT, INIT, SET_OPTION, config, membership, quorum). */
  join(nodeId: number, options: JoinOptions): Awaitable<void>;
  membership(
    nodeId: number,
    members: readonly number[],
    ring: readonly [number, number],
    heuristics?: Heuristics,
  ): Awaitable<Replies>;
  quorum(nodeId: number, members: readonly number[]): Awaitable<Replies>;
  /** Sends `msg` with the node's next seq number. */
  send(nodeId: number, msg: DecodedMsg): Awaitable<Replies>;
  /** The node's connection breaks. */
  disconnect(nodeId: number): Awaitable<void>;
  /** The node stops answering VOTE_INFO. */
  silence(nodeId: number): void;
  /** Ids of the nodes whose connection is up, ascending. */
  connectedIds(): number[];
  /**
   * Lets the algorithm's timers run (lms) where the reference waits, then settles. `expect`
   * is the votes the scenario expects next: a harness in real time may wait for them (bounded)
   * instead of for a fixed time; it never makes them so.
   */
  settle(algorithm: DecisionAlgorithm, expect?: string): Awaitable<void>;
  /** "1=ACK 2=NACK 3=-" for the connected nodes, in node-id order. */
  votes(): string;
  /** "node=code ..." of every SERVER_ERROR received, nodes in join order. */
  errors(): string;
}

/** One event of a scenario; `expect` is a checkpoint of the settled votes. */
export type Step =
  | { split: string }
  | {
    mem: number;
    members: number[];
    ring: [number, number];
    h?: Heuristics;
    reply?: Vote | "error";
  }
  | { quorum: number; reply?: Vote }
  | { hc: number; h: Heuristics; reply?: Vote | "error" }
  | { ask: number; reply?: Vote | "error" }
  | { changed: number; config: number[] }
  | { leave: number }
  | {
    join: number;
    ring?: [number, number];
    members?: number[];
    upTo?: "init" | "options" | "config";
  }
  | { silent: number }
  | { expect: string };

/** One scenario: the setup of reference §2.6, its events and the settled outcome. */
export interface Row {
  id: string;
  alg: DecisionAlgorithm;
  config: number[];
  tb: TieBreaker;
  /** SET_OPTION KAP value sent at join (default 1, as real qdevice). */
  kap?: 0 | 1;
  /** Nodes joined before the steps, in order (default: the whole config). */
  connected?: number[];
  steps: Step[];
  expect: string;
  /** "node=code ..." of every SERVER_ERROR received, in order. */
  errors?: string;
}

const { Test, Ffsplit, TwoNodeLms, Lms } = DecisionAlgorithm;
const { Pass: P, Fail: F } = Heuristics;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const ACK = 1, NACK = 2, ASK_LATER = 3, WAIT = 4, NO_CHANGE = 5;

/** Every scenario, in the reference's order. */
export const ROWS: readonly Row[] = [
  // --- test ---
  {
    id: "T1",
    alg: Test,
    config: range(1, 3),
    tb: LOWEST,
    steps: [{ split: "1|2|3" }],
    expect: "1=ACK 2=ACK 3=ACK",
  },
  {
    id: "T2",
    alg: Test,
    config: [1, 2],
    tb: LOWEST,
    steps: [{ hc: 1, h: F, reply: NO_CHANGE }, { ask: 1, reply: ACK }],
    expect: "1=ACK 2=ACK",
  },
  // --- ffsplit ---
  {
    id: "F1",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [],
    expect: "1=ACK 2=ACK 3=ACK 4=ACK",
  },
  {
    id: "F2",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK",
  },
  {
    id: "F5",
    alg: Ffsplit,
    config: range(1, 4),
    tb: nodeTb(7),
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK",
  },
  {
    id: "F5b",
    alg: Ffsplit,
    config: range(1, 4),
    tb: nodeTb(7),
    kap: 0,
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK",
  },
  {
    id: "F6",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ split: "1F,2F|3P,4P" }],
    expect: "1=NACK 2=NACK 3=ACK 4=ACK",
  },
  {
    id: "F7",
    alg: Ffsplit,
    config: range(1, 4),
    tb: HIGHEST,
    connected: [1, 2, 3],
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK",
  },
  {
    id: "F9",
    alg: Ffsplit,
    config: range(1, 8),
    tb: LOWEST,
    connected: [1, 5, 6, 7, 8],
    steps: [{ split: "1P,2,3,4|5F,6,7,8" }],
    expect: "1=NACK 5=ACK 6=ACK 7=ACK 8=ACK",
  },
  {
    id: "F10",
    alg: Ffsplit,
    config: range(1, 3),
    tb: HIGHEST,
    steps: [{ split: "1F,2F|3P" }],
    expect: "1=ACK 2=ACK 3=NACK",
  },
  {
    id: "F11",
    alg: Ffsplit,
    config: range(1, 5),
    tb: LOWEST,
    steps: [{ split: "1,2|3,4|5" }],
    expect: "1=NACK 2=NACK 3=NACK 4=NACK 5=NACK",
  },
  {
    id: "F12",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ split: "1|2|3|4" }],
    expect: "1=NACK 2=NACK 3=NACK 4=NACK",
  },
  {
    id: "F15",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ mem: 1, members: [1, 2], ring: [1, 2], reply: WAIT }],
    expect: "1=- 2=ACK 3=ACK 4=ACK",
  },
  {
    // Stale heuristics, KAP on: {1F,2} | {3,4}; node 3 turns FAIL; a later re-evaluation
    // (same config resent by node 2) keeps {3,4}.
    id: "F16",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [
      { split: "1F,2|3,4" },
      { expect: "1=NACK 2=NACK 3=ACK 4=ACK" },
      { hc: 3, h: F, reply: NO_CHANGE },
      { expect: "1=NACK 2=NACK 3=ACK 4=ACK" },
      { changed: 2, config: range(1, 4) },
    ],
    expect: "1=NACK 2=NACK 3=ACK 4=ACK",
  },
  {
    // The same with KAP off: the re-evaluation moves the vote to {1,2} by the tie-breaker.
    id: "F17",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    kap: 0,
    steps: [
      { split: "1F,2|3,4" },
      { expect: "1=NACK 2=NACK 3=ACK 4=ACK" },
      { hc: 3, h: F, reply: NO_CHANGE },
      { expect: "1=NACK 2=NACK 3=ACK 4=ACK" },
      { changed: 2, config: range(1, 4) },
    ],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK",
  },
  {
    id: "F18",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [
      { split: "1,2|3,4" },
      { expect: "1=ACK 2=ACK 3=NACK 4=NACK" },
      { leave: 1 },
      { expect: "2=ACK 3=NACK 4=NACK" },
      { leave: 2 },
    ],
    expect: "3=ACK 4=ACK",
  },
  {
    // The leaving node still counts as active in its partition's 50:50 statistics.
    id: "F19",
    alg: Ffsplit,
    config: range(1, 4),
    tb: HIGHEST,
    kap: 0,
    steps: [
      { split: "1,2|3,4" },
      { expect: "1=NACK 2=NACK 3=ACK 4=ACK" },
      { leave: 4 },
      { expect: "1=NACK 2=NACK 3=ACK" },
      { hc: 1, h: F, reply: NO_CHANGE },
    ],
    expect: "1=ACK 2=ACK 3=NACK",
  },
  {
    id: "F20",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ changed: 1, config: range(1, 5) }],
    expect: "1=- 2=ACK 3=ACK 4=ACK",
  },
  {
    id: "F21",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    connected: [1],
    steps: [{ join: 2, upTo: "config" }, { hc: 1, h: P, reply: WAIT }],
    expect: "1=- 2=-",
  },
  {
    id: "F22",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    connected: [],
    steps: [{ join: 1, upTo: "options" }, {
      mem: 1,
      members: [1],
      ring: [1, 1],
      reply: ASK_LATER,
    }],
    expect: "1=-",
  },
  {
    id: "F23",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    connected: [1],
    steps: [{ mem: 1, members: [2], ring: [1, 2], reply: "error" }],
    expect: "1=-",
    errors: "1=19",
  },
  {
    id: "F24",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    steps: [{ split: "1|2" }],
    expect: "1=ACK 2=NACK",
  },
  {
    id: "F25",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    connected: [2],
    steps: [{ split: "1|2" }],
    expect: "2=ACK",
  },
  {
    // A loser that never answers its NACK blocks the ACK round until it disconnects.
    id: "F27",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    steps: [
      { silent: 3 },
      { split: "1,2|3,4" },
      { expect: "1=- 2=- 3=NACK 4=NACK" },
      { leave: 3 },
    ],
    expect: "1=ACK 2=ACK 4=NACK",
  },
  {
    id: "F28",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    steps: [{ ask: 1, reply: "error" }],
    expect: "1=- 2=ACK",
    errors: "1=14",
  },
  {
    // LOWEST is the config's lowest id, connected or not: {1,4} wins over {2,3}.
    id: "F29",
    alg: Ffsplit,
    config: range(1, 4),
    tb: LOWEST,
    connected: [3, 4],
    steps: [{ split: "1,4|2,3" }],
    expect: "3=NACK 4=ACK",
  },
  {
    // 3.0.3 segfaults here (a client without config list, tie-breaker reached): we vote NACK.
    id: "X1",
    alg: Ffsplit,
    config: [1, 2],
    tb: LOWEST,
    connected: [1],
    steps: [{ join: 2, upTo: "init" }, { leave: 1 }],
    expect: "2=NACK",
  },
  // --- 2nodelms ---
  { id: "N1", alg: TwoNodeLms, config: [1, 2], tb: LOWEST, steps: [], expect: "1=ACK 2=ACK" },
  {
    id: "N2",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: LOWEST,
    steps: [{ split: "1|2" }],
    expect: "1=ACK 2=NACK",
  },
  {
    id: "N3",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: HIGHEST,
    steps: [{ split: "1|2" }],
    expect: "1=NACK 2=ACK",
  },
  {
    id: "N5",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: nodeTb(9),
    steps: [{ split: "1|2" }],
    expect: "1=NACK 2=NACK",
  },
  {
    // Node 1 (PASS) reports first and sees node 2 as UNDEFINED; node 2 then sees PASS.
    id: "N6",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: HIGHEST,
    steps: [
      { mem: 1, members: [1], ring: [1, 2], h: P, reply: ACK },
      { mem: 2, members: [2], ring: [2, 2], reply: NACK },
    ],
    expect: "1=ACK 2=NACK",
  },
  {
    // Node 2 reports first, sees node 1 as UNDEFINED, wins by HIGHEST; then node 1 wins by
    // PASS over UNDEFINED: both ACK.
    id: "N7",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: HIGHEST,
    steps: [
      { mem: 2, members: [2], ring: [2, 2], reply: ACK },
      { mem: 1, members: [1], ring: [1, 2], h: P, reply: ACK },
    ],
    expect: "1=ACK 2=ACK",
  },
  {
    id: "N8",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: LOWEST,
    connected: [1],
    steps: [
      { mem: 1, members: [1], ring: [1, 2], reply: ACK },
      { join: 2, ring: [2, 3], members: [2] },
    ],
    expect: "1=ACK 2=NACK",
  },
  {
    id: "N9",
    alg: TwoNodeLms,
    config: [1, 2, 3],
    tb: LOWEST,
    connected: [1],
    steps: [],
    expect: "1=ACK",
    errors: "1=12",
  },
  {
    id: "N10",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: HIGHEST,
    connected: [1],
    steps: [{ mem: 1, members: [1], ring: [1, 2], reply: ACK }],
    expect: "1=ACK",
  },
  {
    // The winner leaves: the loser keeps NACK through a quorum list, until its next membership.
    id: "N11",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: LOWEST,
    steps: [
      { split: "1|2" },
      { leave: 1 },
      { quorum: 2, reply: NO_CHANGE },
      { expect: "2=NACK" },
      { mem: 2, members: [2], ring: [2, 3], reply: ACK },
    ],
    expect: "2=ACK",
  },
  {
    id: "N12",
    alg: TwoNodeLms,
    config: [1, 2],
    tb: LOWEST,
    steps: [{ ask: 1, reply: ACK }, { hc: 1, h: F, reply: NO_CHANGE }],
    expect: "1=ACK 2=ACK",
  },
  // --- lms ---
  { id: "L1", alg: Lms, config: range(1, 3), tb: LOWEST, steps: [], expect: "1=ACK 2=ACK 3=ACK" },
  {
    id: "L2",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK",
  },
  {
    id: "L3",
    alg: Lms,
    config: range(1, 4),
    tb: HIGHEST,
    steps: [{ split: "1,2|3,4" }],
    expect: "1=NACK 2=NACK 3=ACK 4=ACK",
  },
  {
    // NODE_ID: only the tie-breaker node itself gets ACK, not its partition-mates.
    id: "L4",
    alg: Lms,
    config: range(1, 4),
    tb: nodeTb(1),
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=NACK 3=NACK 4=NACK",
  },
  {
    id: "L5",
    alg: Lms,
    config: range(1, 4),
    tb: HIGHEST,
    steps: [{ split: "1,2,3|4" }],
    expect: "1=ACK 2=ACK 3=ACK 4=NACK",
  },
  {
    id: "L6",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ split: "1,2|3P,4P" }],
    expect: "1=NACK 2=NACK 3=ACK 4=ACK",
  },
  {
    // Scores 2,2,0: the joint best score is settled by the largest partition of all.
    id: "L7",
    alg: Lms,
    config: range(1, 5),
    tb: LOWEST,
    steps: [{ split: "1P|2P|3F,4F,5F" }],
    expect: "1=NACK 2=NACK 3=ACK 4=ACK 5=ACK",
  },
  {
    id: "L8",
    alg: Lms,
    config: range(1, 4),
    tb: HIGHEST,
    connected: [1, 2, 3],
    steps: [{ split: "1,2|3,4" }],
    expect: "1=ACK 2=ACK 3=NACK",
  },
  {
    id: "L9",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    connected: [3],
    steps: [{ mem: 3, members: [3], ring: [3, 2], reply: ACK }],
    expect: "3=ACK",
  },
  {
    id: "L10",
    alg: Lms,
    config: range(1, 5),
    tb: LOWEST,
    steps: [{ split: "1,2|3,4|5" }],
    expect: "1=ACK 2=ACK 3=NACK 4=NACK 5=NACK",
  },
  {
    // Newcomer rule: NACK (not remembered) while another ring holds ACK.
    id: "L11",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    connected: [1],
    steps: [
      { mem: 1, members: [1], ring: [1, 2], reply: ACK },
      { join: 3, ring: [3, 3], members: [3, 4] },
      { join: 4, ring: [3, 3], members: [3, 4] },
      { expect: "1=ACK 3=NACK 4=NACK" },
      { quorum: 1, reply: NACK },
      { quorum: 3, reply: ACK },
      { quorum: 4, reply: ACK },
    ],
    expect: "1=NACK 3=ACK 4=ACK",
  },
  {
    id: "L12",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    steps: [{ mem: 1, members: [1, 2], ring: [1, 2], reply: WAIT }],
    expect: "1=- 2=ACK 3=ACK 4=ACK",
  },
  {
    // After its peers left, a node keeps its vote until it sends something.
    id: "L13",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    steps: [
      { split: "1,2|3,4" },
      { expect: "1=ACK 2=ACK 3=NACK 4=NACK" },
      { leave: 1 },
      { leave: 2 },
      { expect: "3=NACK 4=NACK" },
      { quorum: 3, reply: ACK },
    ],
    expect: "3=ACK 4=NACK",
  },
  {
    id: "L14",
    alg: Lms,
    config: range(1, 3),
    tb: LOWEST,
    steps: [{ ask: 2, reply: ACK }, { hc: 2, h: F, reply: NO_CHANGE }],
    expect: "1=ACK 2=ACK 3=ACK",
  },
  {
    // LOWEST is the lowest *connected* id here: the opposite of F29.
    id: "L15",
    alg: Lms,
    config: range(1, 4),
    tb: LOWEST,
    connected: [3, 4],
    steps: [{ split: "1,4|2,3" }],
    expect: "3=ACK 4=NACK",
  },
];

/** Parses "1P,2|3F,4" into parts of [node, heuristics]. */
function parseSplit(text: string): [number, Heuristics][][] {
  return text.split("|").map((part) =>
    part.split(",").map((token): [number, Heuristics] => {
      const h = token.endsWith("P") ? P : token.endsWith("F") ? F : Heuristics.Undefined;
      return [Number.parseInt(token, 10), h];
    })
  );
}

function replyVote(replies: Replies): Vote | "error" | undefined {
  // The reply to the message itself, not the VOTE_INFOs that came before or after it.
  const last = replies.findLast((msg) => msg.type !== 14);
  if (last === undefined) return undefined;
  if (last.type === 5) return "error";
  return last.vote;
}

/**
 * Plays `row` on `h`: joins the starting nodes, runs each step, asserts every reply vote and
 * checkpoint on the way, and settles at the end. The final votes and errors are left to
 * the caller (see assertOutcome()).
 */
export async function runRow(row: Row, h: ScenarioHarness): Promise<void> {
  const joinOptions = {
    algorithm: row.alg,
    config: row.config,
    tieBreaker: row.tb,
    kap: row.kap ?? 1,
  };
  for (const id of row.connected ?? row.config) await h.join(id, joinOptions);
  const check = (nodeId: number, replies: Replies, want: Vote | "error" | undefined) => {
    if (want === undefined) return;
    assertEquals(replyVote(replies), want, `${row.id}: reply to node ${nodeId}`);
  };
  for (const step of row.steps) {
    if ("split" in step) {
      const parts = parseSplit(step.split);
      for (const id of h.connectedIds()) {
        const part = parts.find((p) => p.some(([n]) => n === id));
        if (part === undefined) continue;
        const members = part.map(([n]) => n);
        const heur = part.find(([n]) => n === id)![1];
        await h.membership(id, members, [members[0]!, 2], heur);
        await h.quorum(id, members);
      }
    } else if ("mem" in step) {
      check(step.mem, await h.membership(step.mem, step.members, step.ring, step.h), step.reply);
    } else if ("quorum" in step) {
      check(step.quorum, await h.quorum(step.quorum, [step.quorum]), step.reply);
    } else if ("hc" in step) {
      check(step.hc, await h.send(step.hc, { type: 16, heuristics: step.h }), step.reply);
    } else if ("ask" in step) {
      check(step.ask, await h.send(step.ask, { type: 12 }), step.reply);
    } else if ("changed" in step) {
      await h.send(step.changed, {
        type: 10,
        nodeListType: 1,
        nodes: step.config.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 })),
      });
    } else if ("leave" in step) {
      await h.disconnect(step.leave);
    } else if ("join" in step) {
      await h.join(step.join, {
        ...joinOptions,
        ...(step.ring ? { ring: step.ring } : {}),
        ...(step.members ? { members: step.members } : {}),
        ...(step.upTo ? { upTo: step.upTo } : {}),
      });
    } else if ("silent" in step) {
      h.silence(step.silent);
    } else {
      await h.settle(row.alg, step.expect);
      assertEquals(h.votes(), step.expect, `${row.id}: checkpoint`);
    }
  }
  await h.settle(row.alg, row.expect);
}

/** The settled outcome of a row on some harness. */
export interface Outcome {
  readonly votes: string;
  readonly errors: string;
}

/** Reads the outcome of `h` after runRow(). */
export function outcomeOf(h: ScenarioHarness): Outcome {
  return { votes: h.votes(), errors: h.errors() };
}

/** Asserts the final votes and server errors `row` expects; `label` names the harness. */
export function assertOutcome(row: Row, outcome: Outcome, label = ""): void {
  const at = label === "" ? row.id : `${row.id} (${label})`;
  assertEquals(outcome.votes, row.expect, at);
  assertEquals(outcome.errors, row.errors ?? "", `${at}: server errors`);
}
