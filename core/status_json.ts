/**
 * The JSON form of the IPC `status` and `list` facts (`qnet qnetd-tool --json`), for monitoring.
 * The schema is docs/qnetd-tool.schema.json; tests/ipc/status_json_test.ts validates outputs
 * against it. Rules of the format:
 *
 * - every reply starts with `schemaVersion` (raised on any incompatible change), the daemon's
 *   `version` and `uptimeSeconds`, and the `timestamp` of the reply (ISO 8601, UTC);
 * - enum values are the lowerCamelCase names of the protocol constants (`"ffsplit"`,
 *   `"twoNodeLms"`, `"askLater"`, `"required"`), one style everywhere;
 * - 64-bit numbers (ring seq, config version) are decimal strings, everything else JSON numbers;
 * - keys are always present unless the schema marks them optional.
 *
 * @module
 */
import {
  DecisionAlgorithm,
  Heuristics,
  TieBreakerMode,
  TlsSupported,
  Vote,
} from "./protocol/constants.ts";
import type { NodeInfo } from "./protocol/types.ts";
import type { ClientSnapshot, ServerSnapshot } from "./arbiter/snapshot.ts";
import { cString, kapTieBreakerActive, selectClusters } from "./status_format.ts";

/** Raise on every change a consumer of version N could misread. */
export const JSON_SCHEMA_VERSION = 1;

/** What a reply says about itself and the daemon; the caller reads the clocks. */
export interface JsonMeta {
  /** `QNET_VERSION` of the daemon. */
  readonly version: string;
  /** When the daemon started and now, in ms since the epoch. */
  readonly startedAtMs: number;
  readonly nowMs: number;
}

const encoder = new TextEncoder();

/** The lowerCamelCase key of `value` in a constants table (`{ AskLater: 3 }` -> "askLater"). */
function enumKey(table: Readonly<Record<string, number>>, value: number): string {
  const key = Object.keys(table).find((k) => table[k] === value);
  return key === undefined ? "unknown" : key[0]!.toLowerCase() + key.slice(1);
}

function header(meta: JsonMeta): Record<string, unknown> {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    version: meta.version,
    uptimeSeconds: Math.max(0, Math.floor((meta.nowMs - meta.startedAtMs) / 1000)),
    timestamp: new Date(meta.nowMs).toISOString(),
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

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
      last: enumKey(Heuristics, client.lastHeuristics),
      membership: enumKey(Heuristics, client.lastMembershipHeuristics),
      regular: enumKey(Heuristics, client.lastRegularHeuristics),
    },
    tls: {
      active: client.tlsStarted,
      clientCertificateVerified: client.tlsStarted && client.tlsPeerCertificateVerified,
    },
    ...(client.lastSentVote !== Vote.Undefined ? { vote: enumKey(Vote, client.lastSentVote) } : {}),
    ...(client.lastSentAckNackVote !== Vote.Undefined
      ? { lastAckNackVote: enumKey(Vote, client.lastSentAckNackVote) }
      : {}),
  };
}

/** The `status` facts. */
export function statusJson(snapshot: ServerSnapshot, meta: JsonMeta): Record<string, unknown> {
  return {
    ...header(meta),
    address: snapshot.listenAddress,
    port: snapshot.listenPort,
    tls: enumKey(TlsSupported, snapshot.tlsSupported),
    clientCertificateRequired: snapshot.tlsClientCertRequired,
    connectedClients: snapshot.connectedClients,
    connectedClusters: snapshot.clusters.length,
    maxClients: snapshot.maxClients,
    maxSendSize: snapshot.maxClientSendSize,
    maxReceiveSize: snapshot.maxClientReceiveSize,
  };
}

/** The `list` facts, of one cluster when `cluster` is given. */
export function listJson(
  snapshot: ServerSnapshot,
  meta: JsonMeta,
  cluster?: Uint8Array,
): Record<string, unknown> {
  const utf8 = new TextDecoder();
  return {
    ...header(meta),
    clusters: selectClusters(snapshot, cluster).map((c) => ({
      name: utf8.decode(cString(c.name)),
      nameHex: hex(c.name),
      algorithm: enumKey(DecisionAlgorithm, c.decisionAlgorithm),
      keepActivePartitionTieBreaker: kapTieBreakerActive(c),
      tieBreaker: { mode: enumKey(TieBreakerMode, c.tieBreaker.mode), nodeId: c.tieBreaker.nodeId },
      nodes: c.clients.map(clientJson),
    })),
  };
}

/** A JSON object as the reply body: one line of UTF-8 ending in a newline. */
export function jsonBody(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}
