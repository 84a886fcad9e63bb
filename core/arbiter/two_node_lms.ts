/**
 * Decision algorithm 2, "2nodelms": last man standing for two-node clusters.
 *
 * Port of qdevices/qnetd-algo-2nodelms.c. Both nodes in the membership: ACK. Otherwise the
 * only connected node wins; with both connected, better heuristics win, then the
 * tie-breaker among the *connected* clients. A newcomer gets NACK (not remembered) while a
 * client in another ring holds ACK.
 *
 * @module
 */
import { Priority } from "../log.ts";
import {
  compareHeuristics,
  Heuristics,
  ReplyError,
  TieBreakerMode,
  Vote,
} from "../protocol/constants.ts";
import type { AlgoOutcome, Algorithm, Reason } from "./algorithm_types.ts";
import {
  dataOf,
  isNewcomerToActivePartition,
  NEWCOMER_REASON,
  NO_ERROR,
  reasonText,
  scanTieBreaker,
  tieReason,
  voted,
} from "./algo_utils.ts";
import type { Client } from "./client.ts";
import { asInt32, clusterNameText, heuristicsName, ringIdText } from "./log_debug.ts";

/** "pass", "fail", "undefined" for reasons. */
function heuristicsText(h: Heuristics): string {
  return heuristicsName(h).toLowerCase();
}

/** `struct qnetd_algo_2nodelms_info`. */
export class TwoNodeLmsClientData {
  numConfigNodes = 0;
  /** 0 until the first decision, then ACK or NACK. */
  lastResult: Vote = Vote.Undefined;
  /** Why `lastResult` (for the history). */
  lastReason: Reason = "";
}

function infoOf(client: Client): TwoNodeLmsClientData {
  return dataOf(client, TwoNodeLmsClientData);
}

function lastResultOf(client: Client): Vote {
  return infoOf(client).lastResult;
}

/** Where 2nodelms starts its lowest node id scan (UINT32_MAX; the highest starts at 0). */
const UINT32_MAX = 0xffffffff;

function decided(info: TwoNodeLmsClientData, vote: Vote, reason: Reason): AlgoOutcome {
  info.lastResult = vote;
  info.lastReason = reason;
  return voted(vote, reason);
}

/** The 2nodelms algorithm (`qnetd_algo_2nodelms`). */
export const twoNodeLmsAlgorithm: Algorithm = {
  init(_ctx, client) {
    client.algorithmData = new TwoNodeLmsClientData();
    return NO_ERROR;
  },

  configNodeListReceived(ctx, client, _seq, _configVersion, nodes) {
    const info = infoOf(client);
    const name = clusterNameText(client.clusterName);
    info.numConfigNodes = nodes.length;
    ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} config_list has ${nodes.length} nodes`);
    if (nodes.length !== 2) {
      ctx.log(
        Priority.Info,
        `algo-2nodelms: cluster ${name} does not have 2 configured nodes, it has ${nodes.length}`,
      );
      return {
        error: ReplyError.UnsupportedDecisionAlgorithm,
        vote: Vote.Nack,
        reason: () => `2nodelms needs 2 configured nodes, the config list has ${nodes.length}`,
      };
    }
    return voted(Vote.NoChange);
  },

  membershipNodeListReceived(ctx, client, _seq, ring, nodes, heuristics) {
    const info = infoOf(client);
    const cluster = client.cluster;
    const clients = cluster?.clients ?? [];
    const name = clusterNameText(client.clusterName);
    if (isNewcomerToActivePartition(ctx, client, ring, lastResultOf, "algo-2nodelms")) {
      return voted(Vote.Nack, NEWCOMER_REASON);
    }
    ctx.log(
      Priority.Debug,
      `algo-2nodelms: cluster ${name} (client ${client.pointer} nodeid ${
        client.nodeId >>> 0
      }) membership list has ${nodes.length} member nodes (ring ID ${ringIdText(ring)})`,
    );
    if (nodes.length === 2) {
      ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} running normally. Both nodes active`);
      return decided(info, Vote.Ack, "both nodes are members of the partition");
    }

    let otherHeuristics: Heuristics = Heuristics.Undefined;
    for (const other of clients) {
      ctx.log(
        Priority.Debug,
        `algo-2nodelms: seen nodeid ${other.nodeId >>> 0} on client ${other.pointer} (ring ID ${
          ringIdText(other.lastRingId)
        })`,
      );
      if (other !== client) otherHeuristics = other.lastHeuristics;
    }
    const idOf = (other: Client) => other.nodeId;
    const low = scanTieBreaker(TieBreakerMode.Lowest, clients, idOf, UINT32_MAX).nodeId;
    const high = scanTieBreaker(TieBreakerMode.Highest, clients, idOf, 0).nodeId;
    ctx.log(
      Priority.Debug,
      `algo-2nodelms: cluster ${name} ${clients.length} nodes running independently`,
    );
    if (clients.length === 1) {
      ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} running on 'last-man'`);
      return decided(
        info,
        Vote.Ack,
        "last man standing: this node is the only one connected to the arbiter",
      );
    }
    const cmp = compareHeuristics(heuristics, otherHeuristics);
    const own = heuristics;
    const theirs = otherHeuristics;
    if (cmp > 0) {
      return decided(
        info,
        Vote.Ack,
        () => `heuristics: ${heuristicsText(own)} beats ${heuristicsText(theirs)}`,
      );
    }
    if (cmp < 0) {
      return decided(
        info,
        Vote.Nack,
        () => `heuristics: ${heuristicsText(theirs)} beats ${heuristicsText(own)}`,
      );
    }
    const tie = (nodeId: number) => () => tieReason(client.tieBreaker.mode, nodeId);

    const ownId = asInt32(client.nodeId);
    switch (client.tieBreaker.mode) {
      case TieBreakerMode.Lowest:
        if (client.nodeId === low) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on low node-id ${asInt32(low)}`,
          );
          return decided(info, Vote.Ack, tie(low));
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${ownId} denied vote because low nodeid ${
            asInt32(low)
          } is active`,
        );
        return decided(info, Vote.Nack, tie(low));
      case TieBreakerMode.Highest:
        if (client.nodeId === high) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on high node-id ${asInt32(high)}`,
          );
          return decided(info, Vote.Ack, tie(high));
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${ownId} denied vote because high nodeid ${
            asInt32(high)
          } is active`,
        );
        return decided(info, Vote.Nack, tie(high));
      case TieBreakerMode.NodeId: {
        const tb = asInt32(client.tieBreaker.nodeId);
        if (client.nodeId === client.tieBreaker.nodeId) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on nominated tie-breaker node ${tb}`,
          );
          return decided(info, Vote.Ack, tie(client.tieBreaker.nodeId));
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${ownId} denied vote because nominated tie-breaker nodeid ${tb} is active`,
        );
        return decided(info, Vote.Nack, tie(client.tieBreaker.nodeId));
      }
      default:
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${ownId} denied vote because tie-breaker option is invalid: ${client.tieBreaker.mode}`,
        );
        return decided(
          info,
          Vote.Nack,
          () => `vote denied: tie-breaker option ${client.tieBreaker.mode} is invalid`,
        );
    }
  },

  quorumNodeListReceived() {
    return voted(Vote.NoChange);
  },

  clientDisconnect(ctx, client, serverGoingDown) {
    ctx.log(
      Priority.Info,
      `algo-2nodelms: Client ${client.pointer} (cluster ${
        clusterNameText(client.clusterName)
      }, node_id ${client.nodeId >>> 0}) disconnect`,
    );
    ctx.log(Priority.Info, `algo-2nodelms:   server going down ${serverGoingDown ? 1 : 0}`);
  },

  askForVoteReceived(ctx, client) {
    ctx.log(
      Priority.Info,
      `algo-2nodelms: Client ${client.pointer} (cluster ${
        clusterNameText(client.clusterName)
      }, node_id ${client.nodeId >>> 0}) asked for a vote`,
    );
    const info = infoOf(client);
    return info.lastResult === Vote.Undefined
      ? voted(Vote.AskLater, "no membership list decided yet")
      : voted(info.lastResult, () => `as decided last: ${reasonText(info.lastReason)}`);
  },

  voteInfoReplyReceived(ctx, client) {
    ctx.log(
      Priority.Info,
      `algo-2nodelms: Client ${client.pointer} (cluster ${
        clusterNameText(client.clusterName)
      }, node_id ${client.nodeId >>> 0}) replied back to vote info message`,
    );
    return NO_ERROR;
  },

  heuristicsChangeReceived(ctx) {
    ctx.log(Priority.Info, "algo-2nodelms: heuristics change is not supported.");
    return voted(Vote.NoChange);
  },

  timerCallback() {
    return { error: NO_ERROR, reschedule: false, sendVote: false, vote: Vote.WaitForReply };
  },
};
