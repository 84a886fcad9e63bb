import assert from "node:assert/strict";
import { FrameDecoder, type FrameEvent } from "../../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodeServerMsg } from "../../core/protocol/encode_server.ts";
import { MsgType, ReplyError } from "../../core/protocol/constants.ts";
import { bytesToHex, loadMalformed, type MalformedCase } from "../support/mod.ts";

const cases = await loadMalformed();

/** What the codec makes of one complete message (or of the stream's unfinished end). */
type Outcome =
  | { kind: "ok"; seq?: number }
  | { kind: "skipped"; reason: number }
  | { kind: "decodeError"; failure: string; seq?: number }
  | { kind: "pending" };

function outcomeOf(e: FrameEvent): Outcome | null {
  if (e.kind === "skipStarted") return null;
  if (e.kind === "skipped") return { kind: "skipped", reason: e.reason };
  const r = decodeMsg(e.bytes);
  const msg = r.ok ? r.msg : r.partial;
  const seq = msg.seqNumber === undefined ? {} : { seq: msg.seqNumber };
  return r.ok ? { kind: "ok", ...seq } : { kind: "decodeError", failure: r.failure, ...seq };
}

/** Runs a case's client writes through one connection's FrameDecoder and decodeMsg(). */
function classify(c: MalformedCase): { outcomes: Outcome[]; replies: Uint8Array[] }[] {
  const d = new FrameDecoder(32768);
  const writes: { outcomes: Outcome[]; replies: Uint8Array[] }[] = [];
  for (const e of c.events) {
    if (e.dir === "S->C") {
      if (!e.eof) writes.at(-1)?.replies.push(e.bytes);
      continue;
    }
    const outcomes: Outcome[] = [];
    for (let rest = e.bytes; rest.length > 0;) {
      const { consumed, events } = d.feed(rest);
      for (const ev of events) {
        const o = outcomeOf(ev);
        if (o !== null) outcomes.push(o);
      }
      rest = rest.subarray(consumed);
    }
    writes.push({ outcomes, replies: [] });
  }
  if (!d.idle) writes.at(-1)?.outcomes.push({ kind: "pending" });
  return writes;
}

function summary(o: Outcome): string {
  switch (o.kind) {
    case "ok":
      return "ok";
    case "pending":
      return "pending";
    case "skipped":
      return `skipped ${o.reason}`;
    case "decodeError":
      return `${o.failure}${o.seq === undefined ? "" : ` seq=${o.seq}`}`;
  }
}

/**
 * The cases where framing or decoding fails, with the failure msg_decode() returns (the
 * capture shows only the resulting error 9; the kind comes from the C source). In every
 * other case all messages decode fine and the reply depends on the daemon's state (before
 * PREINIT/INIT, server-only types, missing options, algorithm rules, StartTLS with TLS
 * off): cases 7, 13, 14, 19, 20, 22, 23, 25, 26, 28, 29, 31, 32, 34, 35, 37, 38, 40, 41,
 * 43, 44, 46, 47, 49, 50, 52, 67, 68, 70, 71, 73, 74, 76, 77, 79, 80, 82, 83, 85, 86, 88,
 * 89, 91, 92 and 94. The daemon's tests cover those replies.
 */
const FAILING = new Map<number, string[]>([
  [1, ["pending"]],
  [2, ["inconsistent"]],
  [4, ["inconsistent seq=7"]],
  [5, ["inconsistent seq=7"]],
  [8, ["pending"]],
  [10, ["skipped 4"]],
  [11, ["skipped 0"]],
  [16, ["invalidLength"]],
  [17, ["invalidLength seq=77"]],
  [53, ["invalidValue seq=2"]],
  [55, ["invalidValue seq=1"]],
  [56, ["invalidValue seq=1"]],
  [58, ["invalidValue seq=1"]],
  [59, ["inconsistent seq=1"]],
  [61, ["invalidLength seq=1"]],
  [62, ["invalidValue seq=1"]],
  [64, ["invalidValue seq=1"]],
  [65, ["invalidLength seq=1"]],
]);

Deno.test({
  name: "FrameDecoder and decodeMsg() classify every malformed case as the C daemon did",
  permissions: "none",
  fn() {
    for (const c of cases) {
      const failures = classify(c).flatMap((w) => w.outcomes).map(summary).filter((s) =>
        s !== "ok"
      );
      assert.deepEqual(failures, FAILING.get(c.case) ?? [], c.title);
    }
    assert.deepEqual([...FAILING.keys()].filter((n) => !cases.some((c) => c.case === n)), []);
  },
});

Deno.test({
  name: "FrameDecoder and decodeMsg() outcomes match the replies the C daemon sent",
  permissions: "none",
  fn() {
    for (const c of cases) {
      for (const { outcomes, replies } of classify(c)) {
        const done = outcomes.filter((o) => o.kind !== "pending");
        if (done.length === 0) {
          assert.deepEqual(replies, [], `${c.title}: no reply before a message is complete`);
          continue;
        }
        const [o] = done;
        if (o?.kind === "skipped" || o?.kind === "decodeError") {
          // The one reply is SERVER_ERROR: the skip reason without seq, or error 9 with the
          // seq decoded before the failure.
          assert.equal(done.length, 1);
          const expected = encodeServerMsg({
            type: MsgType.ServerError,
            ...(o.kind === "decodeError" && o.seq !== undefined ? { seqNumber: o.seq } : {}),
            replyErrorCode: o.kind === "skipped" ? o.reason : ReplyError.ErrorDecodingMsg,
          });
          assert.deepEqual(replies.map(bytesToHex), [bytesToHex(expected)], c.title);
          continue;
        }
        // Decoded fine: whatever the daemon answered, it was not a framing or decoding
        // error, and an error reply echoes the seq of one of the requests of this write.
        const framing: number[] = [
          ReplyError.UnsupportedMessage,
          ReplyError.MessageTooLong,
          ReplyError.ErrorDecodingMsg,
        ];
        const seqs = done.map((d) => d.kind === "ok" ? d.seq : undefined);
        for (const reply of replies) {
          const r = decodeMsg(reply);
          assert.ok(r.ok);
          if (r.msg.type !== MsgType.ServerError) continue;
          assert.ok(!framing.includes(r.msg.replyErrorCode ?? -1), c.title);
          assert.ok(seqs.includes(r.msg.seqNumber), `${c.title}: seq ${r.msg.seqNumber}`);
        }
      }
    }
  },
});
