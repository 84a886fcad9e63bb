/**
 * Benchmarks one arbiter: starts it, runs the load against it while sampling its CPU
 * time and memory and the generator's own CPU time, stops it, and returns the figures.
 *
 * @module
 */
import { ArbiterProcess, type ProcSample, readProcStats } from "./arbiter_process.ts";
import { type LoadResult, runLoad } from "./load_run.ts";

/** One arbiter to compare: a label and a command line with {port} and {dir}. */
export interface ArbiterSpec {
  readonly label: string;
  readonly command: string;
}

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
  readonly arbiterCpus?: string;
  readonly openFiles: number;
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
  /** The arbiter died during the run. */
  readonly arbiterDied: boolean;
  /** How it ended: "code N" or "signal NAME" (after our SIGTERM, or on its own). */
  readonly arbiterExit: string;
  /** The last lines the arbiter wrote to stderr. */
  readonly arbiterLogTail: string;
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
  const mark = (name: string) =>
    marks.set(name, {
      at: performance.now(),
      arb: arbiter.sample(),
      gen: readProcStats(Deno.pid),
    });
  let result: LoadResult;
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
      stormTimeoutMs: config.stormTimeoutMs,
      durationMs: config.durationMs,
      graceMs: config.graceMs,
      onPhase: mark,
    });
  } finally {
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
    arbiterDied: died,
    arbiterExit: status.signal === null ? `code ${status.code}` : `signal ${status.signal}`,
    arbiterLogTail: arbiter.log.slice(-1500),
  };
}
