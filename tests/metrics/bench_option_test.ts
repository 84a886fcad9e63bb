/**
 * `scripts/bench/main.ts --metrics`: ours without and with the metrics endpoint, the second
 * scraped every second. Only that the option works is tested here; the overhead figures
 * belong to a real run (docs/bench/metrics-overhead.md).
 */
import assert from "node:assert/strict";
import { RecordingIo } from "../../cli/io.ts";
import { main } from "../../scripts/bench/main.ts";

Deno.test({
  name: "bench --metrics runs ours twice and scrapes the second one every second",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const io = new RecordingIo();
    const code = await main(
      ["--metrics", "--clients", "8", "--duration", "3", "--port", "43200", "--json"],
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
    assert.equal(off.errors + on.errors, 0, io.stderr);
    assert.match(io.stderr, /metrics: scrapes done\s+-\s+\d+/);
  },
});
