/**
 * The arbiter's state for one TCP connection (one cluster node).
 *
 * Port of `struct qnetd_client` (qdevices/qnetd-client.h) minus the socket and buffers, which
 * belong to the network edge. Fields start at C's `memset(0)` values.
 *
 * @module
 */
import { Heuristics, KeepActivePartitionTieBreaker, Vote } from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import type { TimerEntry } from "./timer_list.ts";
import type { Cluster } from "./cluster_list.ts";
import { HEARTBEAT_INTERVAL_BEFORE_INIT } from "./settings.ts";
import type { PeerCertNames } from "../certs/peer_names.ts";

/**
 * A tie-breaker as stored on a client. Before INIT (or after an INIT without one) the mode
 * is 0, which no algorithm accepts; hence a wider type than the wire's `TieBreaker`.
 */
export interface StoredTieBreaker {
  readonly mode: number;
  readonly nodeId: number;
}

/** The tie-breaker a client has before INIT (mode 0: none, which no algorithm accepts). */
export const NO_TIE_BREAKER: StoredTieBreaker = Object.freeze({ mode: 0, nodeId: 0 });

/** The zero ring id ({0, 0}). */
export const ZERO_RING_ID: RingId = Object.freeze({ nodeId: 0, seq: 0n });

/** `tlv_ring_id_eq()`. */
export function ringIdEquals(a: RingId, b: RingId): boolean {
  return a.nodeId === b.nodeId && a.seq === b.seq;
}

/** `node_list_find_node_id() != NULL`. */
export function hasNodeId(nodes: readonly NodeInfo[], nodeId: number): boolean {
  return nodes.some((node) => node.nodeId === nodeId);
}

/** One connected client. Mutable: the message handlers update it as in C. */
export class Client {
  /** The arbiter's handle for this connection. */
  readonly id: number;
  /** "addr:port", as `addr_str` in C. */
  readonly addrStr: string;

  preinitReceived = false;
  initReceived = false;
  /** CLUSTER_NAME bytes from the last PREINIT; undefined before PREINIT ("(null)" in logs). */
  clusterName: Uint8Array | undefined = undefined;
  tlsStarted = false;
  tlsPeerCertificateVerified = false;
  /** Names of the client certificate (see Arbiter.tlsEstablished); undefined = none. */
  peerCertNames: PeerCertNames | undefined = undefined;

  nodeId = 0;
  /** Any u16 the client sent (checked at INIT, but a failed INIT still stores it). */
  decisionAlgorithm = 0;
  tieBreaker: StoredTieBreaker = NO_TIE_BREAKER;
  heartbeatInterval = HEARTBEAT_INTERVAL_BEFORE_INIT;
  /** KEEP_ACTIVE_PARTITION_TIE_BREAKER: Disabled or Enabled. */
  keepActivePartitionTieBreaker: number = KeepActivePartitionTieBreaker.Disabled;

  configNodeList: readonly NodeInfo[] = [];
  /** Undefined unless the last config list carried CONFIG_VERSION. */
  configVersion: bigint | undefined = undefined;
  lastMembershipNodeList: readonly NodeInfo[] = [];
  lastQuorumNodeList: readonly NodeInfo[] = [];
  lastRingId: RingId = ZERO_RING_ID;
  lastMembershipHeuristics: Heuristics = Heuristics.Undefined;
  lastRegularHeuristics: Heuristics = Heuristics.Undefined;
  lastHeuristics: Heuristics = Heuristics.Undefined;
  lastSentVote: Vote = Vote.Undefined;
  lastSentAckNackVote: Vote = Vote.Undefined;

  cluster: Cluster | undefined = undefined;
  /** Per-client data owned by the client's decision algorithm. */
  algorithmData: unknown = undefined;

  dpdTimer: TimerEntry | undefined = undefined;
  algoTimer: TimerEntry | undefined = undefined;
  /** `algo_timer_vote_info_msq_seq_number`: seq of the last VOTE_INFO sent by the algo timer. */
  algoTimerVoteInfoSeq = 0;

  /** The edge reported the start of a skipped message (msgio_read set skipping_msg). */
  skipping = false;
  /** Set when the client is to be disconnected (DPD expiry); acted on after the timers ran. */
  scheduleDisconnect = false;

  constructor(id: number, addrStr: string) {
    this.id = id;
    this.addrStr = addrStr;
  }

  /** What the C daemon prints for `%p`: a stable pseudo address (made when logged). */
  get pointer(): string {
    return `0x${(0x55d0c0de0000 + this.id * 0x7d0).toString(16)}`;
  }
}
