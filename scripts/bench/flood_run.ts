/**
 * The `--flood` scenario of scripts/bench (issue 17, finding 1): silent TCP connections at a
 * fixed rate (100/s with TLS on, 800/s with it off), each held 3 s, while a probe times a real
 * client's PREINIT → PREINIT_REPLY every 200 ms; each arbiter in turn, each run in a network
 * namespace of its own (silent_flood.ts). Prints the probe latencies side by side with the
 * ratio of the first two arbiters.
 *
 * @module
 */
import {
  FLOOD_HOLD_MS,
  FLOOD_RATE,
  type ProbeResult,
  runScenarioIsolated,
} from "./silent_flood.ts";
import type { ArbiterSpec } from "./bench_run.ts";
import { ratio } from "./report.ts";
import { summarize } from "./stats.ts";

/** Probing starts once the flood holds its full number of connections. */
const PROBE_AFTER_MS = FLOOD_HOLD_MS + 500;
const PROBE_INTERVAL_MS = 200;
/** A probe without a reply after this long counts as failed (and its latency as this). */
const PROBE_TIMEOUT_MS = 10_000;

/** One arbiter under one flood. */
export interface FloodRun {
  /** "TLS off", "TLS on", or "as given" for --arbiter command lines. */
  readonly mode: string;
  readonly spec: ArbiterSpec;
  readonly ratePerSec: number;
}

/** What one run measured (ms). */
export interface FloodFigures {
  readonly mode: string;
  readonly label: string;
  readonly command: string;
  readonly ratePerSec: number;
  readonly holdMs: number;
  readonly floodMs: number;
  readonly floodOpened: number;
  readonly floodFailed: number;
  readonly probes: number;
  readonly answered: number;
  readonly replyP50: number | null;
  readonly replyP99: number | null;
  readonly replyMax: number | null;
  readonly connectP50: number | null;
  readonly connectP99: number | null;
  readonly servingAfter: boolean;
  readonly failures: string[];
}

/** Runs one arbiter under the flood and summarizes the probes. */
export async function floodArbiter(
  run: FloodRun,
  port: number,
  floodMs: number,
): Promise<FloodFigures> {
  const r = await runScenarioIsolated({
    command: run.spec.command,
    port,
    ratePerSec: run.ratePerSec,
    holdMs: FLOOD_HOLD_MS,
    floodMs,
    probeAfterMs: PROBE_AFTER_MS,
    probeIntervalMs: PROBE_INTERVAL_MS,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
  });
  const ok = r.probes.filter((p): p is Extract<ProbeResult, { ok: true }> => p.ok);
  // A failed probe counts with the timeout as its latency: the percentiles must not improve
  // by dropping the worst cases.
  const replies = [
    ...ok.map((p) => p.replyMs),
    ...Array(r.probes.length - ok.length).fill(PROBE_TIMEOUT_MS),
  ];
  const reply = summarize(replies);
  const connect = summarize(ok.map((p) => p.connectMs));
  return {
    mode: run.mode,
    label: run.spec.label,
    command: run.spec.command,
    ratePerSec: run.ratePerSec,
    holdMs: FLOOD_HOLD_MS,
    floodMs,
    floodOpened: r.flood.opened,
    floodFailed: r.flood.failed,
    probes: r.probes.length,
    answered: ok.length,
    replyP50: reply.p50,
    replyP99: reply.p99,
    replyMax: reply.max,
    connectP50: connect.p50,
    connectP99: connect.p99,
    servingAfter: r.after.ok,
    failures: r.probes.flatMap((p) => (p.ok ? [] : [p.reason])).slice(0, 5),
  };
}

/** The runs of `--flood --compare`: ours and C, TLS off then on. */
export function compareRuns(
  plain: readonly ArbiterSpec[],
  tls: readonly ArbiterSpec[],
): FloodRun[] {
  return [
    ...plain.map((spec) => ({ mode: "TLS off", spec, ratePerSec: FLOOD_RATE.plain })),
    ...tls.map((spec) => ({ mode: "TLS on", spec, ratePerSec: FLOOD_RATE.tls })),
  ];
}

interface Row {
  readonly name: string;
  readonly value: (f: FloodFigures) => number | null;
  readonly digits: number;
}

const ROWS: readonly Row[] = [
  { name: "silent connections/s", value: (f) => f.ratePerSec, digits: 0 },
  { name: "silent connections opened", value: (f) => f.floodOpened, digits: 0 },
  { name: "probes answered", value: (f) => f.answered, digits: 0 },
  { name: "PREINIT reply p50 (ms)", value: (f) => f.replyP50, digits: 3 },
  { name: "PREINIT reply p99 (ms)", value: (f) => f.replyP99, digits: 3 },
  { name: "PREINIT reply max (ms)", value: (f) => f.replyMax, digits: 3 },
  { name: "connect p50 (ms)", value: (f) => f.connectP50, digits: 3 },
  { name: "connect p99 (ms)", value: (f) => f.connectP99, digits: 3 },
];

function fmt(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? "-" : v.toFixed(digits);
}

/**
 * The figures as a text table: per mode, one column per arbiter and the ratio of the first
 * two (ours/C with --compare).
 */
export function formatFloodTable(figures: readonly FloodFigures[]): string {
  const modes = [...new Set(figures.map((f) => f.mode))];
  const out: string[] = [];
  for (const mode of modes) {
    const fs = figures.filter((f) => f.mode === mode);
    const withRatio = fs.length >= 2;
    const header = [
      `flood, ${mode}`,
      ...fs.map((f) => f.label),
      ...(withRatio ? [`${fs[0]!.label}/${fs[1]!.label}`] : []),
    ];
    const lines: string[][] = [header];
    for (const row of ROWS) {
      const values = fs.map((f) => row.value(f));
      const cells = values.map((v) => fmt(v, row.digits));
      if (row.name === "probes answered") {
        fs.forEach((f, i) => (cells[i] = `${f.answered} / ${f.probes}`));
      }
      const r = withRatio ? [fmt(ratio(values[0] ?? null, values[1] ?? null), 2)] : [];
      lines.push([row.name, ...cells, ...r]);
    }
    const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length)));
    const text = lines.map((l) =>
      l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
    );
    text.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
    out.push(...text, "");
    for (const f of fs) {
      if (!f.servingAfter) out.push(`${f.label} (${mode}): no PREINIT reply after the flood`);
      if (f.failures.length > 0) {
        out.push(`${f.label} (${mode}): failed probes, e.g. ${f.failures.join("; ")}`);
      }
    }
  }
  return out.join("\n").trimEnd() + "\n";
}

/** The figures as JSON, with the first/second ratios of each mode. */
export function formatFloodJson(figures: readonly FloodFigures[]): string {
  const modes = [...new Set(figures.map((f) => f.mode))];
  const ratios = Object.fromEntries(modes.map((mode) => {
    const fs = figures.filter((f) => f.mode === mode);
    return [
      mode,
      fs.length < 2 ? null : Object.fromEntries(
        ROWS.map((row) => [row.name, ratio(row.value(fs[0]!), row.value(fs[1]!))]),
      ),
    ];
  }));
  return JSON.stringify({ scenario: "flood", runs: figures, ratios }, null, 2) + "\n";
}
