/**
 * Decodes one complete QNet message into a `DecodedMsg`.
 *
 * Port of `msg_decode()` in qdevices/msg.c and the `tlv_iter_decode_*()` functions in
 * qdevices/tlv.c. Options are validated in wire order and the first failure stops the
 * decoding; what was decoded before it is kept (the daemon echoes the sequence number in
 * its error reply). Unknown options are ignored, at the top level and inside NODE_INFO.
 *
 * @module
 */
import {
  MSG_HEADER_LENGTH,
  type MsgType,
  type NodeListType,
  type NodeState,
  type Quorate,
  type TieBreakerMode,
  type TlsSupported,
  TlvType,
  type Vote,
} from "./constants.ts";
import type { DecodedMsg, DecodeFailure, DecodeResult, NodeInfo } from "./types.ts";
import { forEachTlv, readU16, readU32, readU64 } from "./tlv_reader.ts";

/** Checks one option value and stores it in `target`; returns the failure or `null`. */
type OptionDecoder<T> = (value: Uint8Array, target: T) => DecodeFailure | null;

/** `tlv_iter_decode_u16()` / `_u32()` / `_u64()`: the length must be exact. */
function u16<T>(set: (t: T, v: number) => void): OptionDecoder<T> {
  return (value, t) => value.length !== 2 ? "invalidLength" : (set(t, readU16(value, 0)), null);
}
function u32<T>(set: (t: T, v: number) => void): OptionDecoder<T> {
  return (value, t) => value.length !== 4 ? "invalidLength" : (set(t, readU32(value, 0)), null);
}
function u64<T>(set: (t: T, v: bigint) => void): OptionDecoder<T> {
  return (value, t) => value.length !== 8 ? "invalidLength" : (set(t, readU64(value, 0)), null);
}

/** `tlv_iter_decode_u8()` plus, for the enum options, the check of the allowed values. */
function u8<T, V extends number>(
  allowed: readonly V[] | null,
  set: (t: T, v: V) => void,
): OptionDecoder<T> {
  return (value, t) => {
    if (value.length !== 1) return "invalidLength";
    const v = value[0] as V;
    if (allowed !== null && !allowed.includes(v)) return "invalidValue";
    set(t, v);
    return null;
  };
}

/**
 * `tlv_iter_decode_u16_array()`: the length must be even. C frees the previous array
 * before decoding the new one, so a failed duplicate leaves none.
 */
function u16Array(
  clear: (m: DecodedMsg) => void,
  set: (m: DecodedMsg, v: number[]) => void,
): OptionDecoder<DecodedMsg> {
  return (value, m) => {
    clear(m);
    if (value.length % 2 !== 0) return "invalidLength";
    set(m, Array.from({ length: value.length / 2 }, (_, i) => readU16(value, 2 * i)));
    return null;
  };
}

const TLS_SUPPORTED_VALUES: readonly TlsSupported[] = [0, 1, 2];
const NODE_STATE_VALUES: readonly NodeState[] = [1, 2, 3];
const NODE_LIST_TYPE_VALUES: readonly NodeListType[] = [0, 1, 2, 3];
const VOTE_VALUES: readonly Vote[] = [1, 2, 3, 4, 5];
const QUORATE_VALUES: readonly Quorate[] = [0, 1];
const HEURISTICS_VALUES: readonly (1 | 2)[] = [1, 2];
const KAP_VALUES: readonly number[] = [0, 1];
const TIE_BREAKER_MODES: readonly number[] = [1, 2, 3];

/** The fields of one NODE_INFO while its nested options are read. */
interface NodeInfoDraft {
  nodeId: number;
  dataCenterId: number;
  nodeState: NodeState;
}

/** Nested options of NODE_INFO (`tlv_iter_decode_node_info()`); others are ignored. */
const NODE_INFO_DECODERS: ReadonlyMap<number, OptionDecoder<NodeInfoDraft>> = new Map([
  [TlvType.NodeId, u32<NodeInfoDraft>((n, v) => n.nodeId = v)],
  [TlvType.DataCenterId, u32<NodeInfoDraft>((n, v) => n.dataCenterId = v)],
  [TlvType.NodeState, u8<NodeInfoDraft, NodeState>(NODE_STATE_VALUES, (n, v) => n.nodeState = v)],
]);

/**
 * Port of `tlv_iter_decode_node_info()`: the value is itself a list of options, iterated
 * with the same rules (so an empty value is inconsistent), and the node id must not be 0.
 */
function decodeNodeInfo(value: Uint8Array, m: DecodedMsg): DecodeFailure | null {
  const draft: NodeInfoDraft = { nodeId: 0, dataCenterId: 0, nodeState: 0 };
  const failure = forEachTlv<DecodeFailure>(
    value,
    0,
    (type, v) => NODE_INFO_DECODERS.get(type)?.(v, draft) ?? null,
  );
  if (failure !== null) return failure;
  if (draft.nodeId === 0) return "invalidValue";
  const node: NodeInfo = draft;
  (m.nodes ??= []).push(node);
  return null;
}

/** Port of `tlv_iter_decode_tie_breaker()`: mode 1..3; the node id counts only for mode 3. */
function decodeTieBreaker(value: Uint8Array, m: DecodedMsg): DecodeFailure | null {
  if (value.length !== 5) return "invalidLength";
  const mode = value[0] ?? 0;
  if (!TIE_BREAKER_MODES.includes(mode)) return "invalidValue";
  m.tieBreaker = { mode: mode as TieBreakerMode, nodeId: mode === 3 ? readU32(value, 1) : 0 };
  return null;
}

/** Port of `tlv_iter_decode_ring_id()`: node id u32 + seq u64. */
function decodeRingId(value: Uint8Array, m: DecodedMsg): DecodeFailure | null {
  if (value.length !== 12) return "invalidLength";
  m.ringId = { nodeId: readU32(value, 0), seq: readU64(value, 4) };
  return null;
}

/**
 * The `switch (opt_type)` of `msg_decode()`. DATA_CENTER_ID and NODE_STATE at the top
 * level are validated like in C but not kept: nothing in the daemon reads them.
 */
const OPTION_DECODERS: ReadonlyMap<number, OptionDecoder<DecodedMsg>> = new Map([
  [TlvType.MsgSeqNumber, u32<DecodedMsg>((m, v) => m.seqNumber = v)],
  [
    TlvType.ClusterName,
    (value: Uint8Array, m: DecodedMsg) => (m.clusterName = value.slice(), null),
  ],
  [
    TlvType.TlsSupported,
    u8<DecodedMsg, TlsSupported>(TLS_SUPPORTED_VALUES, (m, v) => m.tlsSupported = v),
  ],
  [
    TlvType.TlsClientCertRequired,
    u8<DecodedMsg, number>(null, (m, v) => m.tlsClientCertRequired = v),
  ],
  [
    TlvType.SupportedMessages,
    u16Array((m) => delete m.supportedMessages, (m, v) => m.supportedMessages = v),
  ],
  [
    TlvType.SupportedOptions,
    u16Array((m) => delete m.supportedOptions, (m, v) => m.supportedOptions = v),
  ],
  [TlvType.ReplyErrorCode, u16<DecodedMsg>((m, v) => m.replyErrorCode = v)],
  [TlvType.ServerMaximumRequestSize, u32<DecodedMsg>((m, v) => m.serverMaximumRequestSize = v)],
  [TlvType.ServerMaximumReplySize, u32<DecodedMsg>((m, v) => m.serverMaximumReplySize = v)],
  [TlvType.NodeId, u32<DecodedMsg>((m, v) => m.nodeId = v)],
  [
    TlvType.SupportedDecisionAlgorithms,
    u16Array(
      (m) => delete m.supportedDecisionAlgorithms,
      (m, v) => m.supportedDecisionAlgorithms = v,
    ),
  ],
  [TlvType.DecisionAlgorithm, u16<DecodedMsg>((m, v) => m.decisionAlgorithm = v)],
  [TlvType.HeartbeatInterval, u32<DecodedMsg>((m, v) => m.heartbeatInterval = v)],
  [TlvType.RingId, decodeRingId],
  [TlvType.ConfigVersion, u64<DecodedMsg>((m, v) => m.configVersion = v)],
  [TlvType.DataCenterId, u32<DecodedMsg>(() => {})],
  [TlvType.NodeState, u8<DecodedMsg, NodeState>(NODE_STATE_VALUES, () => {})],
  [TlvType.NodeInfo, decodeNodeInfo],
  [
    TlvType.NodeListType,
    u8<DecodedMsg, NodeListType>(NODE_LIST_TYPE_VALUES, (m, v) => m.nodeListType = v),
  ],
  [TlvType.Vote, u8<DecodedMsg, Vote>(VOTE_VALUES, (m, v) => m.vote = v)],
  [TlvType.Quorate, u8<DecodedMsg, Quorate>(QUORATE_VALUES, (m, v) => m.quorate = v)],
  [TlvType.TieBreaker, decodeTieBreaker],
  [TlvType.Heuristics, u8<DecodedMsg, 1 | 2>(HEURISTICS_VALUES, (m, v) => m.heuristics = v)],
  [
    TlvType.KeepActivePartitionTieBreaker,
    u8<DecodedMsg, number>(KAP_VALUES, (m, v) => m.keepActivePartitionTieBreaker = v),
  ],
]);

/**
 * Decodes one whole message (6-byte header included), as the daemon's frame reader hands
 * it over. Port of `msg_decode()` in qdevices/msg.c.
 *
 * As in C, the options run to the end of `bytes` (the header's length field is not read
 * again: the frame reader made both agree), and a body that is empty or ends in 1..3
 * stray bytes is `"inconsistent"`. The type is copied as is; the frame reader only passes
 * known types. Never throws.
 *
 * @returns `{ ok: true, msg }`, or `{ ok: false, failure, partial }` where `partial`
 * holds the options decoded before the failing one.
 */
export function decodeMsg(bytes: Uint8Array): DecodeResult {
  const msg: DecodedMsg = { type: readU16(bytes, 0) as MsgType };
  const failure = forEachTlv<DecodeFailure>(
    bytes,
    MSG_HEADER_LENGTH,
    (type, value) => OPTION_DECODERS.get(type)?.(value, msg) ?? null,
  );
  return failure === null ? { ok: true, msg } : { ok: false, failure, partial: msg };
}
