/**
 * The bodies of the IPC `status` and `list` replies, byte for byte as corosync-qnetd 3.0.3
 * writes them (qdevices/qnetd-ipc-cmd.c), and a JSON form of the same facts.
 *
 * The text bodies are bytes, not strings: cluster names are whatever bytes the clients sent.
 * Like the C `%s`, a name is printed up to its first NUL byte.
 *
 * JSON schema (one object, keys always present unless marked optional; 64-bit numbers as
 * decimal strings, everything else as JSON numbers):
 *
 * ```
 * status: {
 *   "address": string,              // -l argument verbatim, or "*"
 *   "port": number,
 *   "tls": "Unsupported" | "Supported" | "Required",
 *   "clientCertificateRequired": boolean,   // -c (meaningful only when tls is not off)
 *   "connectedClients": number,     // every TCP client, also those before INIT
 *   "connectedClusters": number,
 *   "maxClients": number,           // 0 = unlimited
 *   "maxSendSize": number,
 *   "maxReceiveSize": number
 * }
 * list: { "clusters": [ {
 *   "name": string,                 // the name's bytes as UTF-8 (invalid bytes become U+FFFD)
 *   "nameHex": string,              // the exact bytes (even past a NUL), lowercase hex
 *   "algorithm": number, "algorithmName": string,
 *   "keepActivePartitionTieBreaker": boolean,  // the "(KAP Tie-breaker)" rule
 *   "tieBreaker": { "mode": "lowest" | "highest" | "nodeId", "nodeId": number },
 *   "nodes": [ {
 *     "nodeId": number, "address": string, "heartbeatInterval": number,
 *     "configVersion"?: string,      // only when the client sent one
 *     "configNodeList": [ { "nodeId": number, "dataCenterId": number } ],
 *     "ringId": { "nodeId": number, "seq": string },
 *     "membershipNodeList": [ { "nodeId": number, "dataCenterId": number } ],
 *     "heuristics": { "last": string, "membership": string, "regular": string },
 *     "tls": { "active": boolean, "clientCertificateVerified": boolean },
 *     "vote"?: string,               // only once a vote was sent
 *     "lastAckNackVote"?: string     // only once an ACK or NACK was sent
 *   } ]
 * } ] }
 * ```
 *
 * @module
 */
import {
  DecisionAlgorithm,
  Heuristics,
  TieBreakerMode,
  TLS_SUPPORTED_NAMES,
  TlsSupported,
  Vote,
  voteName,
} from "./protocol/constants.ts";
import type { NodeInfo, TieBreaker } from "./protocol/types.ts";
import type { ClientSnapshot, ClusterSnapshot, ServerSnapshot } from "./arbiter/snapshot.ts";

const encoder = new TextEncoder();

/** Appends text and raw bytes; the result is one byte array. */
class ByteText {
  #parts: Uint8Array[] = [];
  #size = 0;
  text(text: string): this {
    return this.bytes(encoder.encode(text));
  }
  bytes(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    return this;
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** A byte string as C's `%s` prints it: up to the first NUL. */
function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** tlv_tls_supported_to_str(). */
function tlsName(tls: number): string {
  return TLS_SUPPORTED_NAMES[tls as TlsSupported] ?? "Unhandled tls supported state";
}

const ALGORITHM_NAMES: ReadonlyMap<number, string> = new Map([
  [DecisionAlgorithm.Test, "Test"],
  [DecisionAlgorithm.Ffsplit, "Fifty-Fifty split"],
  [DecisionAlgorithm.TwoNodeLms, "2 Node LMS"],
  [DecisionAlgorithm.Lms, "LMS"],
]);

/** tlv_decision_algorithm_type_to_str(). */
function algorithmName(algorithm: number): string {
  return ALGORITHM_NAMES.get(algorithm) ?? "Unknown algorithm";
}

const HEURISTICS_TEXT: ReadonlyMap<number, string> = new Map([
  [Heuristics.Undefined, "Undefined"],
  [Heuristics.Pass, "Pass"],
  [Heuristics.Fail, "Fail"],
]);

/** tlv_heuristics_to_str(). */
function heuristicsName(heuristics: number): string {
  return HEURISTICS_TEXT.get(heuristics) ?? "Unknown heuristics type";
}

/** The Tie-breaker line's value (qnetd_ipc_cmd_add_tie_breaker()); unknown modes print nothing. */
function tieBreakerText(tieBreaker: TieBreaker): string {
  switch (tieBreaker.mode) {
    case TieBreakerMode.Lowest:
      return "Node with lowest node ID";
    case TieBreakerMode.Highest:
      return "Node with highest node ID";
    case TieBreakerMode.NodeId:
      return `Node with node ID ${tieBreaker.nodeId}`;
    default:
      return "";
  }
}

/**
 * True when every client of the cluster runs ffsplit with the keep-active-partition
 * tie-breaker on: the "(KAP Tie-breaker)" suffix. Port of
 * qnetd_ipc_cmd_keep_active_partition_tie_breaker_active() in qdevices/qnetd-ipc-cmd.c.
 */
export function kapTieBreakerActive(cluster: ClusterSnapshot): boolean {
  return cluster.decisionAlgorithm === DecisionAlgorithm.Ffsplit &&
    cluster.clients.every((client) => client.keepActivePartitionTieBreaker);
}

/** `1, 2 (3)`: node ids, the data-center id in brackets when not 0. */
function nodeListText(nodes: readonly NodeInfo[]): string {
  return nodes.map((node) =>
    node.dataCenterId !== 0 ? `${node.nodeId} (${node.dataCenterId})` : `${node.nodeId}`
  ).join(", ");
}

/**
 * The `status` body. Port of qnetd_ipc_cmd_status() in qdevices/qnetd-ipc-cmd.c.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(formatStatus(snapshot, false));
 * // "QNetd address:\t\t\t*:5403\nTLS:\t\t\t\tUnsupported\n..."
 * ```
 */
export function formatStatus(snapshot: ServerSnapshot, verbose: boolean): Uint8Array {
  const certRequired = snapshot.tlsSupported !== TlsSupported.Unsupported &&
      snapshot.tlsClientCertRequired
    ? " (client certificate required)"
    : "";
  let text = `QNetd address:\t\t\t${snapshot.listenAddress}:${snapshot.listenPort}\n` +
    `TLS:\t\t\t\t${tlsName(snapshot.tlsSupported)}${certRequired}\n` +
    `Connected clients:\t\t${snapshot.connectedClients}\n` +
    `Connected clusters:\t\t${snapshot.clusters.length}\n`;
  if (verbose) {
    if (snapshot.maxClients !== 0) text += `Maximum allowed clients:\t${snapshot.maxClients}\n`;
    text += `Maximum send/receive size:\t${snapshot.maxClientSendSize}/` +
      `${snapshot.maxClientReceiveSize} bytes\n`;
  }
  return encoder.encode(text);
}

/** One client's lines. Port of qnetd_ipc_cmd_list_add_client_info(). */
function clientText(client: ClientSnapshot, verbose: boolean): string {
  const lines = [`    Node ID ${client.nodeId}:`, `        Client address:\t\t${client.address}`];
  if (verbose) lines.push(`        HB interval:\t\t${client.heartbeatInterval}ms`);
  if (client.configVersion !== undefined) {
    lines.push(`        Configuration version:\t${client.configVersion}`);
  }
  if (client.configNodeList.length > 0) {
    lines.push(`        Configured node list:\t${nodeListText(client.configNodeList)}`);
  }
  if (verbose) {
    const ring = client.ringId;
    lines.push(`        Ring ID:\t\t${ring.nodeId.toString(16)}.${ring.seq.toString(16)}`);
  }
  if (client.membershipNodeList.length > 0) {
    lines.push(`        Membership node list:\t${nodeListText(client.membershipNodeList)}`);
  }
  if (client.lastHeuristics !== Heuristics.Undefined || verbose) {
    const detail = verbose
      ? ` (membership: ${heuristicsName(client.lastMembershipHeuristics)}, regular: ${
        heuristicsName(client.lastRegularHeuristics)
      })`
      : "";
    lines.push(`        Heuristics:\t\t${heuristicsName(client.lastHeuristics)}${detail}`);
  }
  if (verbose) {
    const verified = client.tlsStarted && client.tlsPeerCertificateVerified
      ? " (client certificate verified)"
      : "";
    lines.push(`        TLS active:\t\t${client.tlsStarted ? "Yes" : "No"}${verified}`);
  }
  if (client.lastSentVote !== Vote.Undefined) {
    const ackNack = client.lastSentAckNackVote !== Vote.Undefined
      ? ` (${voteName(client.lastSentAckNackVote)})`
      : "";
    lines.push(`        Vote:\t\t\t${voteName(client.lastSentVote)}${ackNack}`);
  }
  return lines.join("\n") + "\n";
}

/** The clusters a `list` filter selects: empty or absent = all; else exact byte match. */
function selectClusters(snapshot: ServerSnapshot, filter?: Uint8Array): ClusterSnapshot[] {
  const wanted = filter === undefined ? new Uint8Array() : cString(filter);
  return snapshot.clusters.filter((cluster) =>
    wanted.length === 0 || sameBytes(wanted, cString(cluster.name))
  );
}

/** Options of the `list` command. */
export interface ListOptions {
  readonly verbose: boolean;
  /** Only the cluster with exactly this name (bytes, up to the first NUL); empty = all. */
  readonly cluster?: Uint8Array;
}

/**
 * The `list` body. Port of qnetd_ipc_cmd_list() in qdevices/qnetd-ipc-cmd.c: clusters in
 * creation order, the algorithm and tie-breaker taken once per cluster, then each client.
 */
export function formatList(snapshot: ServerSnapshot, options: ListOptions): Uint8Array {
  const out = new ByteText();
  for (const cluster of selectClusters(snapshot, options.cluster)) {
    out.text('Cluster "').bytes(cString(cluster.name)).text('":\n');
    if (cluster.clients.length > 0) {
      const kap = kapTieBreakerActive(cluster) ? " (KAP Tie-breaker)" : "";
      out.text(`    Algorithm:\t\t${algorithmName(cluster.decisionAlgorithm)}${kap}\n`);
      out.text(`    Tie-breaker:\t${tieBreakerText(cluster.tieBreaker)}\n`);
    }
    for (const client of cluster.clients) out.text(clientText(client, options.verbose));
  }
  return out.toBytes();
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

const TIE_BREAKER_MODE_KEYS: ReadonlyMap<number, string> = new Map([
  [TieBreakerMode.Lowest, "lowest"],
  [TieBreakerMode.Highest, "highest"],
  [TieBreakerMode.NodeId, "nodeId"],
]);

function nodeListJson(nodes: readonly NodeInfo[]): { nodeId: number; dataCenterId: number }[] {
  return nodes.map((node) => ({ nodeId: node.nodeId, dataCenterId: node.dataCenterId }));
}

function clientJson(client: ClientSnapshot): Record<string, unknown> {
  return {
    nodeId: client.nodeId,
    address: client.address,
    heartbeatInterval: client.heartbeatInterval,
    ...(client.configVersion !== undefined ? { configVersion: `${client.configVersion}` } : {}),
    configNodeList: nodeListJson(client.configNodeList),
    ringId: { nodeId: client.ringId.nodeId, seq: `${client.ringId.seq}` },
    membershipNodeList: nodeListJson(client.membershipNodeList),
    heuristics: {
      last: heuristicsName(client.lastHeuristics),
      membership: heuristicsName(client.lastMembershipHeuristics),
      regular: heuristicsName(client.lastRegularHeuristics),
    },
    tls: {
      active: client.tlsStarted,
      clientCertificateVerified: client.tlsStarted && client.tlsPeerCertificateVerified,
    },
    ...(client.lastSentVote !== Vote.Undefined ? { vote: voteName(client.lastSentVote) } : {}),
    ...(client.lastSentAckNackVote !== Vote.Undefined
      ? { lastAckNackVote: voteName(client.lastSentAckNackVote) }
      : {}),
  };
}

/** The `status` facts as a JSON-ready object (schema in the module comment). */
export function statusJson(snapshot: ServerSnapshot): Record<string, unknown> {
  return {
    address: snapshot.listenAddress,
    port: snapshot.listenPort,
    tls: tlsName(snapshot.tlsSupported),
    clientCertificateRequired: snapshot.tlsClientCertRequired,
    connectedClients: snapshot.connectedClients,
    connectedClusters: snapshot.clusters.length,
    maxClients: snapshot.maxClients,
    maxSendSize: snapshot.maxClientSendSize,
    maxReceiveSize: snapshot.maxClientReceiveSize,
  };
}

/** The `list` facts as a JSON-ready object (schema in the module comment). */
export function listJson(snapshot: ServerSnapshot, cluster?: Uint8Array): Record<string, unknown> {
  const utf8 = new TextDecoder();
  return {
    clusters: selectClusters(snapshot, cluster).map((c) => ({
      name: utf8.decode(cString(c.name)),
      nameHex: hex(c.name),
      algorithm: c.decisionAlgorithm,
      algorithmName: algorithmName(c.decisionAlgorithm),
      keepActivePartitionTieBreaker: kapTieBreakerActive(c),
      tieBreaker: {
        mode: TIE_BREAKER_MODE_KEYS.get(c.tieBreaker.mode) ?? `${c.tieBreaker.mode}`,
        nodeId: c.tieBreaker.nodeId,
      },
      nodes: c.clients.map(clientJson),
    })),
  };
}

/** A JSON object as the reply body: one line of UTF-8 ending in a newline. */
export function jsonBody(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}
