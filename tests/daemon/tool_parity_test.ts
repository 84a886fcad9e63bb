/**
 * Drives our daemon and the real corosync-qnetd into the same state with the same scripted
 * clients (several clusters, every algorithm, heuristics, data-center ids, a quoted cluster
 * name), then checks that the real corosync-qnetd-tool prints the same bytes against both,
 * and that our `qnet qnetd-tool` prints what the real tool prints.
 */
import assert from "node:assert/strict";
import {
  encodeConfigNodeList,
  encodeHeuristicsChange,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  Heuristics,
  MsgType,
  NodeState,
  TieBreakerMode,
} from "../../core/protocol/constants.ts";
import type { TieBreaker } from "../../core/protocol/types.ts";
import {
  type ArbiterKind,
  needAll,
  needCQnetd,
  needProgram,
  QdeviceClient,
  QNET_RUN_ARGS,
  type RunningArbiter,
  settle,
  startArbiter,
  testNeeding,
} from "../support/mod.ts";

const C_TOOL = "/usr/bin/corosync-qnetd-tool";

interface NodeSpec {
  cluster: string;
  nodeId: number;
  algorithm: DecisionAlgorithm;
  tieBreaker: TieBreaker;
  heartbeat: number;
  ring: { nodeId: number; seq: bigint };
  kap?: boolean;
  config?: { version?: bigint; nodes: Array<[id: number, dc: number]> };
  membership?: { nodes: number[]; heuristics?: Heuristics };
  quorum?: boolean;
  heuristicsChange?: Heuristics;
}

const lowest: TieBreaker = { mode: TieBreakerMode.Lowest, nodeId: 0 };
const highest: TieBreaker = { mode: TieBreakerMode.Highest, nodeId: 0 };
const ring14 = { nodeId: 1, seq: 4n };

/** The state both daemons are driven into; node order is the order of connection. */
const NODES: NodeSpec[] = [
  {
    cluster: "debian",
    nodeId: 2,
    algorithm: DecisionAlgorithm.Ffsplit,
    tieBreaker: lowest,
    heartbeat: 10000,
    ring: ring14,
    kap: true,
    config: { nodes: [[1, 0], [2, 3]] },
    membership: { nodes: [1, 2] },
    heuristicsChange: Heuristics.Fail,
  },
  {
    cluster: "debian",
    nodeId: 1,
    algorithm: DecisionAlgorithm.Ffsplit,
    tieBreaker: lowest,
    heartbeat: 8000,
    ring: ring14,
    kap: true,
    config: { version: 5n, nodes: [[1, 0], [2, 3]] },
    membership: { nodes: [1, 2], heuristics: Heuristics.Pass },
    quorum: true,
  },
  {
    cluster: "beta",
    nodeId: 3,
    algorithm: DecisionAlgorithm.TwoNodeLms,
    tieBreaker: { mode: TieBreakerMode.NodeId, nodeId: 7 },
    heartbeat: 3000,
    ring: { nodeId: 3, seq: 0xabn },
  },
  {
    cluster: "lms cluster",
    nodeId: 5,
    algorithm: DecisionAlgorithm.Lms,
    tieBreaker: highest,
    heartbeat: 4000,
    ring: { nodeId: 5, seq: 9n },
    config: { version: 2n, nodes: [[5, 0], [6, 0], [7, 1]] },
    membership: { nodes: [5], heuristics: Heuristics.Pass },
    quorum: false,
  },
  {
    cluster: 'odd "name" \\ x',
    nodeId: 9,
    algorithm: DecisionAlgorithm.Test,
    tieBreaker: lowest,
    heartbeat: 120000,
    ring: { nodeId: 9, seq: 1n },
    membership: { nodes: [9] },
  },
];

export async function drive(port: number): Promise<QdeviceClient[]> {
  const clients: QdeviceClient[] = [];
  for (const n of NODES) {
    const c = await QdeviceClient.connect(port, `${n.cluster}/${n.nodeId}`);
    clients.push(c);
    await c.request(
      encodePreinit({ seqNumber: c.nextSeq(), clusterName: n.cluster }),
      MsgType.PreinitReply,
    );
    const init = await c.request(
      encodeInit({
        seqNumber: c.nextSeq(),
        nodeId: n.nodeId,
        decisionAlgorithm: n.algorithm,
        heartbeatInterval: n.heartbeat,
        tieBreaker: n.tieBreaker,
        ringId: n.ring,
      }),
      MsgType.InitReply,
    );
    assert.equal(init.replyErrorCode, 0, `INIT of ${c.name}`);
    if (n.kap !== undefined) {
      await c.request(
        encodeSetOption({
          seqNumber: c.nextSeq(),
          heartbeatInterval: n.heartbeat,
          keepActivePartitionTieBreaker: n.kap ? 1 : 0,
        }),
        MsgType.SetOptionReply,
      );
    }
    if (n.config !== undefined) {
      await c.request(
        encodeConfigNodeList({
          seqNumber: c.nextSeq(),
          initial: true,
          ...(n.config.version === undefined ? {} : { configVersion: n.config.version }),
          nodes: n.config.nodes.map(([nodeId, dataCenterId]) => ({
            nodeId,
            dataCenterId,
            nodeState: NodeState.NotSet,
          })),
        }),
        MsgType.NodeListReply,
      );
    }
    if (n.membership !== undefined) {
      await c.request(
        encodeMembershipNodeList({
          seqNumber: c.nextSeq(),
          ringId: n.ring,
          nodeIds: n.membership.nodes,
          ...(n.membership.heuristics === undefined ? {} : { heuristics: n.membership.heuristics }),
        }),
        MsgType.NodeListReply,
      );
    }
    if (n.quorum !== undefined) {
      await c.request(
        encodeQuorumNodeList({
          seqNumber: c.nextSeq(),
          quorate: n.quorum ? 1 : 0,
          nodes: (n.membership?.nodes ?? [n.nodeId]).map((nodeId) => ({
            nodeId,
            dataCenterId: 0,
            nodeState: NodeState.Member,
          })),
        }),
        MsgType.NodeListReply,
      );
    }
    await settle(clients);
  }
  for (const [i, n] of NODES.entries()) {
    if (n.heuristicsChange === undefined) continue;
    const c = clients[i]!;
    await c.request(
      encodeHeuristicsChange({ seqNumber: c.nextSeq(), heuristics: n.heuristicsChange }),
      MsgType.HeuristicsChangeReply,
    );
    await settle(clients);
  }
  return clients;
}

/** The tool invocations compared, each as its argument list. */
const TOOL_RUNS: string[][] = [
  ["-s"],
  ["-s", "-v"],
  ["-l"],
  ["-l", "-v"],
  ["-l", "-c", "debian"],
  ["-l", "-v", "-c", 'odd "name" \\ x'],
  ["-l", "-c", "nonexistent"],
];

async function runTool(
  cmd: string,
  prefix: string[],
  args: string[],
  socket: string,
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(cmd, {
    args: [...prefix, ...args, "-p", socket],
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

/** Client ports differ between runs; everything else must be equal. */
function maskPorts(text: string, daemonPort: number): string {
  return text
    .replace(/(\d+\.\d+\.\d+\.\d+):\d+/g, "$1:PORT")
    .replace(`*:${daemonPort}`, "*:DAEMONPORT");
}

async function outputs(daemon: RunningArbiter, cmd: string, prefix: string[]) {
  const results: string[] = [];
  for (const args of TOOL_RUNS) {
    const r = await runTool(cmd, prefix, args, daemon.socketPath);
    results.push(`$ ${args.join(" ")} -> ${r.code}\n${maskPorts(r.out, daemon.port)}${r.err}`);
  }
  return results;
}

testNeeding(needAll(needCQnetd(), needProgram("/usr/bin/corosync-qnetd-tool", "corosync-qnetd")), {
  name: "qnetd-tool: the real tool prints the same against ours as against corosync-qnetd",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const results = new Map<ArbiterKind, string[]>();
    const ours = new Map<ArbiterKind, string[]>();
    for (const [kind, port] of [["c", 16521], ["qnet", 16522]] as const) {
      await using daemon = await startArbiter(kind, {
        port,
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      const clients = await drive(port);
      try {
        results.set(kind, await outputs(daemon, C_TOOL, []));
        ours.set(
          kind,
          await outputs(daemon, Deno.execPath(), [...QNET_RUN_ARGS, "qnetd-tool"]),
        );
      } finally {
        for (const c of clients) c[Symbol.dispose]();
      }
    }
    const c = results.get("c")!;
    // The state must be rich enough to mean something: every section shows up.
    assert.match(c.join("\n"), /Fifty-Fifty split \(KAP Tie-breaker\)/);
    assert.match(c.join("\n"), /Configured node list:\t1, 2 \(3\)/);
    assert.match(c.join("\n"), /Vote:\t\t\tACK \(ACK\)/);
    for (const [i, expected] of c.entries()) {
      assert.equal(results.get("qnet")![i], expected, "real tool, our daemon");
      assert.equal(ours.get("c")![i], expected, "our tool, real daemon");
      assert.equal(ours.get("qnet")![i], expected, "our tool, our daemon");
    }
  },
});
