import assert from "node:assert/strict";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { MsgWriter } from "../../core/protocol/tlv_writer.ts";
import { MsgType, TlvType } from "../../core/protocol/constants.ts";
import type { DecodedMsg, DecodeFailure } from "../../core/protocol/types.ts";
import { hexToBytes, loadFullSession } from "../support/mod.ts";

const session = await loadFullSession();

/** A PREINIT carrying seq 77 and then whatever `build` adds. */
function preinit(build: (w: MsgWriter) => MsgWriter): Uint8Array {
  return build(new MsgWriter(MsgType.Preinit).u32(TlvType.MsgSeqNumber, 77)).finish();
}

const u8 = (...b: number[]) => Uint8Array.from(b);

Deno.test({
  name: "decodeMsg() decodes every message of the full session as the C dump shows",
  permissions: "none",
  fn() {
    for (const e of session.events) {
      const r = decodeMsg(e.bytes);
      assert.ok(r.ok, `${e.dir} ${e.note}`);
      // The dump's first line is "NAME(type) len=N"; every seq it shows is ours too.
      const header = /\((\d+)\) len=(\d+)/.exec(e.decoded ?? "");
      assert.equal(r.msg.type, Number(header?.[1]));
      assert.equal(e.bytes.length - 6, Number(header?.[2]));
      const seq = /MSG_SEQ_NUMBER \[4\] = (\d+)/.exec(e.decoded ?? "");
      assert.equal(r.msg.seqNumber, seq ? Number(seq[1]) : undefined);
    }
  },
});

Deno.test({
  name: "decodeMsg() extracts every field of the captured INIT and node lists",
  permissions: "none",
  fn() {
    const init = decodeMsg(session.events[2]!.bytes);
    assert.deepEqual(init, {
      ok: true,
      msg: {
        type: MsgType.Init,
        seqNumber: 2,
        supportedMessages: Array.from({ length: 18 }, (_, i) => i),
        supportedOptions: Array.from({ length: 24 }, (_, i) => i),
        nodeId: 1,
        decisionAlgorithm: 1,
        heartbeatInterval: 8000,
        tieBreaker: { mode: 1, nodeId: 0 },
        ringId: { nodeId: 1, seq: 4n },
      },
    });
    const config = decodeMsg(session.events[6]!.bytes);
    assert.deepEqual(config, {
      ok: true,
      msg: {
        type: MsgType.NodeList,
        seqNumber: 4,
        nodeListType: 0,
        configVersion: 5n,
        nodes: [
          { nodeId: 1, dataCenterId: 0, nodeState: 0 },
          { nodeId: 2, dataCenterId: 0, nodeState: 0 },
        ],
      },
    });
    const quorum = session.events.find((e) => e.note.includes("QUORUM"));
    assert.deepEqual(decodeMsg(quorum!.bytes), {
      ok: true,
      msg: {
        type: MsgType.NodeList,
        seqNumber: 6,
        nodeListType: 3,
        quorate: 1,
        nodes: [
          { nodeId: 1, dataCenterId: 0, nodeState: 1 },
          { nodeId: 2, dataCenterId: 0, nodeState: 2 },
        ],
      },
    });
    const preinitMsg = decodeMsg(session.events[0]!.bytes);
    assert.ok(preinitMsg.ok);
    assert.equal(new TextDecoder().decode(preinitMsg.msg.clusterName), "debian");
  },
});

/** One row: a message, then either the failure (with the seq kept) or fields to find. */
interface Row {
  name: string;
  bytes: Uint8Array;
  failure?: DecodeFailure;
  seq?: number;
  fields?: Record<string, unknown>;
}

const ROWS: Row[] = [
  // Framing of the option list (tlv_iter_next).
  { name: "empty body", bytes: hexToBytes("000800000000"), failure: "inconsistent" },
  { name: "1-byte body", bytes: hexToBytes("00080000000100"), failure: "inconsistent" },
  { name: "3-byte body", bytes: hexToBytes("000800000003000000"), failure: "inconsistent" },
  ...[1, 2, 3].map((n) => ({
    name: `${n} trailing bytes`,
    bytes: preinit((w) => w.trailing(new Uint8Array(n))),
    failure: "inconsistent" as const,
    seq: 77,
  })),
  {
    name: "option running past the end",
    bytes: preinit((w) => w.raw(TlvType.ClusterName, u8(0x62), 50)),
    failure: "inconsistent",
    seq: 77,
  },
  {
    name: "bad option before an overrun reports the option",
    bytes: new MsgWriter(0).raw(TlvType.MsgSeqNumber, u8(0, 1)).raw(1, u8(), 9).finish(),
    failure: "invalidLength",
  },
  {
    name: "first failure in wire order wins",
    bytes: preinit((w) => w.u8(TlvType.Vote, 9).raw(TlvType.NodeId, u8(1))),
    failure: "invalidValue",
    seq: 77,
  },
  // Scalars: exact lengths, any value.
  {
    name: "seq of 2 bytes",
    bytes: new MsgWriter(0).raw(TlvType.MsgSeqNumber, u8(0, 1)).finish(),
    failure: "invalidLength",
  },
  ...([
    [TlvType.TlsClientCertRequired, 2],
    [TlvType.ReplyErrorCode, 1],
    [TlvType.ServerMaximumRequestSize, 3],
    [TlvType.ServerMaximumReplySize, 5],
    [TlvType.NodeId, 2],
    [TlvType.DecisionAlgorithm, 1],
    [TlvType.HeartbeatInterval, 8],
    [TlvType.RingId, 11],
    [TlvType.ConfigVersion, 4],
    [TlvType.DataCenterId, 2],
    [TlvType.TieBreaker, 4],
    [TlvType.TlsSupported, 0],
    [TlvType.NodeState, 2],
    [TlvType.NodeListType, 2],
    [TlvType.Vote, 0],
    [TlvType.Quorate, 2],
    [TlvType.Heuristics, 2],
    [TlvType.KeepActivePartitionTieBreaker, 2],
    [TlvType.SupportedMessages, 3],
    [TlvType.SupportedOptions, 1],
    [TlvType.SupportedDecisionAlgorithms, 5],
  ] as const).map(([type, len]) => ({
    name: `option ${type} with length ${len}`,
    bytes: preinit((w) => w.raw(type, new Uint8Array(len).fill(1))),
    failure: "invalidLength" as const,
    seq: 77,
  })),
  {
    name: "any cert-required, error code, algorithm and node id 0",
    bytes: preinit((w) =>
      w.u8(TlvType.TlsClientCertRequired, 200).u16(TlvType.ReplyErrorCode, 999)
        .u16(TlvType.DecisionAlgorithm, 77).u32(TlvType.NodeId, 0)
    ),
    fields: { tlsClientCertRequired: 200, replyErrorCode: 999, decisionAlgorithm: 77, nodeId: 0 },
  },
  {
    name: "u64 fields as bigint",
    bytes: preinit((w) =>
      w.u64(TlvType.ConfigVersion, (1n << 63n) + 5n)
        .ringId({ nodeId: 0xffff_ffff, seq: (1n << 64n) - 1n })
    ),
    fields: {
      configVersion: (1n << 63n) + 5n,
      ringId: { nodeId: 0xffff_ffff, seq: (1n << 64n) - 1n },
    },
  },
  // Enumerations.
  ...([
    [TlvType.TlsSupported, 3],
    [TlvType.NodeState, 0],
    [TlvType.NodeState, 4],
    [TlvType.NodeListType, 4],
    [TlvType.Vote, 0],
    [TlvType.Vote, 6],
    [TlvType.Quorate, 2],
    [TlvType.Heuristics, 0],
    [TlvType.Heuristics, 3],
    [TlvType.KeepActivePartitionTieBreaker, 2],
  ] as const).map(([type, value]) => ({
    name: `option ${type} with value ${value}`,
    bytes: preinit((w) => w.u8(type, value)),
    failure: "invalidValue" as const,
    seq: 77,
  })),
  {
    name: "enumeration values at their limits",
    bytes: preinit((w) =>
      w.u8(TlvType.TlsSupported, 2).u8(TlvType.NodeState, 3).u8(TlvType.NodeListType, 3)
        .u8(TlvType.Vote, 5).u8(TlvType.Quorate, 0).u8(TlvType.Heuristics, 2)
        .u8(TlvType.KeepActivePartitionTieBreaker, 1)
    ),
    fields: {
      tlsSupported: 2,
      nodeListType: 3,
      vote: 5,
      quorate: 0,
      heuristics: 2,
      keepActivePartitionTieBreaker: 1,
    },
  },
  // Tie-breaker.
  ...[0, 4].map((mode) => ({
    name: `tie-breaker mode ${mode}`,
    bytes: preinit((w) => w.raw(TlvType.TieBreaker, u8(mode, 0, 0, 0, 9))),
    failure: "invalidValue" as const,
    seq: 77,
  })),
  {
    name: "tie-breaker node id forced to 0 unless mode 3",
    bytes: preinit((w) => w.raw(TlvType.TieBreaker, u8(2, 0, 0, 0, 9))),
    fields: { tieBreaker: { mode: 2, nodeId: 0 } },
  },
  {
    name: "tie-breaker node id kept for mode 3",
    bytes: preinit((w) => w.raw(TlvType.TieBreaker, u8(3, 0, 0, 1, 9))),
    fields: { tieBreaker: { mode: 3, nodeId: 0x109 } },
  },
  // Strings, arrays, duplicates, unknown options.
  {
    name: "empty cluster name, last one wins",
    bytes: preinit((w) => w.raw(TlvType.ClusterName, u8(0x61)).raw(TlvType.ClusterName, u8())),
    fields: { clusterName: u8() },
  },
  {
    name: "empty arrays",
    bytes: preinit((w) => w.u16Array(TlvType.SupportedMessages, []).u16Array(10, [])),
    fields: { supportedMessages: [], supportedDecisionAlgorithms: [] },
  },
  {
    name: "a failed duplicate array leaves none",
    bytes: preinit((w) =>
      w.u16Array(TlvType.SupportedOptions, [1, 2]).raw(TlvType.SupportedOptions, u8(1))
    ),
    failure: "invalidLength",
    seq: 77,
    fields: { supportedOptions: undefined },
  },
  {
    name: "unknown options ignored whatever their length",
    bytes: preinit((w) => w.raw(24, u8(1, 2, 3)).raw(0xffff, u8()).u8(TlvType.Vote, 1)),
    fields: { vote: 1 },
  },
  // NODE_INFO.
  {
    name: "NODE_INFO with empty value",
    bytes: preinit((w) => w.raw(TlvType.NodeInfo, u8())),
    failure: "inconsistent",
    seq: 77,
  },
  {
    name: "NODE_INFO with node id 0",
    bytes: preinit((w) => w.nodeInfo({ nodeId: 0, dataCenterId: 0, nodeState: 0 })),
    failure: "invalidValue",
    seq: 77,
  },
  {
    name: "NODE_INFO without node id",
    bytes: preinit((w) => w.raw(TlvType.NodeInfo, hexToBytes("000f000400000003"))),
    failure: "invalidValue",
    seq: 77,
  },
  {
    name: "NODE_INFO with a bad nested state",
    bytes: preinit((w) => w.raw(TlvType.NodeInfo, hexToBytes("00090004000000010010000107"))),
    failure: "invalidValue",
    seq: 77,
  },
  {
    name: "NODE_INFO with a short nested node id",
    bytes: preinit((w) => w.raw(TlvType.NodeInfo, hexToBytes("000900020001"))),
    failure: "invalidLength",
    seq: 77,
  },
  {
    name: "NODE_INFO with trailing nested bytes",
    bytes: preinit((w) => w.raw(TlvType.NodeInfo, hexToBytes("000900040000000100"))),
    failure: "inconsistent",
    seq: 77,
  },
  {
    name: "NODE_INFO accumulates and ignores unknown nested options",
    bytes: preinit((w) =>
      w.raw(TlvType.NodeInfo, hexToBytes("0063000100" + "00090004000000050016000101"))
        .nodeInfo({ nodeId: 6, dataCenterId: 7, nodeState: 3 })
    ),
    fields: {
      nodes: [
        { nodeId: 5, dataCenterId: 0, nodeState: 0 },
        { nodeId: 6, dataCenterId: 7, nodeState: 3 },
      ],
    },
  },
];

Deno.test({
  name: "decodeMsg() validates options as msg_decode() does",
  permissions: "none",
  fn() {
    for (const row of ROWS) {
      const r = decodeMsg(row.bytes);
      const msg = r.ok ? r.msg : r.partial;
      if (row.failure === undefined) assert.ok(r.ok, row.name);
      else assert.equal(r.ok ? "ok" : r.failure, row.failure, row.name);
      assert.equal(msg.seqNumber, row.seq ?? (row.failure ? undefined : 77), row.name);
      for (const [key, value] of Object.entries(row.fields ?? {})) {
        assert.deepEqual(msg[key as keyof DecodedMsg], value, `${row.name}: ${key}`);
      }
    }
  },
});

Deno.test({
  name: "decodeMsg() keeps the type of any header and never throws on short input",
  permissions: "none",
  fn() {
    assert.deepEqual(decodeMsg(u8()), {
      ok: false,
      failure: "inconsistent",
      partial: { type: 0 },
    });
    const r = decodeMsg(hexToBytes("0011000000080000000400000003"));
    assert.deepEqual(r, { ok: true, msg: { type: 17, seqNumber: 3 } });
  },
});
