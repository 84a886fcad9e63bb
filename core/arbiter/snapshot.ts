/**
 * A read-only picture of the daemon's state: what `qnetd-tool -s/-l` (and its `--json`),
 * and the cmap runtime keys, are made from. The arbiter produces it; formatters consume it,
 * so neither depends on the other's internals.
 *
 * @module
 */
import type { DecisionAlgorithm, Heuristics, TlsSupported, Vote } from "../protocol/constants.ts";
import type { NodeInfo, RingId, TieBreaker } from "../protocol/types.ts";

/** One client that completed INIT, as `corosync-qnetd-tool -l -v` shows it. */
export interface ClientSnapshot {
  /** "addr:port" as the C daemon prints it (no brackets for IPv6, `::ffff:` for mapped IPv4). */
  readonly address: string;
  readonly nodeId: number;
  readonly heartbeatInterval: number;
  /** Present iff a config node list carried CONFIG_VERSION. */
  readonly configVersion?: bigint;
  readonly configNodeList: readonly NodeInfo[];
  readonly ringId: RingId;
  readonly membershipNodeList: readonly NodeInfo[];
  readonly quorumNodeList: readonly NodeInfo[];
  readonly lastHeuristics: Heuristics;
  readonly lastMembershipHeuristics: Heuristics;
  readonly lastRegularHeuristics: Heuristics;
  readonly tlsStarted: boolean;
  readonly tlsPeerCertificateVerified: boolean;
  /** Undefined (0) until a vote was sent. */
  readonly lastSentVote: Vote;
  /** Undefined (0) until an ACK or NACK was sent. */
  readonly lastSentAckNackVote: Vote;
  readonly keepActivePartitionTieBreaker: boolean;
}

/** One cluster: the clients whose cluster name is byte-for-byte equal. */
export interface ClusterSnapshot {
  /** The cluster name exactly as the clients sent it (bytes, not necessarily UTF-8). */
  readonly name: Uint8Array;
  readonly decisionAlgorithm: DecisionAlgorithm;
  readonly tieBreaker: TieBreaker;
  /** In node-id order, as the C daemon keeps them. */
  readonly clients: readonly ClientSnapshot[];
}

/** The whole daemon, as `status` and `list` see it. */
export interface ServerSnapshot {
  /** The `-l` argument verbatim, or "*" when none was given. */
  readonly listenAddress: string;
  readonly listenPort: number;
  readonly tlsSupported: TlsSupported;
  readonly tlsClientCertRequired: boolean;
  /** Every TCP client, including those that have not sent PREINIT yet. */
  readonly connectedClients: number;
  /** `-m`; 0 means unlimited. */
  readonly maxClients: number;
  readonly maxClientSendSize: number;
  readonly maxClientReceiveSize: number;
  /** In creation order. */
  readonly clusters: readonly ClusterSnapshot[];
}
