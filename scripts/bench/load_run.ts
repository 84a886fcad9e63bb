/**
 * One load run against one arbiter address: splits the clusters over groups (in-process,
 * or one Worker each), runs the storm then the steady phase on all of them together and
 * merges their results.
 *
 * @module
 */
import type { Counters } from "./load_client.ts";
import {
  absoluteNow,
  type GroupHandle,
  type GroupOptions,
  LoadGroup,
  type SteadyResult,
  type StormResult,
} from "./load_group.ts";
import { ProcessGroup, WorkerGroup } from "./remote_group.ts";
import { ErrorTally, summarize, type Summary } from "./stats.ts";
import type { TlsClientFiles } from "./tls_client.ts";

/** The moments a load run reports to `onPhase`. */
export type LoadPhase = "storm-start" | "storm-half" | "storm-end" | "steady-end";

/** Parameters of a load run. */
export interface LoadOptions {
  readonly hostname: string;
  readonly port: number;
  readonly clusters: number;
  readonly nodesPerCluster: number;
  readonly heartbeatMs: number;
  /** Default: the heartbeat interval, as the real client. */
  readonly connectTimeoutMs?: number;
  readonly changeIntervalMs: number;
  /** 0 or 1: everything in this isolate; more: one Worker per group. */
  readonly workers: number;
  /**
   * More than 1: one child process per group instead (each with its own RLIMIT_NOFILE of
   * `processOpenFiles`, pinned to `processCpus` if given); takes precedence over workers.
   */
  readonly processes?: number;
  readonly processOpenFiles?: number;
  readonly processCpus?: string;
  /** Client key material: use TLS with servers that offer it. */
  readonly tls?: TlsClientFiles;
  /**
   * Storm in two steps for the memory per client: first half the clusters, wait `settleMs`,
   * "storm-half", then the rest, wait `settleMs`, "storm-end". The storm time is then the
   * second step's.
   */
  readonly rssStep?: { readonly settleMs: number };
  readonly stormTimeoutMs: number;
  readonly durationMs: number;
  /** How long to wait after the steady phase for membership changes still in flight. */
  readonly graceMs: number;
  /** Called between the phases (e.g. to sample the arbiter's CPU time). */
  readonly onPhase?: (phase: LoadPhase) => void;
  /** Told the PIDs of the generator's child processes once they run (CPU accounting). */
  readonly onProcesses?: (pids: number[]) => void;
}

/** Merged figures of a run. Times in ms. */
export interface LoadResult {
  readonly clients: number;
  /** Clients started in the first step of an `rssStep` storm (0 without it). */
  readonly clientsAtHalf: number;
  readonly storm: {
    readonly voted: number;
    /** Where a few clients without their vote stood at the end of the storm. */
    readonly unsettled: string[];
    /** Time until every client held its expected vote, or null if some never did. */
    readonly timeMs: number | null;
    readonly errors: ErrorTally;
    readonly counters: Counters;
  };
  readonly steady: {
    readonly durationMs: number;
    readonly voted: number;
    readonly echoRtt: Summary;
    readonly changeLatency: Summary;
    readonly changesStarted: number;
    readonly changesDisturbed: number;
    readonly changesUnfinished: number;
    readonly errors: ErrorTally;
    readonly counters: Counters;
  };
}

function addCounters(list: readonly Counters[]): Counters {
  const sum: Counters = { sent: 0, received: 0, connects: 0, disconnects: 0, tlsHandshakes: 0 };
  for (const c of list) {
    sum.sent += c.sent;
    sum.received += c.received;
    sum.connects += c.connects;
    sum.disconnects += c.disconnects;
    sum.tlsHandshakes += c.tlsHandshakes;
  }
  return sum;
}

function mergeErrors(list: readonly { errors: StormResult["errors"] }[]): ErrorTally {
  const tally = new ErrorTally();
  for (const r of list) tally.merge(r.errors);
  return tally;
}

/** Splits `clusters` into `parts` contiguous ranges as even as possible. */
export function splitClusters(
  clusters: number,
  parts: number,
): { offset: number; count: number }[] {
  const n = Math.max(1, Math.min(parts, clusters));
  const out: { offset: number; count: number }[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.floor(clusters / n) + (i < clusters % n ? 1 : 0);
    out.push({ offset, count });
    offset += count;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds the groups: in this isolate, in Workers, or in child processes. */
async function startGroups(
  options: LoadOptions,
  groupOptions: (r: { offset: number; count: number }) => GroupOptions,
): Promise<GroupHandle[]> {
  const processes = options.processes ?? 1;
  if (processes > 1) {
    const ranges = splitClusters(options.clusters, processes);
    const started: GroupHandle[] = [];
    try {
      for (const r of ranges) {
        started.push(
          await ProcessGroup.start(
            groupOptions(r),
            options.processOpenFiles ?? 4096,
            options.processCpus,
          ),
        );
      }
    } catch (error) {
      await Promise.all(started.map((g) => g.close()));
      throw error;
    }
    return started;
  }
  const ranges = splitClusters(options.clusters, Math.max(1, options.workers));
  return options.workers > 1
    ? await Promise.all(ranges.map((r) => WorkerGroup.start(groupOptions(r))))
    : [new LoadGroup(groupOptions(ranges[0]!))];
}

/** Runs the storm and the steady phase against `options.port`; always closes every client. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const groupOptions = (r: { offset: number; count: number }): GroupOptions => ({
    hostname: options.hostname,
    port: options.port,
    clusterOffset: r.offset,
    clusters: r.count,
    nodesPerCluster: options.nodesPerCluster,
    heartbeatMs: options.heartbeatMs,
    connectTimeoutMs: options.connectTimeoutMs ?? options.heartbeatMs,
    changeIntervalMs: options.changeIntervalMs,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const groups = await startGroups(options, groupOptions);
  options.onProcesses?.(
    groups.flatMap((g) => (g instanceof ProcessGroup ? [g.pid] : [])),
  );
  try {
    options.onPhase?.("storm-start");
    let start = absoluteNow();
    let firstStep: StormResult[] = [];
    if (options.rssStep !== undefined) {
      firstStep = await Promise.all(groups.map((g) => g.storm(options.stormTimeoutMs, 0.5)));
      await sleep(options.rssStep.settleMs);
      options.onPhase?.("storm-half");
      start = absoluteNow();
    }
    const secondStep = await Promise.all(groups.map((g) => g.storm(options.stormTimeoutMs)));
    if (options.rssStep !== undefined) await sleep(options.rssStep.settleMs);
    options.onPhase?.("storm-end");
    const storms = [...firstStep, ...secondStep];
    const doneAts = secondStep.map((s) => s.doneAt);
    const timeMs = doneAts.every((d) => d !== null)
      ? Math.max(...(doneAts as number[])) - start
      : null;
    const steadies: SteadyResult[] = await Promise.all(
      groups.map((g) => g.steady(options.durationMs, options.graceMs)),
    );
    options.onPhase?.("steady-end");
    return {
      clients: secondStep.reduce((n, s) => n + s.clients, 0),
      clientsAtHalf: firstStep.reduce((n, s) => n + s.clients, 0),
      storm: {
        voted: secondStep.reduce((n, s) => n + s.voted, 0),
        unsettled: secondStep.flatMap((s) => s.unsettled).slice(0, 5),
        timeMs,
        errors: mergeErrors(storms),
        counters: addCounters(storms.map((s) => s.counters)),
      },
      steady: {
        durationMs: options.durationMs,
        voted: steadies.reduce((n, s) => n + s.voted, 0),
        echoRtt: summarize(steadies.flatMap((s) => s.echoRtt)),
        changeLatency: summarize(steadies.flatMap((s) => s.changeLatency)),
        changesStarted: steadies.reduce((n, s) => n + s.changesStarted, 0),
        changesDisturbed: steadies.reduce((n, s) => n + s.changesDisturbed, 0),
        changesUnfinished: steadies.reduce((n, s) => n + s.changesUnfinished, 0),
        errors: mergeErrors(steadies),
        counters: addCounters(steadies.map((s) => s.counters)),
      },
    };
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
}
