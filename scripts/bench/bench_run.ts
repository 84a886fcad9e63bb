/**
 * Benchmarks one arbiter: starts it, runs the load against it while sampling its CPU
 * time and memory and the generator's own CPU time, stops it, and returns the figures.
 *
 * @module
 */
import {
  ArbiterProcess,
  METRICS_PORT_OFFSET,
  type ProcSample,
  readProcStats,
} from "./arbiter_process.ts";
import { MetricsScraper, type ScrapeFigures } from "./metrics_scraper.ts";
import { type LoadPhase, type LoadResult, runLoad } from "./load_run.ts";
import { leastSquaresSlope } from "./stats.ts";
import type { TlsClientFiles } from "./tls_client.ts";

/** One arbiter to compare: a label and a command line with {port} and {dir}. */
export interface ArbiterSpec {
  readonly label: string;
  readonly command: string;
  /** Scrape `http://127.0.0.1:{mport}/metrics` every second for the whole run. */
  readonly scrapeMetrics?: boolean;
}

/** How often a run with `scrapeMetrics` scrapes, as a demanding Prometheus job would. */
export const SCRAPE_INTERVAL_MS = 1000;

/** Load shape and limits shared by every arbiter of an invocation. */
export interface BenchConfig {
  readonly clusters: number;
  readonly nodesPerCluster: number;
  readonly heartbeatMs: number;
  readonly connectTimeoutMs: number;
  readonly changeIntervalMs: number;
  readonly durationMs: number;
  readonly stormTimeoutMs: number;
  readonly graceMs: number;
  readonly workers: number;
  /** Generator child processes (more than 1: used instead of Workers). */
  readonly processes: number;
  readonly generatorCpus?: string;
  readonly arbiterCpus?: string;
  readonly openFiles: number;
  /** Client key material for `--tls`. */
  readonly tls?: TlsClientFiles;
  /** Storm in two steps (half, then all) for the RSS per client; wait this long after each. */
  readonly rssStepSettleMs?: number;
  /** How often the arbiter's RSS is sampled during the steady phase, for its slope. */
  readonly rssSampleMs: number;
}

/** Every figure of one arbiter's run. Times in ms, memory in KiB, CPU shares in %. */
export interface ArbiterFigures {
  readonly label: string;
  readonly command: string;
  readonly clients: number;
  readonly stormVoted: number;
  readonly stormMs: number | null;
  /** A few clients without their vote at the end of the storm. */
  readonly stormUnsettled: string[];
  readonly steadyVoted: number;
  readonly echoP50: number | null;
  readonly echoP99: number | null;
  readonly echoSamples: number;
  readonly changeP50: number | null;
  readonly changeP99: number | null;
  readonly changesMeasured: number;
  readonly changesStarted: number;
  readonly changesDisturbed: number;
  readonly changesUnfinished: number;
  readonly errors: number;
  readonly disconnects: number;
  readonly errorCounts: Record<string, number>;
  readonly errorSamples: Record<string, string[]>;
  readonly steadyMsgsPerSec: number;
  readonly arbiterCpuStormMs: number | null;
  readonly arbiterCpuSteadyPct: number | null;
  readonly arbiterRssIdleKiB: number | null;
  readonly arbiterRssAfterStormKiB: number | null;
  readonly arbiterRssEndKiB: number | null;
  readonly arbiterPeakRssKiB: number | null;
  readonly generatorCpuStormPct: number | null;
  readonly generatorCpuSteadyPct: number | null;
  /** TLS handshakes the clients completed (storm and steady). */
  readonly tlsHandshakes: number;
  /** Clients connected at the first step of an RSS-step storm (0 without it). */
  readonly clientsAtHalf: number;
  readonly arbiterRssAtHalfKiB: number | null;
  /** RSS growth per client between the two storm steps (the slope over two sizes). */
  readonly rssPerClientKiB: number | null;
  /** (RSS after the storm − idle RSS) / clients: includes fixed start-up growth. */
  readonly rssPerClientFromIdleKiB: number | null;
  /** Least-squares slope of the RSS sampled during the steady phase, KiB per minute. */
  readonly rssSlopeKiBPerMin: number | null;
  readonly rssSamples: number;
  readonly rssSteadyMinKiB: number | null;
  readonly rssSteadyMaxKiB: number | null;
  /** The arbiter died during the run. */
  readonly arbiterDied: boolean;
  /** How it ended: "code N" or "signal NAME" (after our SIGTERM, or on its own). */
  readonly arbiterExit: string;
  /** The last lines the arbiter wrote to stderr. */
  readonly arbiterLogTail: string;
  /** What the metrics scraper saw (runs with `scrapeMetrics` only). */
  readonly metricsScrapes: ScrapeFigures | null;
}

/** Set while an arbiter runs, so that a hard deadline can stop it. */
let current: ArbiterProcess | null = null;

/** Stops the arbiter being benchmarked, if any (used when the hard deadline fires). */
export async function stopCurrentArbiter(): Promise<void> {
  const a = current;
  current = null;
  await a?.stop();
}

function cpuDelta(a: ProcSample | null, b: ProcSample | null): number | null {
  return a === null || b === null ? null : b.cpuMs - a.cpuMs;
}

function pct(cpuMs: number | null, wallMs: number): number | null {
  return cpuMs === null || wallMs <= 0 ? null : (100 * cpuMs) / wallMs;
}

/** Runs the whole load against `spec` on `port` and collects the figures. */
export async function benchArbiter(
  spec: ArbiterSpec,
  port: number,
  config: BenchConfig,
): Promise<ArbiterFigures> {
  const arbiter = await ArbiterProcess.start({
    command: spec.command,
    port,
    ...(config.arbiterCpus === undefined ? {} : { cpus: config.arbiterCpus }),
    openFiles: config.openFiles,
    readyTimeoutMs: 20_000,
  });
  current = arbiter;
  const marks = new Map<string, { at: number; arb: ProcSample | null; gen: ProcSample | null }>();
  let generatorPids = [Deno.pid];
  /** CPU time of the generator: this process and its child processes, if any. */
  const generatorSample = (): ProcSample | null => {
    let cpuMs = 0;
    for (const pid of generatorPids) cpuMs += readProcStats(pid)?.cpuMs ?? 0;
    return { cpuMs, rssKiB: 0, peakRssKiB: 0 };
  };
  const mark = (name: string) =>
    marks.set(name, {
      at: performance.now(),
      arb: arbiter.sample(),
      gen: generatorSample(),
    });
  /** [minutes since the steady phase began, RSS KiB] */
  const rssPoints: [number, number][] = [];
  let rssTimer: ReturnType<typeof setInterval> | undefined;
  const sampleRss = (t0: number) => {
    const s = arbiter.sample();
    if (s !== null) rssPoints.push([(performance.now() - t0) / 60_000, s.rssKiB]);
  };
  const onPhase = (phase: LoadPhase) => {
    mark(phase);
    if (phase === "storm-end") {
      const t0 = performance.now();
      sampleRss(t0);
      rssTimer = setInterval(() => sampleRss(t0), config.rssSampleMs);
    } else if (phase === "steady-end") {
      clearInterval(rssTimer);
    }
  };
  let result: LoadResult;
  const scraper = spec.scrapeMetrics
    ? new MetricsScraper(
      `http://127.0.0.1:${port + METRICS_PORT_OFFSET}/metrics`,
      SCRAPE_INTERVAL_MS,
    )
    : undefined;
  let scrapes: ScrapeFigures | null = null;
  try {
    mark("idle");
    result = await runLoad({
      hostname: "127.0.0.1",
      port,
      clusters: config.clusters,
      nodesPerCluster: config.nodesPerCluster,
      heartbeatMs: config.heartbeatMs,
      connectTimeoutMs: config.connectTimeoutMs,
      changeIntervalMs: config.changeIntervalMs,
      workers: config.workers,
      processes: config.processes,
      processOpenFiles: Math.ceil(config.openFiles / config.processes) + 1024,
      ...(config.generatorCpus === undefined ? {} : { processCpus: config.generatorCpus }),
      ...(config.tls === undefined ? {} : { tls: config.tls }),
      ...(config.rssStepSettleMs === undefined
        ? {}
        : { rssStep: { settleMs: config.rssStepSettleMs } }),
      stormTimeoutMs: config.stormTimeoutMs,
      durationMs: config.durationMs,
      graceMs: config.graceMs,
      onPhase,
      onProcesses: (pids) => (generatorPids = [Deno.pid, ...pids]),
    });
  } finally {
    clearInterval(rssTimer);
    scrapes = scraper?.stop() ?? null;
    mark("end");
    current = null;
  }
  const died = !arbiter.running;
  const status = await arbiter.stop();
  const m = (name: string) => marks.get(name) ?? { at: 0, arb: null, gen: null };
  const [s0, s1, s2] = [m("storm-start"), m("storm-end"), m("steady-end")];
  const stormWall = s1.at - s0.at;
  const steadyWall = s2.at - s1.at;
  const errors = new Map(result.storm.errors.counts);
  for (const [k, n] of result.steady.errors.counts) errors.set(k, (errors.get(k) ?? 0) + n);
  const samples = new Map(result.storm.errors.samples);
  for (const [k, list] of result.steady.errors.samples) {
    samples.set(k, [...(samples.get(k) ?? []), ...list].slice(0, 3));
  }
  const counters = result.steady.counters;
  const half = marks.get("storm-half")?.arb ?? null;
  const idleRss = m("idle").arb?.rssKiB ?? null;
  const fullRss = s1.arb?.rssKiB ?? null;
  const stepClients = result.clients - result.clientsAtHalf;
  const rssValues = rssPoints.map(([, y]) => y);
  return {
    label: spec.label,
    command: spec.command,
    clients: result.clients,
    stormVoted: result.storm.voted,
    stormMs: result.storm.timeMs,
    stormUnsettled: result.storm.unsettled,
    steadyVoted: result.steady.voted,
    echoP50: result.steady.echoRtt.p50,
    echoP99: result.steady.echoRtt.p99,
    echoSamples: result.steady.echoRtt.count,
    changeP50: result.steady.changeLatency.p50,
    changeP99: result.steady.changeLatency.p99,
    changesMeasured: result.steady.changeLatency.count,
    changesStarted: result.steady.changesStarted,
    changesDisturbed: result.steady.changesDisturbed,
    changesUnfinished: result.steady.changesUnfinished,
    errors: result.storm.errors.total + result.steady.errors.total,
    disconnects: result.storm.counters.disconnects + counters.disconnects,
    errorCounts: Object.fromEntries(errors),
    errorSamples: Object.fromEntries(samples),
    steadyMsgsPerSec: steadyWall > 0
      ? ((counters.sent + counters.received) * 1000) / steadyWall
      : 0,
    arbiterCpuStormMs: cpuDelta(s0.arb, s1.arb),
    arbiterCpuSteadyPct: pct(cpuDelta(s1.arb, s2.arb), steadyWall),
    arbiterRssIdleKiB: m("idle").arb?.rssKiB ?? null,
    arbiterRssAfterStormKiB: s1.arb?.rssKiB ?? null,
    arbiterRssEndKiB: s2.arb?.rssKiB ?? null,
    arbiterPeakRssKiB: m("end").arb?.peakRssKiB ?? s2.arb?.peakRssKiB ?? null,
    generatorCpuStormPct: pct(cpuDelta(s0.gen, s1.gen), stormWall),
    generatorCpuSteadyPct: pct(cpuDelta(s1.gen, s2.gen), steadyWall),
    tlsHandshakes: result.storm.counters.tlsHandshakes + counters.tlsHandshakes,
    clientsAtHalf: result.clientsAtHalf,
    arbiterRssAtHalfKiB: half?.rssKiB ?? null,
    rssPerClientKiB: half === null || fullRss === null || stepClients <= 0
      ? null
      : (fullRss - half.rssKiB) / stepClients,
    rssPerClientFromIdleKiB: idleRss === null || fullRss === null || result.clients === 0
      ? null
      : (fullRss - idleRss) / result.clients,
    rssSlopeKiBPerMin: leastSquaresSlope(rssPoints),
    rssSamples: rssPoints.length,
    rssSteadyMinKiB: rssValues.length === 0 ? null : Math.min(...rssValues),
    rssSteadyMaxKiB: rssValues.length === 0 ? null : Math.max(...rssValues),
    arbiterDied: died,
    arbiterExit: status.signal === null ? `code ${status.code}` : `signal ${status.signal}`,
    arbiterLogTail: arbiter.log.slice(-1500),
    metricsScrapes: scrapes,
  };
}
