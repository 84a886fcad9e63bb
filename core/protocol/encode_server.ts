/**
 * Encodes the messages the arbiter sends, byte for byte as corosync-qnetd 3.0.3 does.
 *
 * Port of the server-side `msg_create_*()` builders in qdevices/msg.c. The option order
 * of each message is the C order (reference §2.1); real clients do not care, but the
 * byte-exact replies make the captures of the C daemon usable as test oracles.
 *
 * @module
 */
import { DecisionAlgorithm, MSG_TYPE_MAX, MsgType, TLV_TYPE_MAX, TlvType } from "./constants.ts";
import type { ServerMsg } from "./types.ts";
import { EncodeError, MsgWriter } from "./tlv_writer.ts";

function range(count: number): readonly number[] {
  return Object.freeze(Array.from({ length: count }, (_, i) => i));
}

/** `msg_static_supported_messages` in msg.c: every message type, 0..17. */
export const SUPPORTED_MESSAGES: readonly number[] = range(MSG_TYPE_MAX + 1);

/** `tlv_static_supported_options` in tlv.c: every option type, 0..23. */
export const SUPPORTED_OPTIONS: readonly number[] = range(TLV_TYPE_MAX + 1);

/** The algorithms the daemon registers, in the order INIT_REPLY lists them: 0..3. */
export const SUPPORTED_DECISION_ALGORITHMS: readonly number[] = Object.freeze(
  Object.values(DecisionAlgorithm),
);

/** Optional MSG_SEQ_NUMBER, written only when the request carried one. */
function seq(w: MsgWriter, seqNumber: number | undefined): MsgWriter {
  return seqNumber === undefined ? w : w.u32(TlvType.MsgSeqNumber, seqNumber);
}

/**
 * `msg_create_echo_reply()`: the received ECHO_REQUEST copied verbatim (unknown options
 * and all), with the type set to ECHO_REPLY.
 */
function echoReply(request: Uint8Array): Uint8Array {
  if (request.length < 2) {
    throw new EncodeError(`Cannot build an echo reply from a ${request.length}-byte request`);
  }
  const reply = request.slice();
  reply[0] = 0;
  reply[1] = MsgType.EchoReply;
  return reply;
}

/**
 * Encodes one server message. Port of `msg_create_preinit_reply()`,
 * `msg_create_init_reply()`, `msg_create_server_error()`, `msg_create_set_option_reply()`,
 * `msg_create_echo_reply()`, `msg_create_node_list_reply()`,
 * `msg_create_ask_for_vote_reply()`, `msg_create_vote_info()` and
 * `msg_create_heuristics_change_reply()` in qdevices/msg.c.
 *
 * @throws {EncodeError} if a field is out of the range of its wire type.
 */
export function encodeServerMsg(msg: ServerMsg): Uint8Array {
  switch (msg.type) {
    case MsgType.PreinitReply:
      return seq(new MsgWriter(msg.type), msg.seqNumber)
        .u8(TlvType.TlsSupported, msg.tlsSupported)
        .u8(TlvType.TlsClientCertRequired, msg.tlsClientCertRequired ? 1 : 0)
        .finish();
    case MsgType.InitReply: {
      const w = new MsgWriter(msg.type).u16(TlvType.ReplyErrorCode, msg.replyErrorCode);
      if (msg.withSupportedMessages) w.u16Array(TlvType.SupportedMessages, SUPPORTED_MESSAGES);
      if (msg.withSupportedOptions) w.u16Array(TlvType.SupportedOptions, SUPPORTED_OPTIONS);
      return seq(w, msg.seqNumber)
        .u32(TlvType.ServerMaximumRequestSize, msg.serverMaximumRequestSize)
        .u32(TlvType.ServerMaximumReplySize, msg.serverMaximumReplySize)
        .u16Array(TlvType.SupportedDecisionAlgorithms, SUPPORTED_DECISION_ALGORITHMS)
        .finish();
    }
    case MsgType.ServerError:
      return seq(new MsgWriter(msg.type), msg.seqNumber)
        .u16(TlvType.ReplyErrorCode, msg.replyErrorCode)
        .finish();
    case MsgType.SetOptionReply: {
      const w = seq(new MsgWriter(msg.type), msg.seqNumber);
      if (msg.heartbeatInterval !== undefined) {
        w.u32(TlvType.HeartbeatInterval, msg.heartbeatInterval);
      }
      if (msg.keepActivePartitionTieBreaker !== undefined) {
        w.u8(TlvType.KeepActivePartitionTieBreaker, msg.keepActivePartitionTieBreaker);
      }
      return w.finish();
    }
    case MsgType.EchoReply:
      return echoReply(msg.request);
    case MsgType.NodeListReply:
      return new MsgWriter(msg.type)
        .u32(TlvType.MsgSeqNumber, msg.seqNumber)
        .u8(TlvType.NodeListType, msg.nodeListType)
        .ringId(msg.ringId)
        .u8(TlvType.Vote, msg.vote)
        .finish();
    case MsgType.AskForVoteReply:
    case MsgType.VoteInfo:
      return new MsgWriter(msg.type)
        .u32(TlvType.MsgSeqNumber, msg.seqNumber)
        .u8(TlvType.Vote, msg.vote)
        .ringId(msg.ringId)
        .finish();
    case MsgType.HeuristicsChangeReply:
      return new MsgWriter(msg.type)
        .u32(TlvType.MsgSeqNumber, msg.seqNumber)
        .u8(TlvType.Vote, msg.vote)
        .ringId(msg.ringId)
        .u8(TlvType.Heuristics, msg.heuristics)
        .finish();
  }
}
