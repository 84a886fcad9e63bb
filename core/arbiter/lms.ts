/**
 * Decision algorithm 3, "lms": last man standing for clusters of any size.
 *
 * Port of qdevices/qnetd-algo-lms.c and qnetd-algo-utils.c. Clients are grouped into
 * partitions by stored ring id; the best score wins, then the largest partition, then the
 * tie-breaker among the *connected* clients. While the members of the client's own
 * partition disagree on the ring id, the answer is WAIT_FOR_REPLY and the algo timer
 * (heartbeat/4) retries, sending the result as VOTE_INFO once decided.
 *
 * @module
 */
import { Priority } from "../log.ts";
import { TieBreakerMode, Vote } from "../protocol/constants.ts";
import type { RingId } from "../protocol/types.ts";
import type { AlgoOutcome, Algorithm, AlgorithmContext, Reason } from "./algorithm_types.ts";
import {
  allRingIdsMatch,
  createPartitions,
  dataOf,
  dumpPartitions,
  isNewcomerToActivePartition,
  NEWCOMER_REASON,
  NO_ERROR,
  nodeSetText,
  type Partition,
  scanTieBreaker,
  tieReason,
  voted,
} from "./algo_utils.ts";
import { type Client, ringIdEquals, ZERO_RING_ID } from "./client.ts";
import { asInt32, clusterNameText, ringIdText } from "./log_debug.ts";

/** `struct qnetd_algo_lms_info`. */
export class LmsClientData {
  numConfigNodes = 0;
  /** 0 (new), ACK, NACK or WAIT_FOR_REPLY. */
  lastResult: Vote = Vote.Undefined;
}

function lastResultOf(client: Client): Vote {
  return dataOf(client, LmsClientData).lastResult;
}

/** The start of C's LOWEST scan (INT_MAX) and the node id of an invalid tie-breaker. */
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

/** The first partition with the highest value of `key`, and whether another one ties it. */
function leader(
  partitions: readonly Partition[],
  key: (p: Partition) => number,
): { best: Partition; joint: boolean } {
  let best = partitions[0]!;
  for (const p of partitions) if (key(best) < key(p)) best = p;
  const joint = partitions.some((p) => p !== best && key(p) === key(best));
  return { best, joint };
}

/** `do_lms_algorithm()`. */
function doLms(ctx: AlgorithmContext, client: Client, ring: RingId): AlgoOutcome {
  const info = dataOf(client, LmsClientData);
  const settle = (vote: Vote, reason: Reason): AlgoOutcome => {
    info.lastResult = vote;
    return voted(vote, reason);
  };
  ctx.abortAlgoTimer(client);

  if (!allRingIdsMatch(ctx, client, ring)) {
    ctx.log(
      Priority.Debug,
      `algo-lms: nodeid ${asInt32(client.nodeId)}: ring ID (${
        ringIdText(ring)
      }) not unique in this membership, waiting`,
    );
    ctx.scheduleAlgoTimer(client);
    return settle(
      Vote.WaitForReply,
      "the nodes of this partition do not report the same ring id yet: waiting",
    );
  }

  const partitions = createPartitions(client);
  if (partitions.length === 0) {
    ctx.log(Priority.Debug, "algo-lms: No partitions found");
    ctx.scheduleAlgoTimer(client);
    return settle(Vote.WaitForReply, "no node has reported a ring id yet: waiting");
  }
  dumpPartitions(ctx, partitions);
  if (partitions.length === 1) {
    ctx.log(Priority.Debug, "algo-lms: Only 1 partition. This is votequorum's problem, not ours");
    return settle(Vote.Ack, "only one partition: votequorum decides, every node gets ACK");
  }

  if (isNewcomerToActivePartition(ctx, client, ring, lastResultOf, "algo-lms")) {
    return voted(Vote.Nack, NEWCOMER_REASON);
  }
  const total = partitions.reduce((sum, p) => sum + p.numNodes, 0);
  const members = (p: Partition) => partitionNodesText(client, p);

  const byScore = leader(partitions, (p) => p.score);
  ctx.log(
    Priority.Debug,
    `algo-lms: best score partition is (${
      ringIdText(byScore.best.ringId)
    }) with score ${byScore.best.score}`,
  );
  if (!byScore.joint) {
    // Without heuristics the score is the number of nodes: say so in those words.
    const best = byScore.best;
    const why = () =>
      partitions.every((p) => p.score === p.numNodes)
        ? `partition ${members(best)} has ${best.numNodes} of ${total} nodes, the most`
        : `score: partition ${members(best)} has the best score, ${best.score} ` +
          "(a point per node, +1 per heuristics pass, -1 per fail)";
    if (ringIdEquals(byScore.best.ringId, ring)) {
      ctx.log(Priority.Debug, "algo-lms: We are in the best score partition. ACK");
      return settle(Vote.Ack, why);
    }
    ctx.log(Priority.Debug, "algo-lms: We are NOT in the best score partition. NACK");
    return settle(Vote.Nack, why);
  }

  const bySize = leader(partitions, (p) => p.numNodes);
  ctx.log(
    Priority.Debug,
    `algo-lms: largest partition is (${
      ringIdText(bySize.best.ringId)
    }) with ${bySize.best.numNodes} nodes`,
  );
  if (!bySize.joint) {
    const why = () =>
      `partition ${members(bySize.best)} has ${bySize.best.numNodes} of ${total} nodes, the most`;
    if (ringIdEquals(bySize.best.ringId, ring)) {
      ctx.log(Priority.Debug, "algo-lms: We are in the largest partition. ACK");
      return settle(Vote.Ack, why);
    }
    ctx.log(Priority.Debug, "algo-lms: We are NOT in the largest partition. NACK");
    return settle(Vote.Nack, why);
  }

  const { nodeId: tbNodeId, ring: tbRing } = tieBreakerNode(ctx, client);
  const where = `(${ringIdText(tbRing)}) as tie-breaker node id ${asInt32(tbNodeId)}`;
  const why = () => tieReason(client.tieBreaker.mode, tbNodeId);
  if (client.nodeId === tbNodeId || ringIdEquals(tbRing, ring)) {
    ctx.log(Priority.Debug, `algo-lms: We are in the same partition ${where}. ACK`);
    return settle(Vote.Ack, why);
  }
  ctx.log(Priority.Debug, `algo-lms: We are NOT in the same partition ${where}. NACK`);
  return settle(Vote.Nack, why);
}

/**
 * The tie-breaker node and the ring it is in, as C finds them: LOWEST starts at INT_MAX (so
 * ids >= 2^31 never win), HIGHEST at 0; NODE_ID takes the ring of the *last* client when
 * the client itself is the tie-breaker, else {0, 0} (a bug kept for compatibility).
 */
function tieBreakerNode(ctx: AlgorithmContext, client: Client): { nodeId: number; ring: RingId } {
  const mode = client.tieBreaker.mode;
  const clients = client.cluster?.clients ?? [];
  if (mode === TieBreakerMode.Lowest || mode === TieBreakerMode.Highest) {
    const what = mode === TieBreakerMode.Lowest ? "low" : "high";
    const { nodeId, item } = scanTieBreaker(
      mode,
      clients,
      (other) => other.nodeId,
      mode === TieBreakerMode.Lowest ? INT32_MAX : 0,
      (other, id) =>
        ctx.log(
          Priority.Debug,
          `algo-lms: Looking for ${what} node ID. found ${asInt32(id)} (${
            ringIdText(other.lastRingId)
          })`,
        ),
    );
    return { nodeId, ring: item?.lastRingId ?? ZERO_RING_ID };
  }
  if (mode === TieBreakerMode.NodeId) {
    const nodeId = client.tieBreaker.nodeId;
    let ring: RingId = ZERO_RING_ID;
    if (nodeId === client.nodeId) {
      for (const other of clients) {
        ring = other.lastRingId;
        ctx.log(
          Priority.Debug,
          `algo-lms: Looking for nominated node ID. found ${asInt32(nodeId)} (${ringIdText(ring)})`,
        );
      }
    }
    return { nodeId, ring };
  }
  const invalid = `algo-lms: denied vote because tie-breaker option is invalid: ${mode}`;
  ctx.log(Priority.Debug, invalid);
  for (const _other of clients) ctx.log(Priority.Debug, invalid);
  return { nodeId: UINT32_MAX, ring: ZERO_RING_ID };
}

/** The connected nodes of an lms partition (those whose stored ring is its ring): "{1,2}". */
function partitionNodesText(client: Client, partition: Partition): string {
  const clients = client.cluster?.clients ?? [];
  return nodeSetText(
    clients.filter((c) => ringIdEquals(c.lastRingId, partition.ringId)).map((c) => c.nodeId),
  );
}

function describe(client: Client): string {
  return `Client ${client.pointer} (cluster ${clusterNameText(client.clusterName)}, node_id ${
    client.nodeId >>> 0
  })`;
}

/** The lms algorithm (`qnetd_algo_lms`). */
export const lmsAlgorithm: Algorithm = {
  init(_ctx, client) {
    client.algorithmData = new LmsClientData();
    return NO_ERROR;
  },

  configNodeListReceived(ctx, client, _seq, _configVersion, nodes) {
    dataOf(client, LmsClientData).numConfigNodes = nodes.length;
    ctx.log(
      Priority.Debug,
      `algo-lms: cluster ${
        clusterNameText(client.clusterName)
      } config_list has ${nodes.length} nodes`,
    );
    return voted(Vote.NoChange);
  },

  membershipNodeListReceived(ctx, client, _seq, ring) {
    ctx.log(Priority.Debug, " ");
    ctx.log(
      Priority.Debug,
      `algo-lms: membership list from node ${asInt32(client.nodeId)} partition (${
        ringIdText(ring)
      })`,
    );
    return doLms(ctx, client, ring);
  },

  quorumNodeListReceived(ctx, client) {
    ctx.log(Priority.Debug, " ");
    ctx.log(
      Priority.Debug,
      `algo-lms: quorum node list from node ${asInt32(client.nodeId)} partition (${
        ringIdText(client.lastRingId)
      })`,
    );
    return doLms(ctx, client, client.lastRingId);
  },

  clientDisconnect(ctx, client, serverGoingDown) {
    ctx.log(Priority.Debug, `algo-lms: ${describe(client)} disconnect`);
    ctx.log(Priority.Info, `algo-lms:   server going down ${serverGoingDown ? 1 : 0}`);
  },

  askForVoteReceived(ctx, client) {
    ctx.log(Priority.Debug, " ");
    ctx.log(Priority.Debug, `algo-lms: ${describe(client)} asked for a vote`);
    return doLms(ctx, client, client.lastRingId);
  },

  voteInfoReplyReceived(ctx, client) {
    ctx.log(Priority.Debug, `algo-lms: ${describe(client)} replied back to vote info message`);
    return NO_ERROR;
  },

  heuristicsChangeReceived(ctx) {
    ctx.log(Priority.Info, "algo-lms: heuristics change is not supported.");
    return voted(Vote.NoChange);
  },

  timerCallback(ctx, client) {
    ctx.log(Priority.Debug, `algo-lms: ${describe(client)} Timer callback`);
    const outcome = doLms(ctx, client, client.lastRingId);
    const ok = outcome.error === NO_ERROR;
    return {
      error: outcome.error,
      sendVote: ok && (outcome.vote === Vote.Ack || outcome.vote === Vote.Nack),
      reschedule: ok && outcome.vote === Vote.WaitForReply,
      vote: outcome.vote,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    };
  },
};
