/** cli/daemon_mode.ts: what the starter relays of the detached daemon's stderr, and when it returns. */
import assert from "node:assert/strict";
import { daemonizes, relayUntilReady } from "../../cli/daemon_mode.ts";
import { READY_MARKER } from "../../cli/readiness.ts";

const encoder = new TextEncoder();

/** A stream of `chunks`, then its end (unless `endless`). */
function streamOf(chunks: string[], endless = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (!endless) controller.close();
    },
  });
}

async function relay(chunks: string[], endless = false) {
  let out = "";
  const decoder = new TextDecoder();
  const ready = await relayUntilReady(streamOf(chunks, endless), (b) => {
    out += decoder.decode(b);
  });
  return { ready, out };
}

Deno.test("relayUntilReady() passes everything before the mark, at once or split", async () => {
  const text = "line 1\nline 2\n";
  for (let cut = 0; cut <= READY_MARKER.length; cut++) {
    const chunks = [text + READY_MARKER.slice(0, cut), READY_MARKER.slice(cut)];
    // The daemon writes nothing after the mark but keeps its stderr open: no end of stream.
    assert.deepEqual(await relay(chunks, true), { ready: true, out: text }, `cut ${cut}`);
  }
});

Deno.test("relayUntilReady() without the mark relays all and reports the end", async () => {
  const out = "Dec 05 10:00:00 error   Another instance is running\n";
  assert.deepEqual(await relay([out.slice(0, 7), out.slice(7)]), { ready: false, out });
  assert.deepEqual(await relay([]), { ready: false, out: "" });
  // A partial mark at the end is text like any other.
  const partial = READY_MARKER.slice(0, 5);
  assert.deepEqual(await relay(["x", partial]), { ready: false, out: `x${partial}` });
});

Deno.test("daemonizes() is true for a valid daemon command line without -f only", () => {
  assert.equal(daemonizes([]), true);
  assert.equal(daemonizes(["-d", "-p", "5404"]), true);
  assert.equal(daemonizes(["-f"]), false);
  assert.equal(daemonizes(["-d", "-f", "-s", "off"]), false);
  assert.equal(daemonizes(["-h"]), false);
  assert.equal(daemonizes(["-x"]), false);
});
