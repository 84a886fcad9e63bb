/**
 * Bounded polling: every wait in the interop harness has a deadline and a poll count, and says
 * what it last saw when it gives up, so a failing cluster test explains itself.
 *
 * @module
 */
import { errorText } from "../../../core/error_text.ts";

/** A wait that ran out of time; `lastSeen` is the last observation, for the message. */
export class WaitTimeoutError extends Error {
  constructor(readonly what: string, readonly lastSeen: string, options?: ErrorOptions) {
    super(`Timed out waiting for ${what}; last seen: ${lastSeen}`, options);
    this.name = "WaitTimeoutError";
  }
}

/** Thrown by a probe to end a wait at once: the awaited state can no longer come. */
export class WaitAbortedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WaitAbortedError";
  }
}

/** What one poll found: `done` ends the wait, `seen` describes the state for the error. */
export interface Poll<T> {
  done: boolean;
  value: T;
  seen: string;
}

/** Options for {@linkcode waitUntil}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between polls (default 250 ms). */
  intervalMs?: number;
  /**
   * How many polls in a row must be `done` before the wait ends (default 1). More than one
   * makes sure a state is settled rather than passing through.
   */
  stablePolls?: number;
  /** Ends the wait early with the signal's reason. */
  signal?: AbortSignal;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Calls `probe` until it reports `done` on `stablePolls` consecutive polls, and returns the
 * last value. Throws {@linkcode WaitTimeoutError} at the deadline. Errors thrown by `probe`
 * count as "not done" (the thing polled may be restarting) and are shown if time runs out,
 * except {@linkcode WaitAbortedError}, which ends the wait with that error.
 * The number of polls is bounded by the deadline divided by the interval.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<Poll<T>>,
  options: WaitOptions,
): Promise<T> {
  const interval = options.intervalMs ?? 250;
  const needed = options.stablePolls ?? 1;
  const deadline = performance.now() + options.timeoutMs;
  const maxPolls = Math.ceil(options.timeoutMs / interval) + needed + 1;
  let streak = 0;
  let lastSeen = "nothing yet";
  for (let polls = 0; polls < maxPolls; polls++) {
    try {
      const poll = await probe();
      lastSeen = poll.seen;
      streak = poll.done ? streak + 1 : 0;
      if (streak >= needed) return poll.value;
    } catch (error) {
      if (error instanceof WaitAbortedError) throw error;
      streak = 0;
      lastSeen = errorText(error);
    }
    if (performance.now() + interval > deadline) break;
    await pause(interval, options.signal);
  }
  throw new WaitTimeoutError(what, lastSeen);
}
