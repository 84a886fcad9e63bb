/**
 * Formats the figures of several arbiters side by side: a text table with, when two
 * arbiters are compared, the ratio first/second of every figure, and a JSON document.
 *
 * @module
 */
import type { ArbiterFigures, BenchConfig } from "./bench_run.ts";

/** One row of the table: how to read and print a figure. */
interface Row {
  readonly name: string;
  readonly value: (f: ArbiterFigures) => number | null;
  readonly digits: number;
}

const mib = (kib: number | null) => (kib === null ? null : kib / 1024);

/** The figures, in table order. */
const ROWS: readonly Row[] = [
  { name: "clients voted after storm", value: (f) => f.stormVoted, digits: 0 },
  { name: "storm: time until all voted (ms)", value: (f) => f.stormMs, digits: 0 },
  { name: "storm: arbiter CPU (ms)", value: (f) => f.arbiterCpuStormMs, digits: 0 },
  { name: "echo RTT p50 (ms)", value: (f) => f.echoP50, digits: 3 },
  { name: "echo RTT p99 (ms)", value: (f) => f.echoP99, digits: 3 },
  { name: "echo samples", value: (f) => f.echoSamples, digits: 0 },
  { name: "membership change to vote p50 (ms)", value: (f) => f.changeP50, digits: 3 },
  { name: "membership change to vote p99 (ms)", value: (f) => f.changeP99, digits: 3 },
  { name: "changes measured / started", value: (f) => f.changesMeasured, digits: 0 },
  { name: "errors (all kinds)", value: (f) => f.errors, digits: 0 },
  { name: "disconnects", value: (f) => f.disconnects, digits: 0 },
  { name: "steady: messages/s (both ways)", value: (f) => f.steadyMsgsPerSec, digits: 0 },
  { name: "steady: arbiter CPU (% of a core)", value: (f) => f.arbiterCpuSteadyPct, digits: 1 },
  { name: "arbiter RSS idle (MiB)", value: (f) => mib(f.arbiterRssIdleKiB), digits: 1 },
  {
    name: "arbiter RSS after storm (MiB)",
    value: (f) => mib(f.arbiterRssAfterStormKiB),
    digits: 1,
  },
  { name: "arbiter RSS at end (MiB)", value: (f) => mib(f.arbiterRssEndKiB), digits: 1 },
  { name: "arbiter peak RSS (MiB)", value: (f) => mib(f.arbiterPeakRssKiB), digits: 1 },
  { name: "RSS per client, half to all (KiB)", value: (f) => f.rssPerClientKiB, digits: 2 },
  { name: "RSS per client, idle to all (KiB)", value: (f) => f.rssPerClientFromIdleKiB, digits: 2 },
  { name: "steady: RSS slope (KiB/min)", value: (f) => f.rssSlopeKiBPerMin, digits: 1 },
  { name: "steady: RSS min (MiB)", value: (f) => mib(f.rssSteadyMinKiB), digits: 1 },
  { name: "steady: RSS max (MiB)", value: (f) => mib(f.rssSteadyMaxKiB), digits: 1 },
  { name: "TLS handshakes", value: (f) => f.tlsHandshakes, digits: 0 },
  { name: "generator CPU storm (% of a core)", value: (f) => f.generatorCpuStormPct, digits: 1 },
  { name: "generator CPU steady (% of a core)", value: (f) => f.generatorCpuSteadyPct, digits: 1 },
  { name: "metrics: scrapes done", value: (f) => f.metricsScrapes?.scrapes ?? null, digits: 0 },
  {
    name: "metrics: scrapes failed",
    value: (f) => f.metricsScrapes?.failures ?? null,
    digits: 0,
  },
  {
    name: "metrics: scrape time p50 (ms)",
    value: (f) => f.metricsScrapes?.p50Ms ?? null,
    digits: 1,
  },
  {
    name: "metrics: daemon CPU per rendering (ms)",
    value: (f) => f.metricsScrapes?.renderCpuMs ?? null,
    digits: 2,
  },
  {
    name: "metrics: exposition size (KiB)",
    value: (f) => f.metricsScrapes === null ? null : f.metricsScrapes.bytes / 1024,
    digits: 0,
  },
];

function fmt(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? "-" : v.toFixed(digits);
}

/** first/second, or null when either is missing or the second is 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** The comparison as a text table; the ratio column compares the first two arbiters. */
export function formatTable(figures: readonly ArbiterFigures[]): string {
  const withRatio = figures.length >= 2;
  const ratioTitle = withRatio ? `${figures[0]!.label}/${figures[1]!.label}` : "";
  const header = ["figure", ...figures.map((f) => f.label), ...(withRatio ? [ratioTitle] : [])];
  const lines: string[][] = [header];
  for (const row of ROWS) {
    const values = figures.map((f) => row.value(f));
    const cells = values.map((v) => fmt(v, row.digits));
    if (row.name.startsWith("changes measured")) {
      figures.forEach((f, i) => (cells[i] = `${f.changesMeasured} / ${f.changesStarted}`));
    }
    if (row.name.startsWith("clients voted")) {
      figures.forEach((f, i) => (cells[i] = `${f.stormVoted} / ${f.clients}`));
    }
    const r = withRatio ? [fmt(ratio(values[0] ?? null, values[1] ?? null), 2)] : [];
    lines.push([row.name, ...cells, ...r]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length)));
  const text = lines.map((l) =>
    l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  );
  text.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const notes: string[] = [];
  for (const f of figures) {
    if (f.arbiterDied) {
      notes.push(`${f.label}: the arbiter died during the run (${f.arbiterExit})`);
    }
    for (const u of f.stormUnsettled) notes.push(`${f.label}: no vote after the storm: ${u}`);
    for (const [kind, n] of Object.entries(f.errorCounts)) {
      const example = f.errorSamples[kind]?.[0] ?? "";
      notes.push(`${f.label}: ${n} × ${kind} (e.g. ${example})`);
    }
  }
  return [...text, ...(notes.length > 0 ? ["", ...notes] : [])].join("\n") + "\n";
}

/** The comparison as JSON: configuration, per-arbiter figures and first/second ratios. */
export function formatJson(config: BenchConfig, figures: readonly ArbiterFigures[]): string {
  const ratios = figures.length >= 2
    ? Object.fromEntries(
      ROWS.map((row) => [row.name, ratio(row.value(figures[0]!), row.value(figures[1]!))]),
    )
    : null;
  return JSON.stringify({ config, arbiters: figures, ratios }, null, 2) + "\n";
}
