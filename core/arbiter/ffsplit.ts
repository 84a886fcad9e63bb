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
import {
  Heuristics,
  KeepActivePartitionTieBreaker,
  ReplyError,
  TieBreakerMode,
  Vote,
} from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import type { AlgoOutcome, Algorithm, AlgorithmContext, Reason } from "./algorithm_types.ts";
import {
  dataOf,
  failed,
  NO_ERROR,
  nodeSetText,
  onceReason,
  scanTieBreaker,
  tieBreakerText,
  tieReason,
  voted,
} from "./algo_utils.ts";
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
  /** Why the last decision went as it did (for the history). */
  lastReason: Reason = "";
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
  /** Once the best so far: why it is. */
  readonly why?: () => string;
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
 * The node id the tie-breaker prefers for `candidate`, or undefined: LOWEST/HIGHEST of an
 * empty config list (3.0.3 crashes there) or an invalid mode (C exits; INIT refuses it).
 */
function preferredNode(candidate: Candidate): number | undefined {
  const config = candidate.config;
  const mode = candidate.client.tieBreaker.mode;
  switch (mode) {
    case TieBreakerMode.Lowest:
    case TieBreakerMode.Highest:
      if (config.length === 0) return undefined;
      return scanTieBreaker(
        mode,
        config,
        (node) => node.nodeId,
        mode === TieBreakerMode.Lowest ? Infinity : -Infinity,
      ).nodeId;
    case TieBreakerMode.NodeId:
      return candidate.client.tieBreaker.nodeId;
    default:
      return undefined;
  }
}

/**
 * `qnetd_algo_ffsplit_is_preferred_partition()`. Deviation: an empty config list (a client
 * that never sent one) gives false instead of C's crash.
 */
function isPreferredPartition(candidate: Candidate): boolean {
  const preferred = preferredNode(candidate);
  return preferred !== undefined && hasNodeId(candidate.membership, preferred);
}

/**
 * A comparison's outcome and why, in words about the partition that wins it (made only when
 * a history is kept: every decision compares each client with the best so far).
 */
interface Comparison {
  readonly better: boolean;
  readonly why: () => string;
}

/** "partition {1,2}": a candidate by its membership. */
function partitionText(candidate: Candidate): string {
  return `partition ${nodeSetText(candidate.membership.map((node) => node.nodeId))}`;
}

/**
 * `qnetd_algo_ffsplit_partition_cmp()`: is `a` better than the best so far `b`? With the
 * reason, about the winner of the comparison (`b` when `a` is not better).
 */
function partitionBetter(
  cluster: Cluster,
  a: Candidate,
  b: Candidate | undefined,
  quoratePartition: readonly NodeInfo[],
  kap: boolean,
): Comparison {
  const n = a.config.length;
  const m = a.membership.length;
  const half = Math.floor(n / 2);
  const size = () => `${partitionText(a)} has ${m} of ${n} nodes`;
  const sizeDecides = (better: boolean): Comparison => ({
    better,
    why: better
      ? size
      : b === undefined
      ? () => `no partition has more than half of the nodes: ${size()}`
      : lastWhy(b),
  });
  if (n % 2 !== 0) return sizeDecides(m > half);
  if (m > half) return sizeDecides(true);
  if (m < half) return sizeDecides(false);

  const split = `${m} of ${n} nodes each, a 50:50 split`;
  const sa = partitionStats(cluster, a);
  const sb = partitionStats(cluster, b);
  const scoreA = sa.active + sa.pass - sa.fail;
  const scoreB = sb.active + sb.pass - sb.fail;
  const winner = (better: boolean) => partitionText(better || b === undefined ? a : b);
  const loser = (better: boolean) => b === undefined ? "none" : partitionText(better ? b : a);
  if (scoreA !== scoreB || sa.active !== sb.active) {
    const better = scoreA !== scoreB ? scoreA > scoreB : sa.active > sb.active;
    const [sw, sl] = better ? [sa, sb] : [sb, sa];
    const why = () =>
      sw.pass - sw.fail !== sl.pass - sl.fail
        ? `heuristics: ${heuristicsSummary(sw)} beats ${heuristicsSummary(sl)} (${
          winner(better)
        } over ${loser(better)}; ${split})`
        : `${
          winner(better)
        } has more connected nodes (${sw.active} against ${sl.active}; ${split})`;
    return { better, why };
  }
  if (kap && b !== undefined) {
    const aWasQuorate = hasNodeId(quoratePartition, a.client.nodeId);
    const bWasQuorate = hasNodeId(quoratePartition, b.client.nodeId);
    if (aWasQuorate !== bWasQuorate) {
      return {
        better: aWasQuorate,
        why: () =>
          `KAP: the partition that was active keeps the vote (${winner(aWasQuorate)}; ${split})`,
      };
    }
  }
  const better = isPreferredPartition(a);
  const why = () => {
    const preferred = preferredNode(a);
    const mode = a.client.tieBreaker.mode;
    if (preferred === undefined) {
      return `tie: the ${tieBreakerText(mode)} is unknown (no config list); ${split}`;
    }
    if (better || (b !== undefined && hasNodeId(b.membership, preferred))) {
      return `${tieReason(mode, preferred)} (${winner(better)}; ${split})`;
    }
    return `tie: no partition has node ${preferred >>> 0} (${tieBreakerText(mode)}); ${split}`;
  };
  return { better, why };
}

/** What the previous comparison said about `b`, kept on the candidate. */
function lastWhy(b: Candidate): () => string {
  return b.why ?? (() => `${partitionText(b)} was chosen`);
}

/** "heuristics pass 2, fail 0" for a partition's stats. */
function heuristicsSummary(stats: { pass: number; fail: number }): string {
  return `${stats.pass} pass/${stats.fail} fail`;
}

/** `qnetd_algo_ffsplit_select_partition()`: the winning membership list, if any, and why. */
function selectPartition(
  d: Decision,
  cluster: Cluster,
  quoratePartition: readonly NodeInfo[],
): { winners: readonly NodeInfo[] | undefined; why: () => string } {
  const kap = cluster.clients.every((x) =>
    x.keepActivePartitionTieBreaker !== KeepActivePartitionTieBreaker.Disabled
  );
  let best: Candidate | undefined;
  let why = () => "no partition";
  for (const x of cluster.clients) {
    const ex = effective(d, x);
    if (ex === undefined) continue;
    const candidate: Candidate = {
      client: x,
      config: ex.config,
      membership: ex.membership,
      heuristics: ex.heuristics,
    };
    const result = partitionBetter(cluster, candidate, best, quoratePartition, kap);
    // The reason that counts is the last one that compared the winner with another
    // partition (or chose it): members of one partition compare equal.
    if (result.better) {
      best = { ...candidate, why: result.why };
      why = result.why;
    } else if (best === undefined || !sameMembers(best.membership, candidate.membership)) {
      why = result.why;
      if (best !== undefined) best = { ...best, why };
    }
  }
  return { winners: best?.membership, why };
}

function sameMembers(a: readonly NodeInfo[], b: readonly NodeInfo[]): boolean {
  return a.length === b.length && a.every((node) => hasNodeId(b, node.nodeId));
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
    ctx.sendVoteInfo(
      x,
      data.voteInfoExpectedSeq,
      xRing,
      acks ? Vote.Ack : Vote.Nack,
      clusterData(cluster).lastReason,
    );
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
    return voted(
      Vote.WaitForReply,
      "membership not yet stable: the nodes do not agree on their config and membership lists",
    );
  }
  ctx.log(Priority.Debug, `ffsplit: Membership for cluster ${name} is now stable`);

  const { winners, why } = selectPartition(d, cluster, data.quoratePartition);
  data.lastReason = onceReason(() =>
    winners === undefined ? `no quorate partition: ${why()}` : why()
  );
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
      return failed(ReplyError.InvalidConfigNodeList, "the config list is empty");
    }
    if (!hasNodeId(nodes, client.nodeId)) {
      ctx.log(Priority.Err, `ffsplit: Received config node list without client ${client.addrStr}`);
      return failed(ReplyError.InvalidConfigNodeList, "the config list lacks the sending node");
    }
    if (initial || client.lastMembershipNodeList.length === 0) {
      return voted(Vote.AskLater, "waiting for the node's membership list");
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
      return failed(ReplyError.InvalidMembershipNodeList, "the membership list is empty");
    }
    if (!hasNodeId(nodes, client.nodeId)) {
      ctx.log(
        Priority.Err,
        `ffsplit: Received membership node list without client ${client.addrStr}`,
      );
      return failed(
        ReplyError.InvalidMembershipNodeList,
        "the membership list lacks the sending node",
      );
    }
    if (client.configNodeList.length === 0) {
      return voted(Vote.AskLater, "waiting for the node's config list");
    }
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
    return failed(
      ReplyError.UnsupportedDecisionAlgorithmMessage,
      "ffsplit does not answer ask-for-vote: it sends its votes itself",
    );
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
      return voted(Vote.AskLater, "waiting for the node's config and membership lists");
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
