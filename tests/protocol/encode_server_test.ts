import assert from "node:assert/strict";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodeServerMsg } from "../../core/protocol/encode_server.ts";
import { EncodeError } from "../../core/protocol/tlv_writer.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import type { DecodedMsg, ServerMsg } from "../../core/protocol/types.ts";
import { bytesToHex, loadFullSession, loadMalformed, type VectorEvent } from "../support/mod.ts";

const session = await loadFullSession();
const malformed = await loadMalformed();

/** `{ [key]: value }`, or `{}` when the value is absent (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * The ServerMsg the daemon would have been asked to encode for a captured reply, read
 * back from the reply itself (and, for an echo, from the request it answers).
 */
function serverMsgOf(d: DecodedMsg, request: Uint8Array): ServerMsg {
  switch (d.type) {
    case MsgType.PreinitReply:
      return {
        type: d.type,
        ...opt("seqNumber", d.seqNumber),
        tlsSupported: d.tlsSupported!,
        tlsClientCertRequired: d.tlsClientCertRequired === 1,
      };
    case MsgType.InitReply:
      return {
        type: d.type,
        replyErrorCode: d.replyErrorCode!,
        withSupportedMessages: d.supportedMessages !== undefined,
        withSupportedOptions: d.supportedOptions !== undefined,
        ...opt("seqNumber", d.seqNumber),
        serverMaximumRequestSize: d.serverMaximumRequestSize!,
        serverMaximumReplySize: d.serverMaximumReplySize!,
      };
    case MsgType.ServerError:
      return { type: d.type, ...opt("seqNumber", d.seqNumber), replyErrorCode: d.replyErrorCode! };
    case MsgType.SetOptionReply:
      return {
        type: d.type,
        ...opt("seqNumber", d.seqNumber),
        ...opt("heartbeatInterval", d.heartbeatInterval),
        ...opt("keepActivePartitionTieBreaker", d.keepActivePartitionTieBreaker),
      };
    case MsgType.EchoReply:
      return { type: d.type, request };
    case MsgType.NodeListReply:
      return {
        type: d.type,
        seqNumber: d.seqNumber!,
        nodeListType: d.nodeListType!,
        ringId: d.ringId!,
        vote: d.vote!,
      };
    case MsgType.AskForVoteReply:
    case MsgType.VoteInfo:
      return { type: d.type, seqNumber: d.seqNumber!, vote: d.vote!, ringId: d.ringId! };
    case MsgType.HeuristicsChangeReply:
      return {
        type: d.type,
        seqNumber: d.seqNumber!,
        vote: d.vote!,
        ringId: d.ringId!,
        heuristics: d.heuristics!,
      };
    default:
      throw new Error(`Capture has a server message of client type ${d.type}`);
  }
}

/** Every server write of a capture, with the last client write before it. */
function replies(events: readonly VectorEvent[]): { reply: Uint8Array; request: Uint8Array }[] {
  const out: { reply: Uint8Array; request: Uint8Array }[] = [];
  let request: Uint8Array = new Uint8Array(0);
  for (const e of events) {
    if (e.dir === "C->S") request = e.bytes;
    else if (!e.eof) out.push({ reply: e.bytes, request });
  }
  return out;
}

Deno.test({
  name: "encodeServerMsg() reproduces every server message captured from the C daemon",
  permissions: "none",
  fn() {
    const all = [session.events, ...malformed.map((c) => c.events)].flatMap(replies);
    const types = new Set<number>();
    for (const { reply, request } of all) {
      const r = decodeMsg(reply);
      assert.ok(r.ok);
      types.add(r.msg.type);
      assert.equal(bytesToHex(encodeServerMsg(serverMsgOf(r.msg, request))), bytesToHex(reply));
    }
    // The captures hold all nine server message types.
    assert.deepEqual([...types].sort((a, b) => a - b), [1, 4, 5, 7, 9, 11, 13, 14, 17]);
  },
});

Deno.test({
  name: "encodeServerMsg() copies an echo request verbatim with type 9",
  permissions: "none",
  fn() {
    const request = Uint8Array.of(0, 8, 0, 0, 0, 9, 0, 0x63, 0, 5, 1, 2, 3, 4, 5);
    const reply = encodeServerMsg({ type: MsgType.EchoReply, request });
    assert.deepEqual(reply, Uint8Array.of(0, 9, ...request.subarray(2)));
    assert.equal(request[1], 8, "the request is not modified");
  },
});

Deno.test({
  name: "encodeServerMsg() builds INIT_REPLY without lists and seq in 40 bytes",
  permissions: "none",
  fn() {
    const bytes = encodeServerMsg({
      type: MsgType.InitReply,
      replyErrorCode: 0,
      withSupportedMessages: false,
      withSupportedOptions: false,
      serverMaximumRequestSize: 32768,
      serverMaximumReplySize: 32768,
    });
    assert.equal(bytes.length, 40);
    const both = encodeServerMsg({
      type: MsgType.InitReply,
      replyErrorCode: 7,
      withSupportedMessages: true,
      withSupportedOptions: true,
      seqNumber: 1,
      serverMaximumRequestSize: 32768,
      serverMaximumReplySize: 32768,
    });
    assert.equal(both.length, 140);
  },
});

Deno.test({
  name: "encodeServerMsg() refuses values that do not fit their field",
  permissions: "none",
  fn() {
    assert.throws(
      () => encodeServerMsg({ type: MsgType.ServerError, replyErrorCode: 0x1_0000 }),
      EncodeError,
    );
    assert.throws(
      () => encodeServerMsg({ type: MsgType.ServerError, seqNumber: -1, replyErrorCode: 9 }),
      EncodeError,
    );
    assert.throws(
      () =>
        encodeServerMsg({
          type: MsgType.VoteInfo,
          seqNumber: 1,
          vote: 1,
          ringId: { nodeId: 1, seq: 1n << 64n },
        }),
      EncodeError,
    );
  },
});
