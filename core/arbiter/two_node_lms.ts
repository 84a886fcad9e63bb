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
import type { Algorithm } from "./algorithm.ts";
import { type Client, ringIdEquals } from "./client.ts";
import { asInt32, clusterNameText, ringIdText } from "./log_debug.ts";

/** `struct qnetd_algo_2nodelms_info`. */
export class TwoNodeLmsClientData {
  numConfigNodes = 0;
  /** 0 until the first decision, then ACK or NACK. */
  lastResult: Vote = 0;
}

function dataOf(client: Client): TwoNodeLmsClientData {
  if (!(client.algorithmData instanceof TwoNodeLmsClientData)) {
    client.algorithmData = new TwoNodeLmsClientData();
  }
  return client.algorithmData as TwoNodeLmsClientData;
}

function decided(info: TwoNodeLmsClientData, vote: Vote): { error: number; vote: Vote } {
  info.lastResult = vote;
  return { error: 0, vote };
}

/** The 2nodelms algorithm (`qnetd_algo_2nodelms`). */
export const twoNodeLmsAlgorithm: Algorithm = {
  init(_ctx, client) {
    client.algorithmData = new TwoNodeLmsClientData();
    return 0;
  },

  configNodeListReceived(ctx, client, _seq, _configVersion, nodes) {
    const info = dataOf(client);
    const name = clusterNameText(client.clusterName);
    info.numConfigNodes = nodes.length;
    ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} config_list has ${nodes.length} nodes`);
    if (nodes.length !== 2) {
      ctx.log(
        Priority.Info,
        `algo-2nodelms: cluster ${name} does not have 2 configured nodes, it has ${nodes.length}`,
      );
      return { error: ReplyError.UnsupportedDecisionAlgorithm, vote: Vote.Nack };
    }
    return { error: 0, vote: Vote.NoChange };
  },

  membershipNodeListReceived(ctx, client, _seq, ring, nodes, heuristics) {
    const info = dataOf(client);
    const cluster = client.cluster;
    const clients = cluster?.clients ?? [];
    const name = clusterNameText(client.clusterName);
    if (info.lastResult === 0) {
      for (const other of clients) {
        if (!ringIdEquals(ring, other.lastRingId) && dataOf(other).lastResult === Vote.Ack) {
          ctx.log(
            Priority.Debug,
            "algo-2nodelms: we are a new partition and another active partition exists. NACK",
          );
          return { error: 0, vote: Vote.Nack };
        }
      }
    }
    ctx.log(
      Priority.Debug,
      `algo-2nodelms: cluster ${name} (client ${client.pointer} nodeid ${
        client.nodeId >>> 0
      }) membership list has ${nodes.length} member nodes (ring ID ${ringIdText(ring)})`,
    );
    if (nodes.length === 2) {
      ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} running normally. Both nodes active`);
      return decided(info, Vote.Ack);
    }

    let low = 0xffffffff;
    let high = 0;
    let otherHeuristics: Heuristics = Heuristics.Undefined;
    for (const other of clients) {
      ctx.log(
        Priority.Debug,
        `algo-2nodelms: seen nodeid ${other.nodeId >>> 0} on client ${other.pointer} (ring ID ${
          ringIdText(other.lastRingId)
        })`,
      );
      if (other.nodeId < low) low = other.nodeId;
      if (other.nodeId > high) high = other.nodeId;
      if (other !== client) otherHeuristics = other.lastHeuristics;
    }
    ctx.log(
      Priority.Debug,
      `algo-2nodelms: cluster ${name} ${clients.length} nodes running independently`,
    );
    if (clients.length === 1) {
      ctx.log(Priority.Debug, `algo-2nodelms: cluster ${name} running on 'last-man'`);
      return decided(info, Vote.Ack);
    }
    const cmp = compareHeuristics(heuristics, otherHeuristics);
    if (cmp > 0) return decided(info, Vote.Ack);
    if (cmp < 0) return decided(info, Vote.Nack);

    const own = asInt32(client.nodeId);
    switch (client.tieBreaker.mode) {
      case TieBreakerMode.Lowest:
        if (client.nodeId === low) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on low node-id ${asInt32(low)}`,
          );
          return decided(info, Vote.Ack);
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${own} denied vote because low nodeid ${
            asInt32(low)
          } is active`,
        );
        return decided(info, Vote.Nack);
      case TieBreakerMode.Highest:
        if (client.nodeId === high) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on high node-id ${asInt32(high)}`,
          );
          return decided(info, Vote.Ack);
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${own} denied vote because high nodeid ${
            asInt32(high)
          } is active`,
        );
        return decided(info, Vote.Nack);
      case TieBreakerMode.NodeId: {
        const tb = asInt32(client.tieBreaker.nodeId);
        if (client.nodeId === client.tieBreaker.nodeId) {
          ctx.log(
            Priority.Debug,
            `algo-2nodelms: cluster ${name} running on nominated tie-breaker node ${tb}`,
          );
          return decided(info, Vote.Ack);
        }
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${own} denied vote because nominated tie-breaker nodeid ${tb} is active`,
        );
        return decided(info, Vote.Nack);
      }
      default:
        ctx.log(
          Priority.Debug,
          `algo-2nodelms: cluster ${name} node-id ${own} denied vote because tie-breaker option is invalid: ${client.tieBreaker.mode}`,
        );
        return decided(info, Vote.Nack);
    }
  },

  quorumNodeListReceived() {
    return { error: 0, vote: Vote.NoChange };
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
    const last = dataOf(client).lastResult;
    return { error: 0, vote: last === 0 ? Vote.AskLater : last };
  },

  voteInfoReplyReceived(ctx, client) {
    ctx.log(
      Priority.Info,
      `algo-2nodelms: Client ${client.pointer} (cluster ${
        clusterNameText(client.clusterName)
      }, node_id ${client.nodeId >>> 0}) replied back to vote info message`,
    );
    return 0;
  },

  heuristicsChangeReceived(ctx) {
    ctx.log(Priority.Info, "algo-2nodelms: heuristics change is not supported.");
    return { error: 0, vote: Vote.NoChange };
  },

  timerCallback() {
    return { error: 0, reschedule: false, sendVote: false, vote: Vote.WaitForReply };
  },
};
