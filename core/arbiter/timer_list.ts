/**
 * One-shot timers kept in a binary min-heap, driven by an injected clock.
 *
 * Port of `timer-list.c` (qdevices): the same heap, the same comparison (time left to expiry,
 * clamped at 0, measured from the moving entry's epoch), the same free list whose head is
 * reused by the next `add()`. Reuse matters: when a callback deletes its own entry and adds a
 * new one, it gets the very same entry back, exactly as in C, so timers that expire at the
 * same millisecond fire in the C daemon's order.
 *
 * @module
 */
import type { Clock } from "../clock.ts";

/** `TIMER_LIST_MAX_INTERVAL`: intervals above 5 hours are refused (NSPR interval wrap). */
export const TIMER_LIST_MAX_INTERVAL = 18_000_000;

/**
 * A timer callback. Returning `true` asks for the timer to run again with the same interval
 * (C: a non-zero return); `false` drops it.
 */
export type TimerCallback = () => boolean;

const NO_CALLBACK: TimerCallback = () => false;

/** A scheduled timer. Treat it as a handle: once deleted it may be handed out again. */
export class TimerEntry {
  epoch = 0;
  interval = 0;
  expireTime = 0;
  callback: TimerCallback = NO_CALLBACK;
  active = false;
  heapPos = -1;
}

/** Port of `struct timer_list` and its functions. */
export class TimerList {
  readonly #clock: Clock;
  readonly #heap: TimerEntry[] = [];
  /**
   * Deleted entries, a stack: the last deleted is reused first, as C's TAILQ free list
   * (insert at head, take the head). Push and pop keep that O(1) with thousands of entries.
   */
  readonly #free: TimerEntry[] = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of scheduled timers. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Schedules `callback` in `interval` ms. Returns undefined for an interval outside
   * 1..TIMER_LIST_MAX_INTERVAL (C `timer_list_add()` returns NULL).
   */
  add(interval: number, callback: TimerCallback): TimerEntry | undefined {
    if (!(interval >= 1 && interval <= TIMER_LIST_MAX_INTERVAL)) return undefined;
    const entry = this.#free.pop() ?? new TimerEntry();
    entry.epoch = this.#clock.now();
    entry.interval = interval;
    entry.callback = callback;
    entry.active = true;
    entry.heapPos = -1;
    this.#insert(entry);
    return entry;
  }

  /** Restarts an active timer from now (`timer_list_entry_reschedule()`). */
  reschedule(entry: TimerEntry): void {
    if (!entry.active) return;
    this.#heapDelete(entry);
    entry.epoch = this.#clock.now();
    this.#insert(entry);
  }

  /**
   * Changes the interval and restarts from now (`timer_list_entry_set_interval()`).
   * Returns false (and changes nothing) for an invalid interval or an inactive entry.
   */
  setInterval(entry: TimerEntry, interval: number): boolean {
    if (!(interval >= 1 && interval <= TIMER_LIST_MAX_INTERVAL)) return false;
    if (!entry.active) return false;
    this.#heapDelete(entry);
    entry.interval = interval;
    entry.epoch = this.#clock.now();
    this.#insert(entry);
    return true;
  }

  /** Cancels a timer; a no-op for an inactive entry (`timer_list_entry_delete()`). */
  delete(entry: TimerEntry): void {
    if (!entry.active) return;
    this.#heapDelete(entry);
    this.#free.push(entry);
    entry.active = false;
    entry.callback = NO_CALLBACK; // A free entry must not keep its client alive.
  }

  /** Runs every timer that is due at `clock.now()`, earliest first (`timer_list_expire()`). */
  expire(): void {
    const now = this.#clock.now();
    for (;;) {
      const entry = this.#heap[0];
      if (entry === undefined || timeToExpire(entry, now) !== 0) return;
      const again = entry.callback();
      if (!again) {
        this.delete(entry);
      } else if (entry.active) {
        this.#heapDelete(entry);
        entry.epoch = now;
        this.#insert(entry);
      }
    }
  }

  /** Milliseconds until the earliest timer is due (0 if overdue), undefined when none. */
  msUntilNext(): number | undefined {
    const entry = this.#heap[0];
    return entry === undefined ? undefined : timeToExpire(entry, this.#clock.now());
  }

  #insert(entry: TimerEntry): void {
    entry.expireTime = entry.epoch + entry.interval;
    this.#heap.push(entry);
    entry.heapPos = this.#heap.length - 1;
    this.#siftUp(entry.heapPos);
  }

  #set(pos: number, entry: TimerEntry): void {
    this.#heap[pos] = entry;
    entry.heapPos = pos;
  }

  #get(pos: number): TimerEntry {
    const entry = this.#heap[pos];
    if (entry === undefined) throw new RangeError(`Timer heap has no entry at ${pos}`);
    return entry;
  }

  #siftUp(start: number): void {
    let pos = start;
    const item = this.#get(pos);
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1;
      const parent = this.#get(parentPos);
      if (compare(parent, item, item.epoch) <= 0) break;
      this.#set(parentPos, item);
      this.#set(pos, parent);
      pos = parentPos;
    }
  }

  #siftDown(start: number): void {
    let pos = start;
    for (;;) {
      let smallestPos = pos;
      let smallest = this.#get(pos);
      const left = 2 * pos + 1;
      const right = left + 1;
      if (left < this.#heap.length) {
        const entry = this.#get(left);
        if (compare(entry, smallest, smallest.epoch) < 0) {
          smallest = entry;
          smallestPos = left;
        }
      }
      if (right < this.#heap.length) {
        const entry = this.#get(right);
        if (compare(entry, smallest, smallest.epoch) < 0) {
          smallest = entry;
          smallestPos = right;
        }
      }
      if (smallestPos === pos) return;
      const moved = this.#get(pos);
      this.#set(pos, smallest);
      this.#set(smallestPos, moved);
      pos = smallestPos;
    }
  }

  #heapDelete(entry: TimerEntry): void {
    const pos = entry.heapPos;
    entry.heapPos = -1;
    const last = this.#heap.pop();
    if (last === undefined || last === entry) return;
    this.#set(pos, last);
    const cmp = compare(last, entry, entry.epoch);
    if (cmp < 0) this.#siftUp(pos);
    else if (cmp > 0) this.#siftDown(pos);
  }
}

/** `timer_list_entry_time_to_expire()`: time left, 0 once due. */
function timeToExpire(entry: TimerEntry, now: number): number {
  const diff = entry.expireTime - now;
  return diff > 0 ? diff : 0;
}

/** `timer_list_entry_cmp()`. */
function compare(a: TimerEntry, b: TimerEntry, now: number): number {
  const da = timeToExpire(a, now);
  const db = timeToExpire(b, now);
  return da < db ? -1 : da > db ? 1 : 0;
}
