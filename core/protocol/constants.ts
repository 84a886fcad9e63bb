/**
 * The numbers of the QNet wire protocol (corosync-qdevice `qdevices/msg.h` and `tlv.h`,
 * v3.0.3), and the strings the C daemon and tool print for them.
 *
 * Numbers are modelled as `as const` objects plus a union type rather than TS enums:
 * a value read off the wire may be any integer, and we must be able to hold and print it.
 *
 * @module
 */

/** Message types (u16 in the 6-byte header). 0..17 are valid; anything else is skipped. */
export const MsgType = {
  Preinit: 0,
  PreinitReply: 1,
  StartTls: 2,
  Init: 3,
  InitReply: 4,
  ServerError: 5,
  SetOption: 6,
  SetOptionReply: 7,
  EchoRequest: 8,
  EchoReply: 9,
  NodeList: 10,
  NodeListReply: 11,
  AskForVote: 12,
  AskForVoteReply: 13,
  VoteInfo: 14,
  VoteInfoReply: 15,
  HeuristicsChange: 16,
  HeuristicsChangeReply: 17,
} as const;
export type MsgType = typeof MsgType[keyof typeof MsgType];

/** Highest valid message type; 0..MSG_TYPE_MAX is what `msg_is_valid_msg_type()` accepts. */
export const MSG_TYPE_MAX = 17;

/** Size of the message header: u16 type + u32 body length. */
export const MSG_HEADER_LENGTH = 6;

/** True for the 18 message types the C daemon knows. */
export function isValidMsgType(type: number): type is MsgType {
  return Number.isInteger(type) && type >= 0 && type <= MSG_TYPE_MAX;
}

/** `msg_type_to_str()`: the names used in logs and in `-v`. */
export const MSG_TYPE_NAMES: Readonly<Record<MsgType, string>> = {
  [MsgType.Preinit]: "Preinit",
  [MsgType.PreinitReply]: "Preinit reply",
  [MsgType.StartTls]: "StartTLS",
  [MsgType.Init]: "Init",
  [MsgType.InitReply]: "Init reply",
  [MsgType.ServerError]: "Server error",
  [MsgType.SetOption]: "Set option",
  [MsgType.SetOptionReply]: "Set option reply",
  [MsgType.EchoRequest]: "Echo request",
  [MsgType.EchoReply]: "Echo reply",
  [MsgType.NodeList]: "Node list",
  [MsgType.NodeListReply]: "Node list reply",
  [MsgType.AskForVote]: "Ask for vote",
  [MsgType.AskForVoteReply]: "Ask for vote reply",
  [MsgType.VoteInfo]: "Vote info",
  [MsgType.VoteInfoReply]: "Vote info reply",
  [MsgType.HeuristicsChange]: "Heuristics change",
  [MsgType.HeuristicsChangeReply]: "Heuristics change reply",
};

/** Name of a message type, or the C fallback for an unknown number. */
export function msgTypeName(type: number): string {
  return isValidMsgType(type) ? MSG_TYPE_NAMES[type] : "Unknown message type";
}

/** TLV option types (u16). 0..23 are known; unknown ones are ignored by the decoder. */
export const TlvType = {
  MsgSeqNumber: 0,
  ClusterName: 1,
  TlsSupported: 2,
  TlsClientCertRequired: 3,
  SupportedMessages: 4,
  SupportedOptions: 5,
  ReplyErrorCode: 6,
  ServerMaximumRequestSize: 7,
  ServerMaximumReplySize: 8,
  NodeId: 9,
  SupportedDecisionAlgorithms: 10,
  DecisionAlgorithm: 11,
  HeartbeatInterval: 12,
  RingId: 13,
  ConfigVersion: 14,
  DataCenterId: 15,
  NodeState: 16,
  NodeInfo: 17,
  NodeListType: 18,
  Vote: 19,
  Quorate: 20,
  TieBreaker: 21,
  Heuristics: 22,
  KeepActivePartitionTieBreaker: 23,
} as const;
export type TlvType = typeof TlvType[keyof typeof TlvType];

/** Highest known option type. */
export const TLV_TYPE_MAX = 23;

/** Reply error codes (TLV 6, u16). */
export const ReplyError = {
  NoError: 0,
  UnsupportedNeededMessage: 1,
  UnsupportedNeededOption: 2,
  TlsRequired: 3,
  UnsupportedMessage: 4,
  MessageTooLong: 5,
  PreinitRequired: 6,
  DoesntContainRequiredOption: 7,
  UnexpectedMessage: 8,
  ErrorDecodingMsg: 9,
  InternalError: 10,
  InitRequired: 11,
  UnsupportedDecisionAlgorithm: 12,
  InvalidHeartbeatInterval: 13,
  UnsupportedDecisionAlgorithmMessage: 14,
  TieBreakerDiffersFromOtherNodes: 15,
  AlgorithmDiffersFromOtherNodes: 16,
  DuplicateNodeId: 17,
  InvalidConfigNodeList: 18,
  InvalidMembershipNodeList: 19,
} as const;
export type ReplyError = typeof ReplyError[keyof typeof ReplyError];

/** TLS_SUPPORTED values (also the daemon's `-s` mode). */
export const TlsSupported = { Unsupported: 0, Supported: 1, Required: 2 } as const;
export type TlsSupported = typeof TlsSupported[keyof typeof TlsSupported];

export const TLS_SUPPORTED_NAMES: Readonly<Record<TlsSupported, string>> = {
  [TlsSupported.Unsupported]: "Unsupported",
  [TlsSupported.Supported]: "Supported",
  [TlsSupported.Required]: "Required",
};

/** DECISION_ALGORITHM values (u16). */
export const DecisionAlgorithm = { Test: 0, Ffsplit: 1, TwoNodeLms: 2, Lms: 3 } as const;
export type DecisionAlgorithm = typeof DecisionAlgorithm[keyof typeof DecisionAlgorithm];

export const DECISION_ALGORITHM_NAMES: Readonly<Record<DecisionAlgorithm, string>> = {
  [DecisionAlgorithm.Test]: "Test",
  [DecisionAlgorithm.Ffsplit]: "Fifty-Fifty split",
  [DecisionAlgorithm.TwoNodeLms]: "2 Node LMS",
  [DecisionAlgorithm.Lms]: "LMS",
};

/** True for the algorithms the daemon implements (0..3). */
export function isDecisionAlgorithm(value: number): value is DecisionAlgorithm {
  return value === 0 || value === 1 || value === 2 || value === 3;
}

/** NODE_STATE values (u8). 0 means "not set" and never appears on the wire. */
export const NodeState = { NotSet: 0, Member: 1, Dead: 2, Leaving: 3 } as const;
export type NodeState = typeof NodeState[keyof typeof NodeState];

export const NODE_STATE_NAMES: Readonly<Record<NodeState, string>> = {
  [NodeState.NotSet]: "not set",
  [NodeState.Member]: "member",
  [NodeState.Dead]: "dead",
  [NodeState.Leaving]: "leaving",
};

/** NODE_LIST_TYPE values (u8). */
export const NodeListType = {
  InitialConfig: 0,
  ChangedConfig: 1,
  Membership: 2,
  Quorum: 3,
} as const;
export type NodeListType = typeof NodeListType[keyof typeof NodeListType];

/** VOTE values (u8). 0 (undefined) never appears on the wire. */
export const Vote = {
  Undefined: 0,
  Ack: 1,
  Nack: 2,
  AskLater: 3,
  WaitForReply: 4,
  NoChange: 5,
} as const;
export type Vote = typeof Vote[keyof typeof Vote];

/** `tlv_vote_to_str()`. */
export function voteName(vote: number): string {
  switch (vote) {
    case Vote.Ack:
      return "ACK";
    case Vote.Nack:
      return "NACK";
    case Vote.AskLater:
      return "Ask later";
    case Vote.WaitForReply:
      return "Wait for reply";
    case Vote.NoChange:
      return "No change";
    default:
      return "Unknown vote value";
  }
}

/** QUORATE values (u8). */
export const Quorate = { Inquorate: 0, Quorate: 1 } as const;
export type Quorate = typeof Quorate[keyof typeof Quorate];

/** TIE_BREAKER modes (first byte of the 5-byte option). */
export const TieBreakerMode = { Lowest: 1, Highest: 2, NodeId: 3 } as const;
export type TieBreakerMode = typeof TieBreakerMode[keyof typeof TieBreakerMode];

/** HEURISTICS values (u8). Order for comparisons: Pass > Undefined > Fail. */
export const Heuristics = { Undefined: 0, Pass: 1, Fail: 2 } as const;
export type Heuristics = typeof Heuristics[keyof typeof Heuristics];

export const HEURISTICS_NAMES: Readonly<Record<Heuristics, string>> = {
  [Heuristics.Undefined]: "Undefined",
  [Heuristics.Pass]: "Pass",
  [Heuristics.Fail]: "Fail",
};

/** `tlv_heuristics_cmp()`: >0 if `a` is better than `b` (Pass > Undefined > Fail). */
export function compareHeuristics(a: Heuristics, b: Heuristics): number {
  const rank = (h: Heuristics): number =>
    h === Heuristics.Pass ? 2 : h === Heuristics.Undefined ? 1 : 0;
  return rank(a) - rank(b);
}

/** KEEP_ACTIVE_PARTITION_TIE_BREAKER values (u8). */
export const KeepActivePartitionTieBreaker = { Disabled: 0, Enabled: 1 } as const;
