/**
 * Drives a FrameDecoder over a byte stream cut into chunks, the way the daemon's transport
 * does (feed, then feed the rest), checking its contract at every call.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FrameDecoder, FrameEvent } from "../../core/protocol/frame_decoder.ts";
import { bytesToHex } from "./vectors.ts";

/** A FrameEvent as a string, so event lists compare and print well. */
export function describe(e: FrameEvent): string {
  switch (e.kind) {
    case "message":
      return `message ${bytesToHex(e.bytes)}`;
    case "skipStarted":
      return `skipStarted ${e.reason} type=${e.msgType} len=${e.length}`;
    case "skipped":
      return `skipped ${e.reason}`;
  }
}

function bodyLength(stream: Uint8Array, at: number): number {
  return new DataView(stream.buffer, stream.byteOffset).getUint32(at + 2);
}

/**
 * Feeds `stream` cut at `cuts` (ascending offsets) and returns the events in order.
 * Asserts on every call: progress is made, nothing past the end of the current message
 * is consumed (a completed message ends exactly where its header said), a call that
 * stops short of its chunk's end has just completed a message, completion is the last
 * event of a call, and no more than the receive limit is ever buffered.
 */
export function runStream(
  decoder: FrameDecoder,
  stream: Uint8Array,
  cuts: readonly number[] = [],
): string[] {
  const events: string[] = [];
  const bounds = [0, ...cuts, stream.length];
  let offset = 0;
  let messageStart = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    let chunk = stream.subarray(bounds[i], bounds[i + 1]);
    while (chunk.length > 0) {
      const { consumed, events: got } = decoder.feed(chunk);
      assert.ok(consumed > 0 && consumed <= chunk.length, `consumed ${consumed}`);
      offset += consumed;
      const doneAt = got.findIndex((e) => e.kind !== "skipStarted");
      if (doneAt >= 0) {
        assert.equal(doneAt, got.length - 1, "completion is the last event");
        assert.equal(offset, messageStart + 6 + bodyLength(stream, messageStart));
        assert.ok(decoder.idle);
        messageStart = offset;
      } else {
        assert.equal(consumed, chunk.length, "stops early only at a message end");
      }
      assert.ok(decoder.bufferedBytes <= Math.max(decoder.maxReceiveSize, 6));
      events.push(...got.map(describe));
      chunk = chunk.subarray(consumed);
    }
  }
  return events;
}

/** Every offset for short streams; for long ones the first and last 64 and a stride. */
export function splitPoints(length: number): number[] {
  const all = Array.from({ length: Math.max(length - 1, 0) }, (_, i) => i + 1);
  return length <= 2048 ? all : all.filter((i) => i <= 64 || i >= length - 64 || i % 509 === 0);
}
