/**
 * Shapes of decoded QNet messages, shared by the codec, the arbiter and the tools.
 *
 * Port of `struct msg_decoded` (qdevices/msg.h) with optional properties in place of the
 * C `*_set` flags: with `exactOptionalPropertyTypes`, "absent" cannot be confused with
 * "present but undefined". 64-bit fields (ring sequence, config version) are `bigint`.
 *
 * @module
 */
import type {
  DecisionAlgorithm,
  Heuristics,
  MsgType,
  NodeListType,
  NodeState,
  Quorate,
  TieBreakerMode,
  TlsSupported,
  Vote,
} from "./constants.ts";

/** TLV 13: the votequorum ring a client is in. Equal iff both fields are equal. */
export interface RingId {
  readonly nodeId: number;
  readonly seq: bigint;
}

/** TLV 21. `nodeId` is 0 unless `mode` is NodeId (the decoder and encoder both force that). */
export interface TieBreaker {
  readonly mode: TieBreakerMode;
  readonly nodeId: number;
}

/** One entry of TLV 17 (NODE_INFO). `dataCenterId` 0 and `nodeState` 0 mean "not set". */
export interface NodeInfo {
  readonly nodeId: number;
  readonly dataCenterId: number;
  readonly nodeState: NodeState;
}

/**
 * Everything `msg_decode()` can extract from one message. Every field is optional; which
 * ones a message type needs is checked by the arbiter, not the decoder (as in C).
 */
export interface DecodedMsg {
  type: MsgType;
  seqNumber?: number;
  clusterName?: Uint8Array;
  tlsSupported?: TlsSupported;
  tlsClientCertRequired?: number;
  supportedMessages?: number[];
  supportedOptions?: number[];
  replyErrorCode?: number;
  serverMaximumRequestSize?: number;
  serverMaximumReplySize?: number;
  nodeId?: number;
  supportedDecisionAlgorithms?: number[];
  /** Any u16: the range is checked at INIT (error 12), not by the decoder. */
  decisionAlgorithm?: number;
  heartbeatInterval?: number;
  ringId?: RingId;
  configVersion?: bigint;
  /** NODE_INFO options accumulate; absent when none were sent. */
  nodes?: NodeInfo[];
  nodeListType?: NodeListType;
  vote?: Vote;
  quorate?: Quorate;
  tieBreaker?: TieBreaker;
  heuristics?: Heuristics;
  keepActivePartitionTieBreaker?: number;
}

/** Re-exported so users of the message shapes need one import. */
export type { DecisionAlgorithm };
