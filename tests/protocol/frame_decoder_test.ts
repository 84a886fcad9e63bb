import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameDecoder } from "../../core/protocol/frame_decoder.ts";
import { MSG_HEADER_LENGTH } from "../../core/protocol/constants.ts";
import { encodeMsg, encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import {
  bytesToHex,
  hexToBytes,
  loadFullSession,
  loadMalformed,
  runStream,
  splitPoints,
} from "../support/mod.ts";
import { concatBytes } from "../../core/bytes.ts";

const session = await loadFullSession();
const malformed = await loadMalformed();
const MAX = 32768;

/** Each direction of the full session, and the client side of every malformed case. */
const STREAMS: { name: string; bytes: Uint8Array }[] = [
  ...(["C->S", "S->C"] as const).map((dir) => ({
    name: `full session ${dir}`,
    bytes: concatBytes(session.events.filter((e) => e.dir === dir).map((e) => e.bytes)),
  })),
  ...malformed.map((c) => ({
    name: `case ${c.case}`,
    bytes: concatBytes(c.events.filter((e) => e.dir === "C->S").map((e) => e.bytes)),
  })),
];

Deno.test({
  name: "FrameDecoder.feed() cuts the full session into its messages",
  permissions: "none",
  fn() {
    const client = session.events.filter((e) => e.dir === "C->S");
    const events = runStream(new FrameDecoder(MAX), STREAMS[0]!.bytes);
    assert.deepEqual(events, client.map((e) => `message ${bytesToHex(e.bytes)}`));
  },
});

Deno.test({
  name: "FrameDecoder.feed() gives the same events whole, byte by byte and split anywhere",
  permissions: "none",
  fn() {
    for (const { name, bytes } of STREAMS) {
      const whole = runStream(new FrameDecoder(MAX), bytes);
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i).slice(1);
      assert.deepEqual(runStream(new FrameDecoder(MAX), bytes, everyByte), whole, name);
      for (const cut of splitPoints(bytes.length)) {
        assert.deepEqual(runStream(new FrameDecoder(MAX), bytes, [cut]), whole, `${name} @${cut}`);
      }
    }
  },
});

Deno.test({
  name: "FrameDecoder.feed() stops at the end of StartTLS and leaves the TLS bytes",
  permissions: "none",
  fn() {
    const starttls = encodeStartTls({ seqNumber: 2 });
    const clientHello = hexToBytes("160301020001");
    const d = new FrameDecoder(MAX);
    const r = d.feed(concatBytes([starttls, clientHello]));
    assert.equal(r.consumed, starttls.length);
    assert.deepEqual(r.events, [{ kind: "message", bytes: starttls }]);
    assert.ok(d.idle);
  },
});

Deno.test({
  name: "FrameDecoder.feed() skips unknown types before checking the size",
  permissions: "none",
  fn() {
    const unknown = encodeMsg(18, [{ type: 0, value: new Uint8Array(4) }]);
    assert.deepEqual(runStream(new FrameDecoder(MAX), unknown), [
      "skipStarted 4 type=18 len=8",
      "skipped 4",
    ]);
    // Unknown type and too long: reason 4 wins; the body is discarded as it comes.
    const huge = encodeMsg(0xffff, [], { bodyLength: 100_000, trailing: new Uint8Array(100_000) });
    assert.deepEqual(runStream(new FrameDecoder(MAX), huge), [
      "skipStarted 4 type=65535 len=100000",
      "skipped 4",
    ]);
    // Unknown type with an empty body: complete at once, reason still NO_ERROR (0).
    assert.deepEqual(runStream(new FrameDecoder(MAX), hexToBytes("001200000000")), ["skipped 0"]);
  },
});

Deno.test({
  name: "FrameDecoder.feed() skips a message of maxReceiveSize + 1 bytes, not of maxReceiveSize",
  permissions: "none",
  fn() {
    const atLimit = encodePreinit({ seqNumber: 5, clusterName: "A".repeat(100 - 6 - 8 - 4) });
    assert.equal(atLimit.length, 100);
    const over = encodePreinit({ seqNumber: 5, clusterName: "A".repeat(100 - 6 - 8 - 3) });
    const d = new FrameDecoder(100);
    assert.deepEqual(runStream(d, concatBytes([atLimit, over])), [
      `message ${bytesToHex(atLimit)}`,
      "skipStarted 5 type=0 len=95",
      "skipped 5",
    ]);
  },
});

Deno.test({
  name: "FrameDecoder.feed() discards a 4 GiB body without buffering it",
  permissions: "none",
  fn() {
    const d = new FrameDecoder(MAX);
    assert.deepEqual(runStream(d, hexToBytes("0008ffffffff")), [
      "skipStarted 5 type=8 len=4294967295",
    ]);
    const zeros = new Uint8Array(1 << 20);
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(d.feed(zeros), { consumed: zeros.length, events: [] });
      assert.ok(d.bufferedBytes <= 6);
    }
    assert.ok(!d.idle);
  },
});

Deno.test({
  name: "FrameDecoder.maxReceiveSize applies from the next header on",
  permissions: "none",
  fn() {
    const msg = encodePreinit({ seqNumber: 1, clusterName: "debian" });
    const d = new FrameDecoder(MAX);
    assert.deepEqual(d.feed(msg.subarray(0, 7)).events, []);
    d.maxReceiveSize = 16;
    assert.equal(d.maxReceiveSize, 16);
    assert.deepEqual(d.feed(msg.subarray(7)), {
      consumed: msg.length - 7,
      events: [{ kind: "message", bytes: msg }],
    });
    assert.deepEqual(runStream(d, msg), ["skipStarted 5 type=0 len=18", "skipped 5"]);
  },
});

Deno.test({
  name: "FrameDecoder.feed() with random bytes never throws, overreads or overbuffers",
  permissions: "none",
  fn() {
    // Mostly valid types and small lengths, so that all paths are taken.
    const header = fc.tuple(
      fc.oneof(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 0xffff })),
      fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffff_ffff })),
    ).map(([t, l]) =>
      Uint8Array.of(t >> 8, t & 0xff, l >>> 24, (l >>> 16) & 0xff, (l >>> 8) & 0xff, l & 0xff)
    );
    const piece = fc.oneof(header, fc.uint8Array({ maxLength: 60 }));
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.integer({ min: 16, max: 120 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (pieces, max, rawCuts) => {
          const stream = concatBytes(pieces);
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) =>
            a - b
          );
          const events = runStream(new FrameDecoder(max), stream, cuts);
          assert.deepEqual(runStream(new FrameDecoder(max), stream), events);
          // A message is one whole frame: its header's body length, within the limit.
          for (const e of events) {
            if (!e.startsWith("message ")) continue;
            const bytes = hexToBytes(e.slice(8));
            const bodyLength = new DataView(bytes.buffer).getUint32(2);
            assert.equal(bytes.length, MSG_HEADER_LENGTH + bodyLength);
            assert.ok(bytes.length <= max, `a ${bytes.length}-byte message passed limit ${max}`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  },
});
