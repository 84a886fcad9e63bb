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
import { WorkerGroup } from "./load_worker.ts";
import { ErrorTally, summarize, type Summary } from "./stats.ts";

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
  readonly stormTimeoutMs: number;
  readonly durationMs: number;
  /** How long to wait after the steady phase for membership changes still in flight. */
  readonly graceMs: number;
  /** Called between the phases (e.g. to sample the arbiter's CPU time). */
  readonly onPhase?: (phase: "storm-start" | "storm-end" | "steady-end") => void;
}

/** Merged figures of a run. Times in ms. */
export interface LoadResult {
  readonly clients: number;
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
  const sum: Counters = { sent: 0, received: 0, connects: 0, disconnects: 0 };
  for (const c of list) {
    sum.sent += c.sent;
    sum.received += c.received;
    sum.connects += c.connects;
    sum.disconnects += c.disconnects;
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

/** Runs the storm and the steady phase against `options.port`; always closes every client. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const ranges = splitClusters(options.clusters, Math.max(1, options.workers));
  const groupOptions = (r: { offset: number; count: number }): GroupOptions => ({
    hostname: options.hostname,
    port: options.port,
    clusterOffset: r.offset,
    clusters: r.count,
    nodesPerCluster: options.nodesPerCluster,
    heartbeatMs: options.heartbeatMs,
    connectTimeoutMs: options.connectTimeoutMs ?? options.heartbeatMs,
    changeIntervalMs: options.changeIntervalMs,
  });
  const groups: GroupHandle[] = options.workers > 1
    ? await Promise.all(ranges.map((r) => WorkerGroup.start(groupOptions(r))))
    : [new LoadGroup(groupOptions(ranges[0]!))];
  try {
    options.onPhase?.("storm-start");
    const start = absoluteNow();
    const storms = await Promise.all(groups.map((g) => g.storm(options.stormTimeoutMs)));
    options.onPhase?.("storm-end");
    const doneAts = storms.map((s) => s.doneAt);
    const timeMs = doneAts.every((d) => d !== null)
      ? Math.max(...(doneAts as number[])) - start
      : null;
    const steadies: SteadyResult[] = await Promise.all(
      groups.map((g) => g.steady(options.durationMs, options.graceMs)),
    );
    options.onPhase?.("steady-end");
    return {
      clients: storms.reduce((n, s) => n + s.clients, 0),
      storm: {
        voted: storms.reduce((n, s) => n + s.voted, 0),
        unsettled: storms.flatMap((s) => s.unsettled).slice(0, 5),
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
