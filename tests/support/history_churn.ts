/**
 * A hostile churn of clusters against the pure Arbiter, for tests/arbiter/history_churn_test.ts:
 * every connection invents a new, long cluster name, joins, sends its lists and leaves, so
 * every cluster leaves history behind. Run with `--v8-flags=--expose-gc`; prints one JSON
 * line: the heap after a warm-up and after each round (after a full GC), and the history's
 * own count of its bytes.
 *
 * Usage: deno run --v8-flags=--expose-gc history_churn.ts MAX_BYTES ROUNDS PER_ROUND
 *
 * @module
 */
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
import type { DecodedMsg, NodeInfo } from "../../core/protocol/types.ts";

const [maxBytes, rounds, perRound] = Deno.args.map(Number) as [number, number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Run with --v8-flags=--expose-gc");

const settings = {
  ...defaultArbiterSettings(),
  tlsSupported: TlsSupported.Unsupported,
  dpdEnabled: false,
  historyMaxMemory: maxBytes,
};
const clock = new ManualClock(0);
const arbiter = new Arbiter({ settings, clock, log: nullLog });
const encoder = new TextEncoder();
const raw = new Uint8Array(6);
let serial = 0;

function deliver(clientId: number, msg: DecodedMsg): void {
  arbiter.received(clientId, raw, { ok: true, msg });
}

function churn(count: number): void {
  for (let i = 0; i < count; i++) {
    const n = serial++;
    const accepted = arbiter.accept(`10.${n >> 16 & 255}.${n >> 8 & 255}.${n & 255}:5403`);
    if (accepted === undefined) throw new Error("Refused");
    const id = accepted.clientId;
    const nodes: NodeInfo[] = [{ nodeId: 1, dataCenterId: 0, nodeState: NodeState.Member }];
    deliver(id, {
      type: MsgType.Preinit,
      seqNumber: 1,
      clusterName: encoder.encode(`hostile-${n}-${"z".repeat(200)}`),
    });
    deliver(id, {
      type: MsgType.Init,
      seqNumber: 2,
      nodeId: 1,
      decisionAlgorithm: DecisionAlgorithm.Ffsplit,
      heartbeatInterval: 8000,
      tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
      ringId: { nodeId: 1, seq: 1n },
    });
    deliver(id, {
      type: MsgType.NodeList,
      seqNumber: 3,
      nodeListType: NodeListType.InitialConfig,
      nodes,
    });
    deliver(id, {
      type: MsgType.NodeList,
      seqNumber: 4,
      nodeListType: NodeListType.Membership,
      ringId: { nodeId: 1, seq: 1n },
      nodes,
    });
    arbiter.closed(id);
  }
}

function heap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

churn(1_000);
settings.historyEventsPerCluster = 0;
churn(1); // empties the history: the baseline holds the code, not the events
settings.historyEventsPerCluster = 200;
const baseline = heap();
const after: number[] = [];
let peakBytes = 0;
for (let r = 0; r < rounds; r++) {
  for (let done = 0; done < perRound; done += 1_000) {
    churn(1_000);
    peakBytes = Math.max(peakBytes, arbiter.history.bytes);
  }
  after.push(heap());
}
Deno.stdout.writeSync(new TextEncoder().encode(
  JSON.stringify({
    baseline,
    after,
    peakBytes,
    events: arbiter.history.size,
    clusters: arbiter.history.clusterCount,
    clients: arbiter.clientCount,
  }) + "\n",
));
