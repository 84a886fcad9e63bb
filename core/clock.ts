/**
 * Time for the core. The core never reads the system clock itself: the daemon passes the
 * monotonic `systemClock`, tests pass a `ManualClock` they advance by hand, so no test sleeps.
 *
 * @module
 */

/** A monotonic clock in milliseconds. */
export interface Clock {
  now(): number;
}

/** The process's monotonic clock. Pure: `performance` is a web API, not I/O. */
export const systemClock: Clock = { now: () => performance.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot move a clock by ${ms} ms`);
    this.#now += ms;
  }
}
