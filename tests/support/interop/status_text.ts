/**
 * Parses the tab-aligned status texts of `corosync-qdevice-tool -s` and `corosync-qnetd-tool -l`.
 * Formats follow qdevice_ipc_cmd_status() / qdevice_model_net_get_status() and
 * qnetd_ipc_cmd_list() in qdevices/ (3.0.3). Pure: text in, object out.
 *
 * @module
 */

import { Vote, voteName } from "../../../core/protocol/constants.ts";

/** What `corosync-qdevice-tool -s` reports, keyed by the label before the colon. */
export interface QdeviceStatus {
  /** Every `Label:<tabs>value` line at the top level, e.g. `State` -> `Connected`. */
  fields: Map<string, string>;
  /** `Model-net` connection state, e.g. `Connected`, `Connect failed`. */
  state: string | undefined;
  nodeId: number | undefined;
  membership: number[];
}

/** One client as listed by `corosync-qnetd-tool -l`. */
export interface QnetdClient {
  cluster: string;
  nodeId: number;
  address: string;
  configured: number[];
  membership: number[];
  /** The last vote sent to the client, `undefined` before the first. */
  lastVote: Vote | undefined;
  /** The last ACK or NACK sent, shown in parentheses. */
  lastAckNack: Vote | undefined;
}

function nodeList(value: string | undefined): number[] {
  if (value === undefined) return [];
  return value.split(",").map((v) => v.trim()).filter((v) => v !== "").map((v) => parseInt(v, 10));
}

/** Maps a name printed by `tlv_vote_to_str()` back to its value. */
export function parseVoteName(name: string): Vote | undefined {
  for (const vote of Object.values(Vote)) {
    if (vote !== Vote.Undefined && voteName(vote) === name) return vote;
  }
  return undefined;
}

/** Parses `corosync-qdevice-tool -s` (or `-sv`) output. */
export function parseQdeviceStatus(text: string): QdeviceStatus {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const kv = /^([A-Za-z][A-Za-z -]*):\t*(.*)$/.exec(line);
    if (kv?.[1] !== undefined && kv[2] !== undefined) fields.set(kv[1], kv[2].trim());
  }
  const nodeId = fields.get("Node ID");
  return {
    fields,
    state: fields.get("State"),
    nodeId: nodeId === undefined ? undefined : parseInt(nodeId, 10),
    membership: nodeList(fields.get("Membership node list")),
  };
}

/** Parses `corosync-qnetd-tool -l` output into its clients, in the order listed. */
export function parseQnetdClients(text: string): QnetdClient[] {
  const clients: QnetdClient[] = [];
  let cluster = "";
  let client: QnetdClient | undefined;
  for (const line of text.split("\n")) {
    const clusterMatch = /^Cluster "(.*)":$/.exec(line);
    if (clusterMatch?.[1] !== undefined) {
      cluster = clusterMatch[1];
      continue;
    }
    const nodeMatch = /^ {4}Node ID (\d+):$/.exec(line);
    if (nodeMatch?.[1] !== undefined) {
      client = {
        cluster,
        nodeId: Number(nodeMatch[1]),
        address: "",
        configured: [],
        membership: [],
        lastVote: undefined,
        lastAckNack: undefined,
      };
      clients.push(client);
      continue;
    }
    const kv = /^ {8}([A-Za-z ]+):\t+(.*)$/.exec(line);
    if (client === undefined || kv?.[1] === undefined || kv[2] === undefined) continue;
    const value = kv[2];
    switch (kv[1]) {
      case "Client address":
        client.address = value;
        break;
      case "Configured node list":
        client.configured = nodeList(value);
        break;
      case "Membership node list":
        client.membership = nodeList(value);
        break;
      case "Vote": {
        const vote = /^(.*?)(?: \((.*)\))?$/.exec(value);
        client.lastVote = parseVoteName(vote?.[1] ?? "");
        client.lastAckNack = vote?.[2] === undefined ? undefined : parseVoteName(vote[2]);
        break;
      }
    }
  }
  return clients;
}

/**
 * The vote a client effectively gives, as qdevice applies it: the last ACK/NACK, unless the last
 * message told it to stop voting (ASK_LATER / WAIT_FOR_REPLY).
 */
export function effectiveVote(client: QnetdClient): Vote | undefined {
  if (client.lastVote === Vote.AskLater || client.lastVote === Vote.WaitForReply) {
    return undefined;
  }
  return client.lastAckNack ?? client.lastVote;
}
