/**
 * What the decision algorithms share: their per-client and per-cluster data, the outcome
 * shorthands, the partitions by ring id, the "newcomer gets NACK" rule and the tie-breaker
 * scan.
 *
 * Port of qdevices/qnetd-algo-utils.c, plus the pieces the C algorithms each wrote out
 * (the newcomer loop of qnetd-algo-lms.c and qnetd-algo-2nodelms.c, the lowest/highest
 * node id loops of those two and of qnetd-algo-ffsplit.c).
 *
 * @module
 */
import { Priority } from "../log.ts";
import { Heuristics, ReplyError, TieBreakerMode, Vote } from "../protocol/constants.ts";
import type { RingId } from "../protocol/types.ts";
import type { AlgoOutcome, AlgorithmContext, Reason } from "./algorithm_types.ts";
import { type Client, hasNodeId, ringIdEquals } from "./client.ts";
import { asInt32, ringIdText } from "./log_debug.ts";

/** "No error" as an algorithm returns it (C's 0 of `enum tlv_reply_error_code`). */
export const NO_ERROR: number = ReplyError.NoError;

/**
 * An outcome without error; `reason` says why in words an admin understands (it goes to
 * the decision history, never to the wire or the C daemon's log lines).
 */
export function voted(vote: Vote, reason?: Reason): AlgoOutcome {
  return reason === undefined ? { error: NO_ERROR, vote } : { error: NO_ERROR, vote, reason };
}

/** An outcome with an error code; the vote is then undefined (never sent). */
export function failed(error: number, reason?: Reason): AlgoOutcome {
  return reason === undefined
    ? { error, vote: Vote.Undefined }
    : { error, vote: Vote.Undefined, reason };
}

/** The text of a reason (made now if it is a function). */
export function reasonText(reason: Reason | undefined): string | undefined {
  return typeof reason === "function" ? reason() : reason;
}

/** A reason made at most once, however many votes carry it (ffsplit's rounds). */
export function onceReason(make: () => string): () => string {
  let text: string | undefined;
  return () => text ??= make();
}

/** Node ids as a set for the history: "{1,2,3}" (unsigned, in the order given). */
export function nodeSetText(nodeIds: Iterable<number>): string {
  return `{${[...nodeIds].map((id) => id >>> 0).join(",")}}`;
}

/** What a tie-breaker prefers, for reasons: "lowest node id", "nominated tie-breaker". */
export function tieBreakerText(mode: number): string {
  switch (mode) {
    case TieBreakerMode.Lowest:
      return "lowest node id";
    case TieBreakerMode.Highest:
      return "highest node id";
    case TieBreakerMode.NodeId:
      return "the nominated tie-breaker";
    default:
      return `invalid tie-breaker ${mode}`;
  }
}

/** The reason of a tie-breaker decision: "tie: the partition with node 1 (lowest node id) wins". */
export function tieReason(mode: number, nodeId: number): string {
  return `tie: the partition with node ${nodeId >>> 0} (${tieBreakerText(mode)}) wins`;
}

/** The reason a newcomer gets NACK (lms, 2nodelms). */
export const NEWCOMER_REASON =
  "a new partition gets NACK while another partition holds the vote (ACK)";

/** Something that carries data owned by an algorithm (a client or a cluster). */
interface DataHolder {
  algorithmData: unknown;
}

/**
 * The holder's algorithm data of class `type`, created when missing or of another class (a
 * client that switched algorithm by a second INIT), as C's `client->algorithm_data`.
 */
export function dataOf<T>(holder: DataHolder, type: new () => T): T {
  if (!(holder.algorithmData instanceof type)) holder.algorithmData = new type();
  return holder.algorithmData as T;
}

/**
 * The rule lms and 2nodelms share: a client that has no result yet (`lastResultOf` gives
 * `Vote.Undefined`) in another ring than a client holding ACK is a new partition, and gets
 * NACK (not remembered). Returns true when that is the case, after C's debug line.
 */
export function isNewcomerToActivePartition(
  ctx: AlgorithmContext,
  client: Client,
  ring: RingId,
  lastResultOf: (client: Client) => Vote,
  logPrefix: string,
): boolean {
  if (lastResultOf(client) !== Vote.Undefined) return false;
  for (const other of client.cluster?.clients ?? []) {
    if (!ringIdEquals(ring, other.lastRingId) && lastResultOf(other) === Vote.Ack) {
      ctx.log(
        Priority.Debug,
        `${logPrefix}: we are a new partition and another active partition exists. NACK`,
      );
      return true;
    }
  }
  return false;
}

/** The tie-breaker modes that scan for an extreme node id. */
export type ExtremeMode = typeof TieBreakerMode.Lowest | typeof TieBreakerMode.Highest;

/**
 * The node id a LOWEST (or HIGHEST) tie-breaker prefers among `items`: the scan C writes
 * in each algorithm, starting from `start` and taking an item only when strictly lower (or
 * higher), so the first of equal ids wins. `found` sees every improvement, in order.
 * Returns `start` and no item when none improves on it.
 */
export function scanTieBreaker<T>(
  mode: ExtremeMode,
  items: Iterable<T>,
  idOf: (item: T) => number,
  start: number,
  found?: (item: T, nodeId: number) => void,
): { nodeId: number; item: T | undefined } {
  let nodeId = start;
  let best: T | undefined;
  for (const item of items) {
    const id = idOf(item);
    if (mode === TieBreakerMode.Lowest ? id < nodeId : id > nodeId) {
      nodeId = id;
      best = item;
      found?.(item, id);
    }
  }
  return { nodeId, item: best };
}

/** `struct qnetd_algo_partition`. */
export interface Partition {
  readonly ringId: RingId;
  numNodes: number;
  score: number;
  /** Stands in for the `%p` of the partition in the dump. */
  readonly pointer: string;
}

/** `qnetd_algo_all_ring_ids_match()`: false while a partition-mate reports another ring. */
export function allRingIdsMatch(ctx: AlgorithmContext, client: Client, ring: RingId): boolean {
  for (const other of client.cluster?.clients ?? []) {
    if (other === client) continue;
    ctx.log(
      Priority.Debug,
      `algo-util: all_ring_ids_match: seen nodeid ${
        asInt32(other.nodeId)
      } (client ${other.pointer}) ring_id (${ringIdText(other.lastRingId)})`,
    );
    const inOurPartition = hasNodeId(client.lastMembershipNodeList, other.nodeId) ||
      hasNodeId(other.lastMembershipNodeList, client.nodeId);
    if (inOurPartition && !ringIdEquals(ring, other.lastRingId)) {
      ctx.log(
        Priority.Debug,
        `algo-util: nodeid ${asInt32(other.nodeId)} in our partition has different ring_id (${
          ringIdText(other.lastRingId)
        }) to us (${ringIdText(ring)})`,
      );
      return false;
    }
  }
  return true;
}

/** `qnetd_algo_create_partitions()`: by stored ring id, in first-seen order, seq 0 skipped. */
export function createPartitions(client: Client): Partition[] {
  const partitions: Partition[] = [];
  for (const other of client.cluster?.clients ?? []) {
    if (other.lastRingId.seq === 0n) continue;
    let partition = partitions.find((p) => ringIdEquals(p.ringId, other.lastRingId));
    if (partition === undefined) {
      partition = {
        ringId: other.lastRingId,
        numNodes: 0,
        score: 0,
        pointer: `0x${(0x55d0c1a00000 + partitions.length * 0x30).toString(16)}`,
      };
      partitions.push(partition);
    }
    partition.numNodes++;
    partition.score++;
    if (other.lastHeuristics === Heuristics.Pass) partition.score++;
    else if (other.lastHeuristics === Heuristics.Fail) partition.score--;
  }
  return partitions;
}

/** `qnetd_algo_dump_partitions()`. */
export function dumpPartitions(ctx: AlgorithmContext, partitions: readonly Partition[]): void {
  for (const p of partitions) {
    ctx.log(
      Priority.Debug,
      `algo-util: partition (${ringIdText(p.ringId)}) (${p.pointer}) has ${p.numNodes} nodes`,
    );
  }
}
