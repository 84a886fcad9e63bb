/**
 * The C daemon's debug log blocks and printf-style formats, so log lines match
 * byte for byte. Port of qnetd-log-debug.c and log_common_debug_dump_node_list()
 * (log-common.c); the formats follow utils.h (node ids `%u`, ring ids `%x.%lx`).
 *
 * @module
 */
import { type Log, Priority } from "../log.ts";
import { HEURISTICS_NAMES, NODE_STATE_NAMES, voteName } from "../protocol/constants.ts";
import type { Heuristics, NodeState } from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import type { Client } from "./client.ts";
import type { Cluster } from "./cluster_list.ts";

const utf8 = new TextDecoder("utf-8");

/** A cluster name as C's `%s` prints it: up to the first NUL, "(null)" before PREINIT. */
export function clusterNameText(name: Uint8Array | undefined): string {
  if (name === undefined) return "(null)";
  const nul = name.indexOf(0);
  return utf8.decode(nul === -1 ? name : name.subarray(0, nul));
}

/** `UTILS_PRI_RING_ID`: "%x.%lx". */
export function ringIdText(ring: RingId): string {
  return `${(ring.nodeId >>> 0).toString(16)}.${BigInt.asUintN(64, ring.seq).toString(16)}`;
}

/** A u32 printed with `%d` (as the lms/2nodelms logs do). */
export function asInt32(value: number): number {
  return value | 0;
}

/** `tlv_heuristics_to_str()`. */
export function heuristicsName(h: number): string {
  return HEURISTICS_NAMES[h as Heuristics] ?? "Unknown heuristics type";
}

/** `tlv_node_state_to_str()`. */
export function nodeStateName(state: number): string {
  return NODE_STATE_NAMES[state as NodeState] ?? "Unhandled node state";
}

/** `log_common_debug_dump_node_list()`. */
export function logNodeList(log: Log, nodes: readonly NodeInfo[]): void {
  log(Priority.Debug, "  Node list:");
  nodes.forEach((node, i) => {
    log(
      Priority.Debug,
      `    ${i} node_id = ${node.nodeId >>> 0}, data_center_id = ${
        node.dataCenterId >>> 0
      }, node_state = ${nodeStateName(node.nodeState)}`,
    );
  });
}

/** "Client addr (cluster name, node_id n)", the prefix most debug lines share. */
function who(client: Client): string {
  return `Client ${client.addrStr} (cluster ${clusterNameText(client.clusterName)}, node_id ${
    client.nodeId >>> 0
  })`;
}

/** `qnetd_log_debug_new_client_connected()` with the cluster dump. */
export function logNewClientConnected(log: Log, client: Client, cluster: Cluster): void {
  log(Priority.Debug, "New client connected");
  log(Priority.Debug, `  cluster name = ${clusterNameText(client.clusterName)}`);
  log(Priority.Debug, `  tls started = ${client.tlsStarted ? 1 : 0}`);
  log(
    Priority.Debug,
    `  tls peer certificate verified = ${client.tlsPeerCertificateVerified ? 1 : 0}`,
  );
  log(Priority.Debug, `  node_id = ${client.nodeId >>> 0}`);
  log(Priority.Debug, `  pointer = ${client.pointer}`);
  log(Priority.Debug, `  addr_str = ${client.addrStr}`);
  log(Priority.Debug, `  ring id = (${ringIdText(client.lastRingId)})`);
  log(Priority.Debug, "  cluster dump:");
  for (const member of cluster.clients) {
    log(Priority.Debug, `    client = ${member.addrStr}, node_id = ${member.nodeId >>> 0}`);
  }
}

/** `qnetd_log_debug_config_node_list_received()`. */
export function logConfigNodeListReceived(
  log: Log,
  client: Client,
  seq: number,
  configVersion: bigint | undefined,
  nodes: readonly NodeInfo[],
  initial: boolean,
): void {
  log(Priority.Debug, `${who(client)} sent ${initial ? "initial" : "changed"} node list.`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
  if (configVersion !== undefined) {
    log(Priority.Debug, `  config version = ${BigInt.asUintN(64, configVersion)}`);
  }
  logNodeList(log, nodes);
}

/** `qnetd_log_debug_membership_node_list_received()`. */
export function logMembershipNodeListReceived(
  log: Log,
  client: Client,
  seq: number,
  ring: RingId,
  heuristics: number,
  nodes: readonly NodeInfo[],
): void {
  log(Priority.Debug, `${who(client)} sent membership node list.`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
  log(Priority.Debug, `  ring id = (${ringIdText(ring)})`);
  log(Priority.Debug, `  heuristics = ${heuristicsName(heuristics)} `);
  logNodeList(log, nodes);
}

/** `qnetd_log_debug_quorum_node_list_received()`. */
export function logQuorumNodeListReceived(
  log: Log,
  client: Client,
  seq: number,
  quorate: number,
  nodes: readonly NodeInfo[],
): void {
  log(Priority.Debug, `${who(client)} sent quorum node list.`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
  log(Priority.Debug, `  quorate = ${quorate}`);
  logNodeList(log, nodes);
}

/** `qnetd_log_debug_client_disconnect()`. */
export function logClientDisconnect(log: Log, client: Client, serverGoingDown: boolean): void {
  log(
    Priority.Debug,
    `Client ${client.addrStr} (init_received ${client.initReceived ? 1 : 0}, cluster ${
      clusterNameText(client.clusterName)
    }, node_id ${client.nodeId >>> 0}) disconnect${
      serverGoingDown ? " (server is going down)" : ""
    }`,
  );
}

/** `qnetd_log_debug_ask_for_vote_received()`. */
export function logAskForVoteReceived(log: Log, client: Client, seq: number): void {
  log(Priority.Debug, `${who(client)} asked for a vote`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
}

/** `qnetd_log_debug_vote_info_reply_received()`. */
export function logVoteInfoReplyReceived(log: Log, client: Client, seq: number): void {
  log(Priority.Debug, `${who(client)} replied back to vote info message`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
}

/** `qnetd_log_debug_send_vote_info()` (note the C trailing space on the first line). */
export function logSendVoteInfo(log: Log, client: Client, seq: number, vote: number): void {
  log(
    Priority.Debug,
    `Sending vote info to client ${client.addrStr} (cluster ${
      clusterNameText(client.clusterName)
    }, node_id ${client.nodeId >>> 0}) `,
  );
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
  log(Priority.Debug, `  vote = ${voteName(vote)}`);
}

/** `qnetd_log_debug_heuristics_change_received()`. */
export function logHeuristicsChangeReceived(
  log: Log,
  client: Client,
  seq: number,
  heuristics: number,
): void {
  log(Priority.Debug, `${who(client)} sent heuristics change`);
  log(Priority.Debug, `  msg seq num = ${seq >>> 0}`);
  log(Priority.Debug, `  heuristics = ${heuristicsName(heuristics)}`);
}
