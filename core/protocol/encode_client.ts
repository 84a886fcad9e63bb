/**
 * Encodes the messages a qdevice client sends, byte for byte as corosync-qdevice 3.0.3
 * does. Used by tests, the benchmark and the protocol fuzzer, never by the daemon.
 *
 * Port of the client-side `msg_create_*()` builders in qdevices/msg.c, with the option
 * order of reference §2.1 "Client-built messages". `encodeMsg()` builds anything else,
 * malformed messages included.
 *
 * @module
 */
import {
  type DecisionAlgorithm,
  type Heuristics,
  MsgType,
  type NodeListType,
  NodeListType as NodeListTypes,
  type Quorate,
  TlvType,
} from "./constants.ts";
import type { DecodedMsg, NodeInfo, RingId, TieBreaker } from "./types.ts";
import { EncodeError, MsgWriter } from "./tlv_writer.ts";
import { SUPPORTED_MESSAGES, SUPPORTED_OPTIONS } from "./encode_server.ts";

/** Optional MSG_SEQ_NUMBER (the C `add_msg_seq_number` flag). */
function seq(w: MsgWriter, seqNumber: number | undefined): MsgWriter {
  return seqNumber === undefined ? w : w.u32(TlvType.MsgSeqNumber, seqNumber);
}

/** `msg_create_preinit()`: [seq], CLUSTER_NAME. A string name is written as UTF-8. */
export function encodePreinit(
  f: { readonly seqNumber?: number; readonly clusterName: string | Uint8Array },
): Uint8Array {
  const name = typeof f.clusterName === "string"
    ? new TextEncoder().encode(f.clusterName)
    : f.clusterName;
  return seq(new MsgWriter(MsgType.Preinit), f.seqNumber).raw(TlvType.ClusterName, name).finish();
}

/** `msg_create_starttls()`: [seq]. */
export function encodeStartTls(f: { readonly seqNumber?: number }): Uint8Array {
  return seq(new MsgWriter(MsgType.StartTls), f.seqNumber).finish();
}

/** Fields of INIT; the two lists default to the full ones a real client sends. */
export interface InitFields {
  readonly seqNumber?: number;
  /** Written only if non-empty (C skips an empty list). Default: 0..17. */
  readonly supportedMessages?: readonly number[];
  /** Written only if non-empty. Default: 0..23. */
  readonly supportedOptions?: readonly number[];
  readonly nodeId: number;
  readonly decisionAlgorithm: DecisionAlgorithm | number;
  readonly heartbeatInterval: number;
  readonly tieBreaker: TieBreaker;
  readonly ringId: RingId;
}

/**
 * `msg_create_init()`: [seq], [SUPPORTED_MESSAGES], [SUPPORTED_OPTIONS], NODE_ID,
 * DECISION_ALGORITHM, HEARTBEAT_INTERVAL, TIE_BREAKER, RING_ID.
 */
export function encodeInit(f: InitFields): Uint8Array {
  const w = seq(new MsgWriter(MsgType.Init), f.seqNumber);
  const messages = f.supportedMessages ?? SUPPORTED_MESSAGES;
  const options = f.supportedOptions ?? SUPPORTED_OPTIONS;
  if (messages.length > 0) w.u16Array(TlvType.SupportedMessages, messages);
  if (options.length > 0) w.u16Array(TlvType.SupportedOptions, options);
  return w.u32(TlvType.NodeId, f.nodeId)
    .u16(TlvType.DecisionAlgorithm, f.decisionAlgorithm)
    .u32(TlvType.HeartbeatInterval, f.heartbeatInterval)
    .tieBreaker(f.tieBreaker)
    .ringId(f.ringId)
    .finish();
}

/** `msg_create_set_option()`: [seq], [HEARTBEAT_INTERVAL], [KEEP_ACTIVE_PARTITION_TIE_BREAKER]. */
export function encodeSetOption(
  f: {
    readonly seqNumber?: number;
    readonly heartbeatInterval?: number;
    readonly keepActivePartitionTieBreaker?: number;
  },
): Uint8Array {
  const w = seq(new MsgWriter(MsgType.SetOption), f.seqNumber);
  if (f.heartbeatInterval !== undefined) w.u32(TlvType.HeartbeatInterval, f.heartbeatInterval);
  if (f.keepActivePartitionTieBreaker !== undefined) {
    w.u8(TlvType.KeepActivePartitionTieBreaker, f.keepActivePartitionTieBreaker);
  }
  return w.finish();
}

/** `msg_create_echo_request()`: [seq]. */
export function encodeEchoRequest(f: { readonly seqNumber?: number }): Uint8Array {
  return seq(new MsgWriter(MsgType.EchoRequest), f.seqNumber).finish();
}

/** Fields of `msg_create_node_list()`; the optional ones are written only when present. */
export interface NodeListFields {
  readonly seqNumber: number;
  readonly nodeListType: NodeListType;
  readonly ringId?: RingId;
  readonly configVersion?: bigint;
  readonly quorate?: Quorate;
  readonly nodes: readonly NodeInfo[];
  /** Written only if present and not Undefined (0). */
  readonly heuristics?: Heuristics;
}

/**
 * `msg_create_node_list()`: seq, NODE_LIST_TYPE, [RING_ID], [CONFIG_VERSION], [QUORATE],
 * NODE_INFO per node, [HEURISTICS].
 */
export function encodeNodeList(f: NodeListFields): Uint8Array {
  const w = new MsgWriter(MsgType.NodeList)
    .u32(TlvType.MsgSeqNumber, f.seqNumber)
    .u8(TlvType.NodeListType, f.nodeListType);
  if (f.ringId !== undefined) w.ringId(f.ringId);
  if (f.configVersion !== undefined) w.u64(TlvType.ConfigVersion, f.configVersion);
  if (f.quorate !== undefined) w.u8(TlvType.Quorate, f.quorate);
  for (const node of f.nodes) w.nodeInfo(node);
  if (f.heuristics !== undefined && f.heuristics !== 0) w.u8(TlvType.Heuristics, f.heuristics);
  return w.finish();
}

/** What qdevice sends for a (changed) configuration: `qdevice_net_send_config_node_list()`. */
export function encodeConfigNodeList(
  f: {
    readonly seqNumber: number;
    readonly initial: boolean;
    readonly configVersion?: bigint;
    readonly nodes: readonly NodeInfo[];
  },
): Uint8Array {
  const nodeListType = f.initial ? NodeListTypes.InitialConfig : NodeListTypes.ChangedConfig;
  return encodeNodeList({ ...f, nodeListType });
}

/** What qdevice sends for a new membership: ring id, node ids, heuristics if defined. */
export function encodeMembershipNodeList(
  f: {
    readonly seqNumber: number;
    readonly ringId: RingId;
    readonly nodeIds: readonly number[];
    readonly heuristics?: Heuristics;
  },
): Uint8Array {
  const nodes = f.nodeIds.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 as const }));
  return encodeNodeList({ ...f, nodeListType: NodeListTypes.Membership, nodes });
}

/** What qdevice sends for a quorum change: quorate flag, nodes with their state. */
export function encodeQuorumNodeList(
  f: { readonly seqNumber: number; readonly quorate: Quorate; readonly nodes: readonly NodeInfo[] },
): Uint8Array {
  return encodeNodeList({ ...f, nodeListType: NodeListTypes.Quorum });
}

/** `msg_create_ask_for_vote()`: seq. */
export function encodeAskForVote(f: { readonly seqNumber: number }): Uint8Array {
  return new MsgWriter(MsgType.AskForVote).u32(TlvType.MsgSeqNumber, f.seqNumber).finish();
}

/** `msg_create_vote_info_reply()`: seq (that of the VOTE_INFO being acknowledged). */
export function encodeVoteInfoReply(f: { readonly seqNumber: number }): Uint8Array {
  return new MsgWriter(MsgType.VoteInfoReply).u32(TlvType.MsgSeqNumber, f.seqNumber).finish();
}

/** `msg_create_heuristics_change()`: seq, HEURISTICS (Pass or Fail; C refuses Undefined). */
export function encodeHeuristicsChange(
  f: { readonly seqNumber: number; readonly heuristics: Heuristics },
): Uint8Array {
  if (f.heuristics === 0) throw new EncodeError("Cannot encode undefined heuristics");
  return new MsgWriter(MsgType.HeuristicsChange)
    .u32(TlvType.MsgSeqNumber, f.seqNumber)
    .u8(TlvType.Heuristics, f.heuristics)
    .finish();
}

function need<T>(value: T | undefined, type: number, field: string): T {
  if (value === undefined) {
    throw new EncodeError(`Cannot encode a message of type ${type} without ${field}`);
  }
  return value;
}

/**
 * Re-encodes a decoded client message with the builder the real client uses for its
 * type, so `encodeClientMsg(decodeMsg(b).msg)` gives back `b` for anything qdevice
 * sends. Fields the builder does not write are dropped.
 *
 * @throws {EncodeError} for server-only types or when a field the builder needs is absent.
 */
export function encodeClientMsg(m: DecodedMsg): Uint8Array {
  const t = m.type;
  switch (t) {
    case MsgType.Preinit:
      return encodePreinit({ ...m, clusterName: need(m.clusterName, t, "a cluster name") });
    case MsgType.StartTls:
      return encodeStartTls(m);
    case MsgType.Init:
      return encodeInit({
        ...m,
        supportedMessages: m.supportedMessages ?? [],
        supportedOptions: m.supportedOptions ?? [],
        nodeId: need(m.nodeId, t, "a node id"),
        decisionAlgorithm: need(m.decisionAlgorithm, t, "a decision algorithm"),
        heartbeatInterval: need(m.heartbeatInterval, t, "a heartbeat interval"),
        tieBreaker: need(m.tieBreaker, t, "a tie-breaker"),
        ringId: need(m.ringId, t, "a ring id"),
      });
    case MsgType.SetOption:
      return encodeSetOption(m);
    case MsgType.EchoRequest:
      return encodeEchoRequest(m);
    case MsgType.NodeList:
      return encodeNodeList({
        ...m,
        seqNumber: need(m.seqNumber, t, "a seq number"),
        nodeListType: need(m.nodeListType, t, "a node list type"),
        nodes: m.nodes ?? [],
      });
    case MsgType.AskForVote:
      return encodeAskForVote({ seqNumber: need(m.seqNumber, t, "a seq number") });
    case MsgType.VoteInfoReply:
      return encodeVoteInfoReply({ seqNumber: need(m.seqNumber, t, "a seq number") });
    case MsgType.HeuristicsChange:
      return encodeHeuristicsChange({
        seqNumber: need(m.seqNumber, t, "a seq number"),
        heuristics: need(m.heuristics, t, "heuristics"),
      });
    default:
      throw new EncodeError(`Cannot encode message type ${t}: not sent by clients`);
  }
}

/** One option for `encodeMsg()`: `length` overrides the length field (to lie about it). */
export interface RawOption {
  readonly type: number;
  readonly value: Uint8Array;
  readonly length?: number;
}

/**
 * Escape hatch for tests: any type, any options in the given order, optional stray bytes
 * after them and an optional false body length in the header.
 */
export function encodeMsg(
  type: number,
  options: readonly RawOption[],
  extra: { readonly trailing?: Uint8Array; readonly bodyLength?: number } = {},
): Uint8Array {
  const w = new MsgWriter(type);
  for (const o of options) w.raw(o.type, o.value, o.length);
  if (extra.trailing !== undefined) w.trailing(extra.trailing);
  return w.finish(extra.bodyLength);
}
