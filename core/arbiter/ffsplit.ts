/**
 * Decision algorithm 1, "ffsplit" (fifty-fifty split), the default of real clients.
 *
 * Port of qdevices/qnetd-algo-ffsplit.c. Once every connected client reports the same
 * configuration and consistent memberships, one partition is chosen (majority; at 50:50 by
 * heuristics score, connected clients, the keep-active-partition flag, then the
 * tie-breaker); its clients get ACK and all others NACK, by VOTE_INFO: first a NACK round,
 * and only when every NACK was acknowledged, the ACK round.
 *
 * One deliberate deviation: 3.0.3 dereferences the first entry of an empty config list in
 * the LOWEST/HIGHEST tie-breaker and crashes; here an empty config list means "the
 * preferred node is not in this partition".
 *
 * @module
 */
import { Priority } from "../log.ts";
import { Heuristics, ReplyError, TieBreakerMode, Vote } from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import type { AlgoOutcome, Algorithm, AlgorithmContext } from "./algorithm_types.ts";
import { dataOf, failed, NO_ERROR, scanTieBreaker, voted } from "./algo_utils.ts";
import { type Client, hasNodeId, ringIdEquals } from "./client.ts";
import type { Cluster } from "./cluster_list.ts";
import { clusterNameText, logNodeList } from "./log_debug.ts";

/** `enum qnetd_algo_ffsplit_cluster_state`. */
export const FfsplitClusterState = {
  WaitingForChange: 0,
  WaitingForStableMembership: 1,
  SendingNacks: 2,
  SendingAcks: 3,
} as const;
export type FfsplitClusterState = typeof FfsplitClusterState[keyof typeof FfsplitClusterState];

/** `enum qnetd_algo_ffsplit_client_state`. */
export const FfsplitClientState = { WaitingForChange: 0, SendingNack: 1, SendingAck: 2 } as const;
export type FfsplitClientState = typeof FfsplitClientState[keyof typeof FfsplitClientState];

/** `struct qnetd_algo_ffsplit_cluster_data`. */
export class FfsplitClusterData {
  state: FfsplitClusterState = FfsplitClusterState.WaitingForChange;
  /** The membership list of the last winner; empty when there was none. */
  quoratePartition: readonly NodeInfo[] = [];
}

/** `struct qnetd_algo_ffsplit_client_data`. */
export class FfsplitClientData {
  state: FfsplitClientState = FfsplitClientState.WaitingForChange;
  /** u32 seq of the last VOTE_INFO sent to this client. */
  voteInfoExpectedSeq = 0;
}

function clusterOf(client: Client): Cluster {
  const cluster = client.cluster;
  if (cluster === undefined) throw new Error(`Client ${client.addrStr} is in no cluster`);
  return cluster;
}

function clusterData(cluster: Cluster): FfsplitClusterData {
  return dataOf(cluster, FfsplitClusterData);
}

function clientData(client: Client): FfsplitClientData {
  return dataOf(client, FfsplitClientData);
}

/**
 * The arguments of one `qnetd_algo_ffsplit_do()` run: the client C whose event is handled,
 * whether it is leaving, and its effective (new) ring, lists and heuristics.
 */
interface Decision {
  readonly client: Client;
  readonly leaving: boolean;
  readonly ring: RingId;
  readonly config: readonly NodeInfo[];
  readonly membership: readonly NodeInfo[];
  readonly heuristics: Heuristics;
}

/** A client's data as the decision sees it: C's new data, the others' stored data. */
interface Effective {
  readonly config: readonly NodeInfo[];
  readonly membership: readonly NodeInfo[];
  readonly ring: RingId;
  readonly heuristics: Heuristics;
}

/** Effective data of `x`, or undefined when `x` is the leaving client (C compares node ids). */
function effective(d: Decision, x: Client): Effective | undefined {
  if (x.nodeId === d.client.nodeId) {
    if (d.leaving) return undefined;
    return { config: d.config, membership: d.membership, ring: d.ring, heuristics: d.heuristics };
  }
  return {
    config: x.configNodeList,
    membership: x.lastMembershipNodeList,
    ring: x.lastRingId,
    heuristics: x.lastHeuristics,
  };
}

/** `qnetd_algo_ffsplit_is_membership_stable()`. */
function isMembershipStable(d: Decision, cluster: Cluster): boolean {
  for (const x of cluster.clients) {
    for (const y of cluster.clients) {
      if (x === y) continue;
      const ex = effective(d, x);
      const ey = effective(d, y);
      if (ex === undefined || ey === undefined) continue;
      if (!ex.config.every((node) => hasNodeId(ey.config, node.nodeId))) return false;
    }
  }
  for (const x of cluster.clients) {
    const ex = effective(d, x);
    if (ex === undefined) continue;
    for (const node of ex.membership) {
      const y = cluster.findByNodeId(node.nodeId);
      if (y === undefined) continue;
      const ey = effective(d, y);
      if (ey === undefined) continue;
      if (!ringIdEquals(ex.ring, ey.ring)) return false;
      if (!ex.membership.every((n) => hasNodeId(ey.membership, n.nodeId))) return false;
    }
  }
  return true;
}

/** A candidate partition: its representative client and that client's effective data. */
interface Candidate {
  readonly client: Client;
  readonly config: readonly NodeInfo[];
  readonly membership: readonly NodeInfo[];
  readonly heuristics: Heuristics;
}

/** `qnetd_algo_ffsplit_get_active_clients_in_partition_stats()`. */
function partitionStats(
  cluster: Cluster,
  candidate: Candidate | undefined,
): { active: number; pass: number; fail: number } {
  const stats = { active: 0, pass: 0, fail: 0 };
  if (candidate === undefined) return stats;
  for (const node of candidate.membership) {
    const member = cluster.findByNodeId(node.nodeId);
    if (member === undefined) continue;
    stats.active++;
    const h = member === candidate.client ? candidate.heuristics : member.lastHeuristics;
    if (h === Heuristics.Pass) stats.pass++;
    else if (h === Heuristics.Fail) stats.fail++;
  }
  return stats;
}

/**
 * `qnetd_algo_ffsplit_is_preferred_partition()`. Deviation: an empty config list (a client
 * that never sent one) gives false instead of C's crash.
 */
function isPreferredPartition(candidate: Candidate): boolean {
  const config = candidate.config;
  const mode = candidate.client.tieBreaker.mode;
  let preferred: number;
  switch (mode) {
    case TieBreakerMode.Lowest:
    case TieBreakerMode.Highest:
      if (config.length === 0) return false;
      preferred = scanTieBreaker(
        mode,
        config,
        (node) => node.nodeId,
        mode === TieBreakerMode.Lowest ? Infinity : -Infinity,
      ).nodeId;
      break;
    case TieBreakerMode.NodeId:
      preferred = candidate.client.tieBreaker.nodeId;
      break;
    default:
      // C exits here; a client cannot reach it (INIT requires a valid tie-breaker).
      return false;
  }
  return hasNodeId(candidate.membership, preferred);
}

/** `qnetd_algo_ffsplit_partition_cmp()`: is `a` better than the best so far `b`? */
function partitionBetter(
  cluster: Cluster,
  a: Candidate,
  b: Candidate | undefined,
  quoratePartition: readonly NodeInfo[],
  kap: boolean,
): boolean {
  const n = a.config.length;
  const m = a.membership.length;
  const half = Math.floor(n / 2);
  if (n % 2 !== 0) return m > half;
  if (m > half) return true;
  if (m < half) return false;

  const sa = partitionStats(cluster, a);
  const sb = partitionStats(cluster, b);
  const scoreA = sa.active + sa.pass - sa.fail;
  const scoreB = sb.active + sb.pass - sb.fail;
  if (scoreA !== scoreB) return scoreA > scoreB;
  if (sa.active !== sb.active) return sa.active > sb.active;

  if (kap && b !== undefined) {
    const aWasQuorate = hasNodeId(quoratePartition, a.client.nodeId);
    const bWasQuorate = hasNodeId(quoratePartition, b.client.nodeId);
    if (aWasQuorate && !bWasQuorate) return true;
    if (!aWasQuorate && bWasQuorate) return false;
  }
  return isPreferredPartition(a);
}

/** `qnetd_algo_ffsplit_select_partition()`: the winning membership list, if any. */
function selectPartition(
  d: Decision,
  cluster: Cluster,
  quoratePartition: readonly NodeInfo[],
): readonly NodeInfo[] | undefined {
  const kap = cluster.clients.every((x) => x.keepActivePartitionTieBreaker !== 0);
  let best: Candidate | undefined;
  for (const x of cluster.clients) {
    const ex = effective(d, x);
    if (ex === undefined) continue;
    const candidate: Candidate = {
      client: x,
      config: ex.config,
      membership: ex.membership,
      heuristics: ex.heuristics,
    };
    if (partitionBetter(cluster, candidate, best, quoratePartition, kap)) best = candidate;
  }
  return best?.membership;
}

/** `qnetd_algo_ffsplit_update_nodes_state()`. */
function updateNodesState(
  d: Decision,
  cluster: Cluster,
  winners: readonly NodeInfo[] | undefined,
): void {
  for (const x of cluster.clients) {
    const data = clientData(x);
    if (x.nodeId === d.client.nodeId && d.leaving) {
      data.state = FfsplitClientState.WaitingForChange;
    } else if (winners !== undefined && hasNodeId(winners, x.nodeId)) {
      data.state = FfsplitClientState.SendingAck;
    } else {
      data.state = FfsplitClientState.SendingNack;
    }
  }
}

/**
 * `qnetd_algo_ffsplit_send_votes()`: a VOTE_INFO (ACK round or NACK round) to every client
 * in the matching state. C's ring goes with C's new ring; the others get their stored ring.
 * Returns how many were sent.
 */
function sendVotes(
  ctx: AlgorithmContext,
  cluster: Cluster,
  client: Client,
  leaving: boolean,
  ring: RingId,
  acks: boolean,
): number {
  let sent = 0;
  for (const x of cluster.clients) {
    let xRing = x.lastRingId;
    if (x.nodeId === client.nodeId) {
      if (leaving) continue;
      xRing = ring;
    }
    const data = clientData(x);
    const wanted = acks ? FfsplitClientState.SendingAck : FfsplitClientState.SendingNack;
    if (data.state !== wanted) continue;
    data.voteInfoExpectedSeq = (data.voteInfoExpectedSeq + 1) >>> 0;
    sent++;
    ctx.sendVoteInfo(x, data.voteInfoExpectedSeq, xRing, acks ? Vote.Ack : Vote.Nack);
  }
  return sent;
}

/** `qnetd_algo_ffsplit_no_clients_in_sending_state()`. */
function countInState(cluster: Cluster, state: FfsplitClientState): number {
  return cluster.clients.filter((x) => clientData(x).state === state).length;
}

/** `qnetd_algo_ffsplit_do()`: decide, start the vote rounds, and return the reply vote. */
function decide(ctx: AlgorithmContext, d: Decision): AlgoOutcome {
  const cluster = clusterOf(d.client);
  const data = clusterData(cluster);
  const name = clusterNameText(d.client.clusterName);
  data.state = FfsplitClusterState.WaitingForStableMembership;

  if (!isMembershipStable(d, cluster)) {
    ctx.log(Priority.Debug, `ffsplit: Membership for cluster ${name} is not yet stable`);
    return voted(Vote.WaitForReply);
  }
  ctx.log(Priority.Debug, `ffsplit: Membership for cluster ${name} is now stable`);

  const winners = selectPartition(d, cluster, data.quoratePartition);
  if (winners === undefined) {
    ctx.log(Priority.Debug, "ffsplit: No quorate partition was selected");
    data.quoratePartition = [];
  } else {
    ctx.log(Priority.Debug, "ffsplit: Quorate partition selected");
    logNodeList(ctx.log, winners);
    data.quoratePartition = winners.slice();
  }

  updateNodesState(d, cluster, winners);
  data.state = FfsplitClusterState.SendingNacks;
  if (sendVotes(ctx, cluster, d.client, d.leaving, d.ring, false) === 0) {
    ctx.log(Priority.Debug, "ffsplit: No client gets NACK");
    data.state = FfsplitClusterState.SendingAcks;
    if (sendVotes(ctx, cluster, d.client, d.leaving, d.ring, true) === 0) {
      ctx.log(Priority.Debug, "ffsplit: No client gets ACK");
      data.state = FfsplitClusterState.WaitingForChange;
    }
  }
  return voted(Vote.NoChange);
}

/** The ffsplit algorithm (`qnetd_algo_ffsplit`). */
export const ffsplitAlgorithm: Algorithm = {
  init(_ctx, client) {
    const cluster = clusterOf(client);
    if (cluster.size === 1) cluster.algorithmData = new FfsplitClusterData();
    client.algorithmData = new FfsplitClientData();
    return NO_ERROR;
  },

  configNodeListReceived(ctx, client, _seq, _configVersion, nodes, initial) {
    if (nodes.length === 0) {
      ctx.log(
        Priority.Err,
        `ffsplit: Received empty config node list for client ${client.addrStr}`,
      );
      return failed(ReplyError.InvalidConfigNodeList);
    }
    if (!hasNodeId(nodes, client.nodeId)) {
      ctx.log(Priority.Err, `ffsplit: Received config node list without client ${client.addrStr}`);
      return failed(ReplyError.InvalidConfigNodeList);
    }
    if (initial || client.lastMembershipNodeList.length === 0) {
      return voted(Vote.AskLater);
    }
    return decide(ctx, {
      client,
      leaving: false,
      ring: client.lastRingId,
      config: nodes,
      membership: client.lastMembershipNodeList,
      heuristics: client.lastHeuristics,
    });
  },

  membershipNodeListReceived(ctx, client, _seq, ring, nodes, heuristics) {
    if (nodes.length === 0) {
      ctx.log(
        Priority.Err,
        `ffsplit: Received empty membership node list for client ${client.addrStr}`,
      );
      return failed(ReplyError.InvalidMembershipNodeList);
    }
    if (!hasNodeId(nodes, client.nodeId)) {
      ctx.log(
        Priority.Err,
        `ffsplit: Received membership node list without client ${client.addrStr}`,
      );
      return failed(ReplyError.InvalidMembershipNodeList);
    }
    if (client.configNodeList.length === 0) return voted(Vote.AskLater);
    return decide(ctx, {
      client,
      leaving: false,
      ring,
      config: client.configNodeList,
      membership: nodes,
      heuristics,
    });
  },

  quorumNodeListReceived() {
    return voted(Vote.NoChange);
  },

  clientDisconnect(ctx, client, serverGoingDown) {
    if (!serverGoingDown) {
      decide(ctx, {
        client,
        leaving: true,
        ring: client.lastRingId,
        config: client.configNodeList,
        membership: client.lastMembershipNodeList,
        heuristics: client.lastHeuristics,
      });
    }
  },

  askForVoteReceived() {
    return failed(ReplyError.UnsupportedDecisionAlgorithmMessage);
  },

  voteInfoReplyReceived(ctx, client, seq) {
    const cluster = clusterOf(client);
    const cdata = clusterData(cluster);
    const data = clientData(client);
    if (data.voteInfoExpectedSeq !== seq) {
      ctx.log(
        Priority.Debug,
        `ffsplit: Received old vote info reply from client ${client.addrStr}`,
      );
      return NO_ERROR;
    }
    data.state = FfsplitClientState.WaitingForChange;
    const name = clusterNameText(client.clusterName);
    if (cdata.state === FfsplitClusterState.SendingNacks) {
      if (countInState(cluster, FfsplitClientState.SendingNack) === 0) {
        ctx.log(Priority.Debug, `ffsplit: All NACK votes sent for cluster ${name}`);
        cdata.state = FfsplitClusterState.SendingAcks;
        if (sendVotes(ctx, cluster, client, false, client.lastRingId, true) === 0) {
          ctx.log(Priority.Debug, "ffsplit: No client gets ACK");
          cdata.state = FfsplitClusterState.WaitingForChange;
        }
      }
    } else if (cdata.state === FfsplitClusterState.SendingAcks) {
      if (countInState(cluster, FfsplitClientState.SendingAck) === 0) {
        ctx.log(Priority.Debug, `ffsplit: All ACK votes sent for cluster ${name}`);
        cdata.state = FfsplitClusterState.WaitingForChange;
      }
    }
    return NO_ERROR;
  },

  heuristicsChangeReceived(ctx, client, _seq, heuristics) {
    if (client.configNodeList.length === 0 || client.lastMembershipNodeList.length === 0) {
      return voted(Vote.AskLater);
    }
    return decide(ctx, {
      client,
      leaving: false,
      ring: client.lastRingId,
      config: client.configNodeList,
      membership: client.lastMembershipNodeList,
      heuristics,
    });
  },

  timerCallback() {
    return { error: NO_ERROR, reschedule: false, sendVote: false, vote: Vote.WaitForReply };
  },
};
