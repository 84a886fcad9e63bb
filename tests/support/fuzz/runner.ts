/**
 * The fuzz loop shared by the test suite (fixed seeds, bounded iterations) and
 * scripts/fuzz.ts (random seeds, bounded time): mutate inputs drawn from the seeds and from
 * recent mutants, run the target, collect failures.
 *
 * @module
 */
import { mutate, Rng } from "./mutate.ts";
import type { FuzzTarget } from "./targets.ts";

/** One failing input and what it threw. */
export interface FuzzFailure {
  readonly input: Uint8Array;
  readonly error: unknown;
  /** True when the input ran longer than `slowMs` (a hang candidate). */
  readonly slow: boolean;
}

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many inputs (seeds included). */
  readonly iterations?: number;
  /** Stop at this `Date.now()`. */
  readonly deadline?: number;
  /** Report inputs slower than this as failures (long mode only; never in the suite). */
  readonly slowMs?: number;
  /** Stop at the first failure. */
  readonly stopOnFailure?: boolean;
  readonly onFailure?: (failure: FuzzFailure) => void | Promise<void>;
}

export interface FuzzReport {
  readonly tried: number;
  readonly failures: FuzzFailure[];
}

/** Runs `target` on its seeds, then on mutants, until the iteration or time bound. */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(options.seed);
  const seeds = await target.seeds();
  const pool: Uint8Array[] = [...seeds];
  const failures: FuzzFailure[] = [];
  let tried = 0;
  const more = () =>
    (options.iterations === undefined || tried < options.iterations) &&
    (options.deadline === undefined || Date.now() < options.deadline) &&
    !(options.stopOnFailure && failures.length > 0);
  while (more()) {
    const input = tried < seeds.length ? seeds[tried]! : mutate(
      rng,
      rng.chance(0.5) ? rng.pick(seeds.length ? seeds : pool) : rng.pick(pool),
      pool,
      target.maxLength,
    );
    tried++;
    const started = Date.now();
    let error: unknown;
    let failed = false;
    try {
      await target.run(input);
    } catch (e) {
      failed = true;
      error = e;
    }
    const slow = options.slowMs !== undefined && Date.now() - started > options.slowMs;
    if (failed || slow) {
      const failure = { input, error: failed ? error : new Error("slow input"), slow };
      failures.push(failure);
      await options.onFailure?.(failure);
    } else if (pool.length < 512) pool.push(input);
    else pool[rng.below(pool.length)] = input;
  }
  return { tried, failures };
}
