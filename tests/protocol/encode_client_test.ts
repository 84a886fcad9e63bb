import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMsg } from "../../core/protocol/decode.ts";
import {
  encodeAskForVote,
  encodeClientMsg,
  encodeConfigNodeList,
  encodeEchoRequest,
  encodeHeuristicsChange,
  encodeInit,
  encodeMembershipNodeList,
  encodeMsg,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
  encodeStartTls,
  encodeVoteInfoReply,
} from "../../core/protocol/encode_client.ts";
import { EncodeError } from "../../core/protocol/tlv_writer.ts";
import { MsgType, TlvType } from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { bytesToHex, loadFullSession, loadMalformed } from "../support/mod.ts";

const session = await loadFullSession();
const malformed = await loadMalformed();
const clientWrites = session.events.filter((e) => e.dir === "C->S");

/** The bytes of the first client write whose note contains `note`. */
function captured(note: string): string {
  const all = [session.events, ...malformed.map((c) => c.events)].flat();
  const e = all.find((e) => e.dir === "C->S" && e.note.includes(note));
  assert.ok(e, note);
  return bytesToHex(e.bytes);
}

Deno.test({
  name: "encodeClientMsg() re-encodes every client message of the full session",
  permissions: "none",
  fn() {
    const types = new Set<number>();
    for (const e of clientWrites) {
      const r = decodeMsg(e.bytes);
      assert.ok(r.ok, e.note);
      types.add(r.msg.type);
      assert.equal(bytesToHex(encodeClientMsg(r.msg)), bytesToHex(e.bytes), e.note);
    }
    assert.deepEqual([...types].sort((a, b) => a - b), [0, 3, 6, 8, 10, 12, 15, 16]);
  },
});

Deno.test({
  name: "encodePreinit() and friends build what corosync-qdevice sent",
  permissions: "none",
  fn() {
    const ring = { nodeId: 1, seq: 4n };
    const cases: [Uint8Array, string][] = [
      [encodePreinit({ seqNumber: 1, clusterName: "debian" }), "PREINIT seq=1"],
      [
        encodeInit({
          seqNumber: 2,
          nodeId: 1,
          decisionAlgorithm: 1,
          heartbeatInterval: 8000,
          tieBreaker: { mode: 1, nodeId: 0 },
          ringId: ring,
        }),
        "INIT seq=2",
      ],
      [
        encodeSetOption({
          seqNumber: 3,
          heartbeatInterval: 8000,
          keepActivePartitionTieBreaker: 1,
        }),
        "SET_OPTION seq=3",
      ],
      [
        encodeConfigNodeList({
          seqNumber: 4,
          initial: true,
          configVersion: 5n,
          nodes: [1, 2].map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 as const })),
        }),
        "NODE_LIST seq=4",
      ],
      [
        encodeMembershipNodeList({ seqNumber: 5, ringId: ring, nodeIds: [1], heuristics: 1 }),
        "NODE_LIST seq=5",
      ],
      [
        encodeQuorumNodeList({
          seqNumber: 6,
          quorate: 1,
          nodes: [
            { nodeId: 1, dataCenterId: 0, nodeState: 1 },
            { nodeId: 2, dataCenterId: 0, nodeState: 2 },
          ],
        }),
        "NODE_LIST seq=6",
      ],
      [encodeAskForVote({ seqNumber: 7 }), "ASK_FOR_VOTE seq=7"],
      [encodeVoteInfoReply({ seqNumber: 1 }), "VOTE_INFO_REPLY seq=1"],
      [encodeHeuristicsChange({ seqNumber: 8, heuristics: 2 }), "HEURISTICS_CHANGE seq=8"],
      [encodeEchoRequest({ seqNumber: 1 }), "ECHO_REQUEST seq=1"],
      [encodeStartTls({ seqNumber: 2 }), "STARTTLS"],
      [
        encodeMsg(MsgType.Preinit, [
          { type: TlvType.MsgSeqNumber, value: Uint8Array.of(0, 0, 0, 7) },
          { type: TlvType.ClusterName, value: new TextEncoder().encode("bad"), length: 50 },
        ]),
        "claims 50 bytes",
      ],
      [
        encodeMsg(0xffff, [{ type: 0, value: Uint8Array.of(0, 0, 0, 9) }]),
        "type=0xffff",
      ],
      [encodeMsg(8, [], { bodyLength: 0xffff_ffff }), "len=0xffffffff"],
    ];
    for (const [bytes, note] of cases) assert.equal(bytesToHex(bytes), captured(note), note);
  },
});

Deno.test({
  name: "encodeClientMsg() refuses server messages and missing required fields",
  permissions: "none",
  fn() {
    assert.throws(() => encodeClientMsg({ type: MsgType.VoteInfo, seqNumber: 1 }), EncodeError);
    assert.throws(() => encodeClientMsg({ type: MsgType.Preinit, seqNumber: 1 }), EncodeError);
    assert.throws(() => encodeClientMsg({ type: MsgType.NodeList, seqNumber: 1 }), EncodeError);
    assert.throws(() => encodeHeuristicsChange({ seqNumber: 1, heuristics: 0 }), EncodeError);
    assert.throws(
      () => encodePreinit({ clusterName: new Uint8Array(0x1_0000) }),
      EncodeError,
    );
  },
});

// Arbitrary client messages, in the canonical form decodeMsg() gives for what qdevice sends.
// Records get plain prototypes: deepEqual tells a null prototype apart.
const plain = { noNullPrototype: true } as const;
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const seq = { seqNumber: u32 };
const ringId = fc.record({ nodeId: u32, seq: u64 }, plain);
const heuristics = fc.constantFrom(1 as const, 2 as const);
const tieBreaker = fc.oneof(
  fc.record({ mode: fc.constantFrom(1 as const, 2 as const), nodeId: fc.constant(0) }, plain),
  fc.record({ mode: fc.constant(3 as const), nodeId: u32 }, plain),
);
const nodeInfo = fc.record({
  nodeId: fc.integer({ min: 1, max: 0xffff_ffff }),
  dataCenterId: u32,
  nodeState: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
}, plain);
const u16List = fc.array(u16, { minLength: 1, maxLength: 40 });

const clientMsg: fc.Arbitrary<DecodedMsg> = fc.oneof(
  fc.record({
    type: fc.constant(MsgType.Preinit),
    ...seq,
    clusterName: fc.uint8Array({ maxLength: 300 }),
  }, { noNullPrototype: true, requiredKeys: ["type", "clusterName"] }),
  // A message without options has an empty body, which does not decode: qdevice always
  // sends a seq number, so these three always have one here.
  fc.record({ type: fc.constant(MsgType.StartTls), ...seq }, plain),
  fc.record({
    type: fc.constant(MsgType.Init),
    ...seq,
    supportedMessages: u16List,
    supportedOptions: u16List,
    nodeId: u32,
    decisionAlgorithm: u16,
    heartbeatInterval: u32,
    tieBreaker,
    ringId,
  }, {
    noNullPrototype: true,
    requiredKeys: [
      "type",
      "nodeId",
      "decisionAlgorithm",
      "heartbeatInterval",
      "tieBreaker",
      "ringId",
    ],
  }),
  fc.record({
    type: fc.constant(MsgType.SetOption),
    ...seq,
    heartbeatInterval: u32,
    keepActivePartitionTieBreaker: fc.constantFrom(0, 1),
  }, { noNullPrototype: true, requiredKeys: ["type", "seqNumber"] }),
  fc.record({ type: fc.constant(MsgType.EchoRequest), ...seq }, plain),
  fc.record({
    type: fc.constant(MsgType.NodeList),
    ...seq,
    nodeListType: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    ringId,
    configVersion: u64,
    quorate: fc.constantFrom(0 as const, 1 as const),
    nodes: fc.array(nodeInfo, { minLength: 1, maxLength: 20 }),
    heuristics,
  }, { noNullPrototype: true, requiredKeys: ["type", "seqNumber", "nodeListType"] }),
  fc.record({ type: fc.constant(MsgType.AskForVote), ...seq }, plain),
  fc.record({ type: fc.constant(MsgType.VoteInfoReply), ...seq }, plain),
  fc.record({ type: fc.constant(MsgType.HeuristicsChange), ...seq, heuristics }, plain),
);

Deno.test({
  name: "encodeClientMsg() output decodes back to the same message for every client type",
  permissions: "none",
  fn() {
    fc.assert(
      fc.property(clientMsg, (msg) => {
        const bytes = encodeClientMsg(msg);
        assert.deepEqual(decodeMsg(bytes), { ok: true, msg });
        assert.deepEqual(encodeClientMsg(msg), bytes);
      }),
      { numRuns: 2000 },
    );
  },
});

Deno.test({
  name: "decodeMsg() ignores unknown options inserted anywhere in a client message",
  permissions: "none",
  fn() {
    const unknown = fc.record({
      type: fc.integer({ min: 24, max: 0xffff }),
      value: fc.uint8Array({ maxLength: 20 }),
    }, plain);
    fc.assert(
      fc.property(
        clientMsg,
        fc.array(fc.tuple(fc.nat(), unknown), { maxLength: 5 }),
        (msg, extra) => {
          const bytes = encodeClientMsg(msg);
          // Split the body into its options, then insert the unknown ones between them.
          const options: { type: number; value: Uint8Array }[] = [];
          for (let pos = 6; pos < bytes.length;) {
            const len = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
            options.push({
              type: (bytes[pos]! << 8) | bytes[pos + 1]!,
              value: bytes.subarray(pos + 4, pos + 4 + len),
            });
            pos += 4 + len;
          }
          for (const [at, o] of extra) options.splice(at % (options.length + 1), 0, o);
          assert.deepEqual(decodeMsg(encodeMsg(msg.type, options)), { ok: true, msg });
        },
      ),
      { numRuns: 1000 },
    );
  },
});
