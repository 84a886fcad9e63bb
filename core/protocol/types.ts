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
import { MsgType as MsgTypeValues } from "./constants.ts";

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

/**
 * Why `msg_decode()` failed; each maps to one C log line (qnetd_client_msg_received):
 * - `invalidLength` (-1): "Received message with option with invalid length"
 * - `noMemory` (-2): "Can't allocate memory"
 * - `inconsistent` (-3): "Received inconsistent msg (tlv len > msg size)"
 * - `invalidValue` (-4): "Received message with option with invalid value"
 */
export type DecodeFailure = "invalidLength" | "noMemory" | "inconsistent" | "invalidValue";

/**
 * Result of decoding one complete message. On failure the fields decoded before the
 * failing option are kept: the C daemon echoes the sequence number in its error reply.
 */
export type DecodeResult =
  | { readonly ok: true; readonly msg: DecodedMsg }
  | { readonly ok: false; readonly failure: DecodeFailure; readonly partial: DecodedMsg };

/**
 * A message the server sends, before encoding. The encoder writes the options in the C
 * daemon's exact order (reference §2.1); optional fields are written only when present.
 */
export type ServerMsg =
  | {
    readonly type: typeof MsgTypeValues.PreinitReply;
    readonly seqNumber?: number;
    readonly tlsSupported: TlsSupported;
    readonly tlsClientCertRequired: boolean;
  }
  | {
    readonly type: typeof MsgTypeValues.InitReply;
    readonly replyErrorCode: number;
    /** Present iff the INIT carried SUPPORTED_MESSAGES; the server lists 0..17. */
    readonly withSupportedMessages: boolean;
    /** Present iff the INIT carried SUPPORTED_OPTIONS; the server lists 0..23. */
    readonly withSupportedOptions: boolean;
    readonly seqNumber?: number;
    readonly serverMaximumRequestSize: number;
    readonly serverMaximumReplySize: number;
  }
  | {
    readonly type: typeof MsgTypeValues.ServerError;
    readonly seqNumber?: number;
    readonly replyErrorCode: number;
  }
  | {
    readonly type: typeof MsgTypeValues.SetOptionReply;
    readonly seqNumber?: number;
    readonly heartbeatInterval?: number;
    readonly keepActivePartitionTieBreaker?: number;
  }
  | {
    readonly type: typeof MsgTypeValues.EchoReply;
    /** The whole ECHO_REQUEST as received; the reply is this with the type set to 9. */
    readonly request: Uint8Array;
  }
  | {
    readonly type: typeof MsgTypeValues.NodeListReply;
    readonly seqNumber: number;
    readonly nodeListType: NodeListType;
    readonly ringId: RingId;
    readonly vote: Vote;
  }
  | {
    readonly type: typeof MsgTypeValues.AskForVoteReply | typeof MsgTypeValues.VoteInfo;
    readonly seqNumber: number;
    readonly vote: Vote;
    readonly ringId: RingId;
  }
  | {
    readonly type: typeof MsgTypeValues.HeuristicsChangeReply;
    readonly seqNumber: number;
    readonly vote: Vote;
    readonly ringId: RingId;
    readonly heuristics: Heuristics;
  };
