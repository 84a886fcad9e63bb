/**
 * The bodies of the IPC `status` and `list` replies, byte for byte as corosync-qnetd 3.0.3
 * writes them (qdevices/qnetd-ipc-cmd.c).
 *
 * The text bodies are bytes, not strings: cluster names are whatever bytes the clients sent.
 * Like the C `%s`, a name is printed up to its first NUL byte.
 *
 * The JSON form of the same facts is core/status_json.ts.
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";
import {
  DECISION_ALGORITHM_NAMES,
  DecisionAlgorithm,
  Heuristics,
  HEURISTICS_NAMES,
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
  text(text: string): this {
    return this.bytes(encoder.encode(text));
  }
  bytes(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    return this;
  }
  toBytes(): Uint8Array {
    return concatBytes(this.#parts);
  }
}

/** A byte string as C's `%s` prints it: up to the first NUL. */
export function cString(bytes: Uint8Array): Uint8Array {
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

/** tlv_decision_algorithm_type_to_str(). */
function algorithmName(algorithm: number): string {
  return DECISION_ALGORITHM_NAMES[algorithm as DecisionAlgorithm] ?? "Unknown algorithm";
}

/** tlv_heuristics_to_str(). */
function heuristicsName(heuristics: number): string {
  return HEURISTICS_NAMES[heuristics as Heuristics] ?? "Unknown heuristics type";
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
export function selectClusters(
  snapshot: ServerSnapshot,
  filter?: Uint8Array,
): ClusterSnapshot[] {
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
