/**
 * Property: whatever well-formed messages and disconnects the clients of one ffsplit
 * cluster send, the arbiter never throws and never leaves ACK with clients of two
 * different partitions (stored ring ids) at the same time.
 */
import { ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { DecisionAlgorithm, MsgType, Vote } from "../../core/protocol/constants.ts";
import type { Heuristics } from "../../core/protocol/constants.ts";
import { Harness, HIGHEST, type JoinOptions, LOWEST, nodes, nodeTb } from "../support/mod.ts";

type Command =
  | { kind: "mem"; node: number; members: number[]; seq: number; h: Heuristics }
  | { kind: "quorum"; node: number }
  | { kind: "hc"; node: number; h: Heuristics }
  | { kind: "cfg"; node: number; size: number }
  | { kind: "leave"; node: number }
  | { kind: "join"; node: number }
  | { kind: "silent"; node: number; silent: boolean };

const node = fc.integer({ min: 1, max: 4 });
const heuristics = fc.constantFrom<Heuristics>(0, 1, 2);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("mem" as const),
    node,
    members: fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }),
    seq: fc.integer({ min: 1, max: 3 }),
    h: heuristics,
  }),
  fc.record({ kind: fc.constant("quorum" as const), node }),
  fc.record({ kind: fc.constant("hc" as const), node, h: fc.constantFrom<Heuristics>(1, 2) }),
  fc.record({ kind: fc.constant("cfg" as const), node, size: fc.integer({ min: 3, max: 5 }) }),
  fc.record({ kind: fc.constant("leave" as const), node }),
  fc.record({ kind: fc.constant("join" as const), node }),
  fc.record({ kind: fc.constant("silent" as const), node, silent: fc.boolean() }),
);

function run(h: Harness, c: Command, join: JoinOptions): void {
  const target = h.nodes.get(c.node);
  if (c.kind === "join") {
    if (target === undefined || !target.connected) h.join(c.node, join);
    return;
  }
  if (target === undefined || !target.connected) return;
  switch (c.kind) {
    case "mem":
      h.membership(c.node, c.members, [c.members[0]!, c.seq], c.h);
      return;
    case "quorum":
      h.quorum(c.node, [c.node]);
      return;
    case "hc":
      h.send(c.node, { type: MsgType.HeuristicsChange, heuristics: c.h });
      return;
    case "cfg":
      h.send(c.node, {
        type: MsgType.NodeList,
        nodeListType: 1,
        nodes: nodes(Array.from({ length: c.size }, (_, i) => i + 1)),
      });
      return;
    case "leave":
      h.disconnect(c.node);
      return;
    case "silent":
      target.autoReply = !c.silent;
      return;
  }
}

/** The distinct stored ring ids of the connected clients that hold ACK. */
function ackRings(h: Harness): Set<string> {
  const snapshot = h.arbiter.snapshot({ address: "*", port: 5403 });
  const rings = new Set<string>();
  for (const client of snapshot.clusters[0]?.clients ?? []) {
    const fake = h.nodes.get(client.nodeId);
    if (fake?.connected && fake.vote === Vote.Ack) {
      rings.add(`${client.ringId.nodeId}.${client.ringId.seq}`);
    }
  }
  return rings;
}

Deno.test({
  name: "ffsplit never gives ACK to two partitions and never throws (property)",
  permissions: "none",
  fn() {
    fc.assert(
      fc.property(
        fc.constantFrom(LOWEST, HIGHEST, nodeTb(1), nodeTb(5)),
        fc.constantFrom<0 | 1>(0, 1),
        fc.array(command, { maxLength: 40 }),
        (tieBreaker, kap, commands) => {
          const h = new Harness();
          const join: JoinOptions = {
            algorithm: DecisionAlgorithm.Ffsplit,
            config: [1, 2, 3, 4],
            tieBreaker,
            kap,
          };
          for (const id of [1, 2, 3, 4]) h.join(id, join);
          for (const c of commands) {
            run(h, c, join);
            const rings = ackRings(h);
            assert(
              rings.size <= 1,
              `ACK in partitions ${[...rings].join(", ")} after ${JSON.stringify(c)}`,
            );
          }
        },
      ),
      { numRuns: 300, seed: 20240603 },
    );
  },
});
