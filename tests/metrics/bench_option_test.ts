/**
 * `scripts/bench/main.ts --metrics`: ours without and with the metrics endpoint, the second
 * scraped every second. Only that the option works is tested here; the overhead figures
 * belong to a real run (docs/bench/metrics-overhead.md).
 */
import assert from "node:assert/strict";
import { RecordingIo } from "../../cli/io.ts";
import { main } from "../../scripts/bench/main.ts";
import { METRICS_PORT_OFFSET } from "../../scripts/bench/arbiter_process.ts";
import { freePort, portIsFree } from "../support/mod.ts";

/**
 * A first port for the bench: it and the next one (one per arbiter), and the metrics port
 * 500 above the second, free now (tests/support/ports.ts says why fixed ports fail).
 */
function basePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = freePort(43200, 43298);
    if (portIsFree(port + 1) && portIsFree(port + 1 + METRICS_PORT_OFFSET)) return port;
  }
  throw new Error("no free bench ports in 43200-43799");
}

Deno.test({
  name: "bench --metrics runs ours twice and scrapes the second one every second",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const io = new RecordingIo();
    const code = await main(
      ["--metrics", "--clients", "8", "--duration", "3", "--port", String(basePort()), "--json"],
      io,
    );
    assert.equal(code, 0, io.stderr);
    const report = JSON.parse(io.stdout);
    const [off, on] = report.arbiters;
    assert.deepEqual([off.label, on.label], ["qnet", "qnet+metrics"]);
    assert.match(on.command, /metrics_listen=127\.0\.0\.1:\{mport\}/);
    assert.doesNotMatch(off.command, /metrics_listen/);
    assert.equal(off.metricsScrapes, null);
    assert.ok(on.metricsScrapes.scrapes >= 3, JSON.stringify(on.metricsScrapes));
    assert.equal(on.metricsScrapes.failures, 0);
    assert.ok(on.metricsScrapes.bytes > 1000, "an exposition with the 8 clients' series");
    assert.ok(on.metricsScrapes.renderCpuMs > 0, "the daemon's own render cost, read back");
    assert.equal(typeof on.metricsScrapes.maxLagMs, "number", "the event-loop lag, read back");
    assert.equal(off.errors + on.errors, 0, io.stderr);
    assert.match(io.stderr, /metrics: scrapes done\s+-\s+\d+/);
  },
});
