/**
 * Small statistics helpers for the benchmark: percentiles over raw samples and error
 * counters that can be merged across workers.
 *
 * @module
 */

/** Summary of a set of millisecond samples. Percentiles are `null` without samples. */
export interface Summary {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Nearest-rank percentile of sorted samples (`q` in 0..1). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/** Count, p50, p99 and max of `samples` (not modified). */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1] ?? null,
  };
}

/** How many examples of each error kind are kept for the report. */
const MAX_SAMPLES_PER_KIND = 3;

/** Error counts by kind, plus a few example messages per kind. */
export class ErrorTally {
  readonly counts = new Map<string, number>();
  readonly samples = new Map<string, string[]>();

  /** Counts one error of `kind`; keeps `detail` if fewer than 3 examples are kept. */
  add(kind: string, detail: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const list = this.samples.get(kind) ?? [];
    if (list.length < MAX_SAMPLES_PER_KIND) list.push(detail);
    this.samples.set(kind, list);
  }

  /** Total over every kind. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Plain form, for JSON and for posting from a worker. */
  toJSON(): TallyData {
    return { counts: [...this.counts], samples: [...this.samples] };
  }

  /** Adds another tally (e.g. from a worker) into this one. */
  merge(data: TallyData): void {
    for (const [kind, n] of data.counts) this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
    for (const [kind, list] of data.samples) {
      const mine = this.samples.get(kind) ?? [];
      for (const s of list) if (mine.length < MAX_SAMPLES_PER_KIND) mine.push(s);
      this.samples.set(kind, mine);
    }
  }
}

/** Serialisable form of an `ErrorTally`. */
export interface TallyData {
  readonly counts: [string, number][];
  readonly samples: [string, string[]][];
}

/**
 * Least-squares slope of y over x for `points` ([x, y] pairs), or null with fewer than two
 * distinct x values. Used for the arbiter's RSS over time (KiB per minute).
 */
export function leastSquaresSlope(points: readonly (readonly [number, number])[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx === 0 ? null : sxy / sxx;
}
