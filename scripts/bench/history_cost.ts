/**
 * What the decision history costs on the vote path, without the network: the pure Arbiter
 * with 500 four-node ffsplit clusters (100 with --quick), each alternating between whole and
 * split in two halves 20 times, every node sending its membership list and an echo, the
 * VOTE_INFO rounds answered at once. Prints the CPU time (user + system, min of 7 runs) with
 * the history off (`history_events_per_cluster=0`) and on (the defaults), and their ratio.
 * The network daemon side by side: scripts/bench/main.ts with two --arbiter lines, one with
 * `-S history_events_per_cluster=0`.
 *
 * Usage: scripts/deno run -A scripts/bench/history_cost.ts [--quick]
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { Arbiter } from "../../core/arbiter/arbiter.ts";
import { defaultArbiterSettings } from "../../core/arbiter/settings.ts";
import { ManualClock } from "../../core/clock.ts";
import { nullLog } from "../../core/log.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeListType,
  NodeState,
  TieBreakerMode,
  TlsSupported,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg, NodeInfo, RingId } from "../../core/protocol/types.ts";

const NODES = 4;
const ROUNDS = 20;
const RUNS = 7;

function nodeList(ids: readonly number[]): NodeInfo[] {
  return ids.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: NodeState.Member }));
}

/** CPU ms of the membership rounds for `clusters` clusters with the history limit given. */
function run(historyEventsPerCluster: number, clusters: number): number {
  const settings = {
    ...defaultArbiterSettings(),
    tlsSupported: TlsSupported.Unsupported,
    dpdEnabled: false,
    historyEventsPerCluster,
  };
  const arbiter = new Arbiter({ settings, clock: new ManualClock(0), log: nullLog });
  const raw = new Uint8Array(6);
  const encoder = new TextEncoder();
  const send = (clientId: number, msg: DecodedMsg): void => {
    for (const action of arbiter.received(clientId, raw, { ok: true, msg })) {
      if (action.kind === "send" && action.msg.type === MsgType.VoteInfo) {
        arbiter.received(action.clientId, raw, {
          ok: true,
          msg: { type: MsgType.VoteInfoReply, seqNumber: action.msg.seqNumber },
        });
      }
    }
  };
  const all = Array.from({ length: NODES }, (_, i) => i + 1);
  const membership = (seq: number, ring: RingId, ids: readonly number[]): DecodedMsg => ({
    type: MsgType.NodeList,
    seqNumber: seq,
    nodeListType: NodeListType.Membership,
    ringId: ring,
    nodes: nodeList(ids),
  });
  const rows: number[][] = [];
  for (let c = 0; c < clusters; c++) {
    const row = all.map((n) => {
      const id = arbiter.accept(`10.0.${c >> 8}.${c & 255}:${5400 + n}`)!.clientId;
      send(id, { type: MsgType.Preinit, seqNumber: 1, clusterName: encoder.encode(`c${c}`) });
      send(id, {
        type: MsgType.Init,
        seqNumber: 2,
        nodeId: n,
        decisionAlgorithm: DecisionAlgorithm.Ffsplit,
        heartbeatInterval: 8000,
        tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
        ringId: { nodeId: 1, seq: 1n },
      });
      send(id, {
        type: MsgType.NodeList,
        seqNumber: 3,
        nodeListType: NodeListType.InitialConfig,
        nodes: nodeList(all),
      });
      return id;
    });
    row.forEach((id) => send(id, membership(4, { nodeId: 1, seq: 1n }, all)));
    rows.push(row);
  }
  const start = cpuUsage();
  let seq = 10;
  for (let r = 0; r < ROUNDS; r++) {
    const split = r % 2 === 0;
    const ringSeq = BigInt(r + 2);
    for (const row of rows) {
      row.forEach((id, i) => {
        const n = i + 1;
        const low = n <= NODES / 2;
        const ids = split ? all.filter((x) => (x <= NODES / 2) === low) : all;
        const ring = { nodeId: split && !low ? NODES / 2 + 1 : 1, seq: ringSeq };
        send(id, membership(seq++, ring, ids));
        send(id, { type: MsgType.EchoRequest, seqNumber: seq++ });
      });
    }
  }
  const used = cpuUsage(start);
  return (used.user + used.system) / 1000;
}

if (import.meta.main) {
  const clusters = Deno.args.includes("--quick") ? 100 : 500;
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    off.push(run(0, clusters));
    on.push(run(defaultArbiterSettings().historyEventsPerCluster, clusters));
  }
  const minOff = Math.min(...off);
  const minOn = Math.min(...on);
  const messages = clusters * NODES * ROUNDS * 2;
  const out = `${clusters} clusters of ${NODES}, ${messages} messages: CPU history off ${
    minOff.toFixed(0)
  } ms, on ${minOn.toFixed(0)} ms, on/off ${(minOn / minOff).toFixed(2)}\n`;
  Deno.stdout.writeSync(new TextEncoder().encode(out));
}
