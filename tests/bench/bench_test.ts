/**
 * The load generator works: a short run against our daemon ends with every client voted
 * and no errors, and runs against a fake arbiter that answers wrongly report the mistake.
 * No timing assertions: only counts and kinds. Ports 17120..17139 and 16490..16499.
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import { type LoadOptions, runLoad, splitClusters } from "../../scripts/bench/load_run.ts";
import { type Fault, startTrivialArbiter } from "../../scripts/bench/trivial_arbiter.ts";
import { ClusterScenario } from "../../scripts/bench/scenario.ts";
import { ErrorTally, leastSquaresSlope, percentile, summarize } from "../../scripts/bench/stats.ts";
import { clusterName } from "../../scripts/bench/load_group.ts";
import { makeBenchPki } from "../../scripts/bench/tls_pki.ts";
import { main, parseOptions } from "../../scripts/bench/main.ts";
import { formatTable, ratio } from "../../scripts/bench/report.ts";
import type { ArbiterFigures } from "../../scripts/bench/bench_run.ts";
import { startArbiter } from "../support/mod.ts";
import { RecordingIo } from "../../cli/io.ts";

/** A small run: 8 clients in 2 clusters, a few seconds. */
/**
 * A small load. These tests check the generator's bookkeeping, not the daemon's speed: every
 * deadline is wide (a just-started daemon on a busy 2-core machine may take a second to
 * answer), so an error counted here is a wrong answer or a lost one, never a slow one.
 * Timing belongs in scripts/bench.
 */
function small(port: number, extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    hostname: "127.0.0.1",
    port,
    clusters: 2,
    nodesPerCluster: 4,
    // Echo replies are due within one heartbeat: 3 s, not the real client's 1 s minimum.
    heartbeatMs: 3000,
    connectTimeoutMs: 10_000,
    changeIntervalMs: 500,
    workers: 1,
    stormTimeoutMs: 10_000,
    durationMs: 4000,
    graceMs: 5000,
    ...extra,
  };
}

Deno.test("ClusterScenario.expectedVote() follows ffsplit for whole and split clusters", () => {
  const table: { size: number; split: boolean; votes: Vote[] }[] = [
    { size: 4, split: false, votes: [Vote.Ack, Vote.Ack, Vote.Ack, Vote.Ack] },
    // 2:2 → the half with the lowest node id (tie-breaker lowest).
    { size: 4, split: true, votes: [Vote.Ack, Vote.Ack, Vote.Nack, Vote.Nack] },
    // 2:1 → majority.
    { size: 3, split: true, votes: [Vote.Ack, Vote.Ack, Vote.Nack] },
    { size: 2, split: true, votes: [Vote.Ack, Vote.Nack] },
  ];
  for (const row of table) {
    const s = new ClusterScenario("c", row.size);
    if (row.split) s.change();
    assert.equal(s.split, row.split);
    assert.deepEqual(s.nodeIds.map((id) => s.expectedVote(id)), row.votes, `size ${row.size}`);
  }
});

Deno.test("ClusterScenario.membershipOf() gives each partition its own new ring", () => {
  const s = new ClusterScenario("c", 4);
  assert.deepEqual(s.membershipOf(3), { ringId: { nodeId: 1, seq: 1n }, nodeIds: [1, 2, 3, 4] });
  s.change();
  assert.deepEqual(s.membershipOf(2), { ringId: { nodeId: 1, seq: 2n }, nodeIds: [1, 2] });
  assert.deepEqual(s.membershipOf(4), { ringId: { nodeId: 3, seq: 2n }, nodeIds: [3, 4] });
  s.change();
  assert.deepEqual(s.membershipOf(4), { ringId: { nodeId: 1, seq: 3n }, nodeIds: [1, 2, 3, 4] });
  assert.throws(() => new ClusterScenario("one", 1).change(), RangeError);
});

Deno.test("summarize() gives nearest-rank percentiles", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(summarize(samples), { count: 100, p50: 50, p99: 99, max: 100 });
  assert.equal(percentile([], 0.5), null);
  assert.deepEqual(summarize([]), { count: 0, p50: null, p99: null, max: null });
});

Deno.test("leastSquaresSlope() fits a line and needs two distinct x values", () => {
  const line = [0, 1, 2, 3, 4].map((x) => [x, 10 + 2.5 * x] as [number, number]);
  assert.ok(Math.abs(leastSquaresSlope(line)! - 2.5) < 1e-9);
  assert.equal(leastSquaresSlope([[1, 5]]), null);
  assert.equal(leastSquaresSlope([[1, 5], [1, 7]]), null);
  assert.equal(leastSquaresSlope([[0, 3], [1, 3], [2, 3]]), 0);
});

Deno.test("ErrorTally.merge() adds counts and keeps a few samples", () => {
  const a = new ErrorTally();
  const b = new ErrorTally();
  for (let i = 0; i < 5; i++) b.add("wrong-seq", `s${i}`);
  a.add("wrong-seq", "a");
  a.merge(b.toJSON());
  assert.equal(a.total, 6);
  assert.deepEqual(a.samples.get("wrong-seq"), ["a", "s0", "s1"]);
});

Deno.test("splitClusters() covers every cluster once", () => {
  assert.deepEqual(splitClusters(5, 2), [{ offset: 0, count: 3 }, { offset: 3, count: 2 }]);
  assert.deepEqual(splitClusters(1, 4), [{ offset: 0, count: 1 }]);
});

Deno.test("parseOptions() reads the flags and rejects bad ones", () => {
  const o = parseOptions(["--compare", "--clients", "10", "--nodes", "3", "--pin"]);
  assert.notEqual(o, "help");
  if (o === "help") return;
  assert.deepEqual(o.arbiters.map((a) => a.label), ["qnet", "C"]);
  assert.equal(o.config.clusters, 4);
  assert.equal(o.config.connectTimeoutMs, o.config.heartbeatMs);
  assert.equal(o.config.arbiterCpus, "0");
  assert.equal(o.generatorCpus, "1");
  const custom = parseOptions(["--arbiter", "mine=/bin/x -p {port}", "--arbiter", "/bin/y"]);
  assert.notEqual(custom, "help");
  if (custom !== "help") {
    assert.deepEqual(custom.arbiters, [
      { label: "mine", command: "/bin/x -p {port}" },
      { label: "arbiter2", command: "/bin/y" },
    ]);
  }
  assert.equal(parseOptions(["--help"]), "help");
  assert.throws(() => parseOptions([]), RangeError);
  assert.throws(() => parseOptions(["--ceiling", "--clients", "0"]), RangeError);
  const tls = parseOptions(["--compare", "--tls", "--processes", "2", "--rss-step", "3"]);
  assert.notEqual(tls, "help");
  if (tls !== "help") {
    assert.match(tls.arbiters[0]!.command, /-s on .*nss_db_dir=\{pki\}\/qnetd/);
    assert.match(tls.arbiters[1]!.command, /corosync-qnetd -f -s on .*nss_db_dir=\{pki\}\/nssdb/);
    assert.equal(tls.config.processes, 2);
    assert.equal(tls.config.rssStepSettleMs, 3000);
  }
});

Deno.test("formatTable() prints every arbiter and the ratio of the first two", () => {
  const base = {
    command: "x",
    clients: 8,
    stormVoted: 8,
    stormUnsettled: [],
    steadyVoted: 8,
    echoP50: 1,
    echoP99: 2,
    echoSamples: 10,
    changeP50: 1,
    changeP99: 1,
    changesMeasured: 1,
    changesStarted: 1,
    changesDisturbed: 0,
    changesUnfinished: 0,
    errors: 0,
    disconnects: 0,
    errorCounts: {},
    errorSamples: {},
    steadyMsgsPerSec: 1,
    arbiterCpuStormMs: 10,
    arbiterCpuSteadyPct: 1,
    arbiterRssIdleKiB: 1024,
    arbiterRssAfterStormKiB: 1024,
    arbiterRssEndKiB: 1024,
    arbiterPeakRssKiB: 1024,
    generatorCpuStormPct: 1,
    generatorCpuSteadyPct: 1,
    tlsHandshakes: 0,
    clientsAtHalf: 0,
    arbiterRssAtHalfKiB: null,
    rssPerClientKiB: null,
    rssPerClientFromIdleKiB: null,
    rssSlopeKiBPerMin: null,
    rssSamples: 0,
    rssSteadyMinKiB: null,
    rssSteadyMaxKiB: null,
    arbiterDied: false,
    arbiterExit: "code 0",
    arbiterLogTail: "",
    metricsScrapes: null,
  };
  const a: ArbiterFigures = { ...base, label: "qnet", stormMs: 300 };
  const b: ArbiterFigures = { ...base, label: "C", stormMs: 100, errors: 2, errorCounts: { x: 2 } };
  const table = formatTable([a, b]);
  assert.match(table, /^figure\s+qnet\s+C\s+qnet\/C$/m);
  assert.match(table, /^storm: time until all voted \(ms\)\s+300\s+100\s+3\.00$/m);
  assert.match(table, /C: 2 × x/);
  assert.equal(ratio(1, 0), null);
});

Deno.test({
  name: "runLoad() votes every client against our daemon with no errors",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using daemon = await startArbiter("qnet", { port: 17120, args: ["-s", "off"] });
    // The load starts once the daemon answers a whole PREINIT exchange, not just accepts.
    await daemon.assertServing();
    const r = await runLoad(small(daemon.port));
    const errors = [...r.storm.errors.samples, ...r.steady.errors.samples];
    assert.equal(r.clients, 8);
    assert.equal(r.storm.voted, 8, JSON.stringify(errors));
    assert.notEqual(r.storm.timeMs, null);
    assert.equal(r.storm.errors.total, 0, JSON.stringify(errors));
    assert.equal(r.steady.errors.total, 0, JSON.stringify(errors));
    assert.equal(r.storm.counters.disconnects + r.steady.counters.disconnects, 0);
    assert.equal(r.steady.voted, 8);
    assert.ok(r.steady.echoRtt.count > 0, "echoes were measured");
    assert.ok(r.steady.changesStarted > 0, "membership changes were made");
    assert.equal(
      r.steady.changeLatency.count + r.steady.changesDisturbed + r.steady.changesUnfinished,
      r.steady.changesStarted,
    );
    assert.ok(r.steady.changeLatency.count > 0, "membership changes were measured");
  },
});

/** Runs the small load against a fake arbiter making `fault`, over `workers` groups. */
async function againstFake(
  port: number,
  fault: Fault,
  workers = 1,
  extra: Partial<LoadOptions> = {},
) {
  await using fake = startTrivialArbiter({ port, fault });
  return await runLoad(small(fake.port, { workers, stormTimeoutMs: 3000, ...extra }));
}

Deno.test({
  name: "runLoad() has no errors against a correct fake arbiter, in two Workers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await againstFake(17121, "none", 2);
    assert.equal(r.storm.voted, 8);
    assert.equal(r.storm.errors.total + r.steady.errors.total, 0);
    assert.ok(r.steady.changeLatency.count > 0);
  },
});

Deno.test({
  name: "runLoad() reports a wrong vote",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await againstFake(17122, "wrong-vote");
    assert.ok((r.storm.errors.counts.get("wrong-vote") ?? 0) > 0);
    assert.match(
      r.storm.errors.samples.get("wrong-vote")?.[0] ?? "",
      /VOTE_INFO NACK, expected ACK/,
    );
    assert.ok(r.storm.voted < 8);
    assert.equal(r.storm.timeMs, null);
  },
});

Deno.test({
  name: "runLoad() reports a wrong echo seq, then the missing echo reply",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The missing reply must time out within the run: the real client's 1 s heartbeat.
    const r = await againstFake(17123, "wrong-seq", 1, { heartbeatMs: 1000 });
    assert.equal(r.storm.voted, 8);
    assert.ok((r.steady.errors.counts.get("wrong-seq") ?? 0) > 0);
    assert.match(r.steady.errors.samples.get("wrong-seq")?.[0] ?? "", /ECHO_REPLY seq/);
    assert.ok((r.steady.errors.counts.get("echo-timeout") ?? 0) > 0);
    assert.ok(r.steady.counters.disconnects > 0, "the client drops the connection as qdevice");
  },
});

Deno.test({
  name: "runLoad() reports a SERVER_ERROR and the disconnect it causes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await againstFake(17124, "server-error");
    assert.ok((r.steady.errors.counts.get("server-error") ?? 0) > 0);
    assert.ok(r.steady.counters.disconnects > 0);
    assert.ok(r.steady.counters.connects > 0, "clients reconnected after the back-off");
  },
});

Deno.test({
  name: "main() runs the ceiling arbiter end to end and prints JSON",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const io = new RecordingIo();
    const code = await main(
      ["--ceiling", "--clients", "8", "--duration", "2", "--port", "17130", "--json"],
      io,
    );
    assert.equal(code, 0, io.stderr);
    const report = JSON.parse(io.stdout);
    assert.equal(report.arbiters.length, 1);
    const f = report.arbiters[0];
    assert.equal(f.label, "ceiling");
    assert.equal(f.stormVoted, 8);
    assert.equal(f.errors, 0);
    assert.ok(f.arbiterPeakRssKiB > 0, "RSS read from /proc");
    assert.match(io.stderr, /clients voted after storm\s+8 \/ 8/);
  },
});

Deno.test("main() --help prints the options", async () => {
  const io = new RecordingIo();
  assert.equal(await main(["--help"], io), 0);
  assert.match(io.stdout, /--compare/);
  assert.match(io.stdout, /RLIMIT_NOFILE/);
});

Deno.test({
  name: "runLoad() votes every client over STARTTLS with client certificates, our daemon",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using pki = await makeBenchPki([clusterName(0), clusterName(1)]);
    await using daemon = await startArbiter("qnet", {
      port: 16490,
      args: ["-s", "on"],
      settings: { nss_db_dir: pki.pemDir },
    });
    const r = await runLoad(small(daemon.port, { tls: pki.client, durationMs: 1500 }));
    const errors = [...r.storm.errors.samples, ...r.steady.errors.samples];
    assert.equal(r.storm.voted, 8, JSON.stringify(errors) + daemon.stderr());
    assert.equal(r.storm.errors.total + r.steady.errors.total, 0, JSON.stringify(errors));
    assert.equal(r.storm.counters.tlsHandshakes, 8, "every client went through TLS");
    assert.equal(r.storm.counters.disconnects + r.steady.counters.disconnects, 0);
  },
});

Deno.test({
  name: "runLoad() reports the TLS failure when the cluster certificate is missing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using pki = await makeBenchPki([clusterName(0)]); // None for cluster 1.
    await using daemon = await startArbiter("qnet", {
      port: 16491,
      args: ["-s", "on"],
      settings: { nss_db_dir: pki.pemDir },
    });
    const r = await runLoad(
      small(daemon.port, { tls: pki.client, durationMs: 500, stormTimeoutMs: 2500 }),
    );
    assert.equal(r.storm.voted, 4, "cluster 0 votes, cluster 1 cannot start TLS");
    assert.ok((r.storm.errors.counts.get("tls") ?? 0) > 0);
    assert.match(r.storm.errors.samples.get("tls")?.[0] ?? "", /bench-1.*certificate of bench-1/);
  },
});

Deno.test({
  name: "runLoad() in two child processes with a two-step storm votes every client",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using fake = startTrivialArbiter({ port: 16492, fault: "none" });
    const phases: string[] = [];
    const r = await runLoad(small(fake.port, {
      clusters: 4,
      processes: 2,
      rssStep: { settleMs: 0 },
      durationMs: 3500,
      onPhase: (p) => phases.push(p),
    }));
    assert.deepEqual(phases, ["storm-start", "storm-half", "storm-end", "steady-end"]);
    assert.equal(r.clients, 16);
    assert.equal(r.clientsAtHalf, 8, "half the clusters of each process first");
    assert.equal(r.storm.voted, 16);
    assert.equal(r.storm.errors.total + r.steady.errors.total, 0);
    assert.ok(r.steady.echoRtt.count > 0);
  },
});
