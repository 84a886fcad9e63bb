/**
 * The cmap store: a map of typed values with read-only entries and trackers. Port of the
 * default map of corosync `exec/icmap.c` (the qb_map trie and its notifications); pure, so the
 * daemon, the in-memory backend and the tests share it.
 *
 * Keys are ASCII (only valid names can be created), so JS string order is byte order, the
 * order of libqb's trie walk: a key comes before its extensions, `10` before `9`.
 *
 * @module
 */
import { CmapError, CsError } from "./errors.ts";
import { isValidKeyName } from "./key_name.ts";
import { type ReadOnlyEntry, ReadOnlyList } from "./read_only.ts";
import {
  TRACK_FLAGS_ALL,
  type TrackCallback,
  type TrackEvent,
  TrackFlag,
  trackMatches,
  type TrackNotification,
} from "./track.ts";
import {
  cloneValue,
  type CmapValue,
  INTEGER_RANGES,
  isIntegerType,
  valueProblem,
  valuesEqual,
} from "./value.ts";

/** A key and its value. */
export interface CmapEntry {
  readonly key: string;
  readonly value: CmapValue;
}

interface Tracker {
  readonly name: string;
  readonly flags: number;
  readonly callback: TrackCallback;
}

/** A registered tracker. Dispose it (or call `delete()`) to stop notifications. */
export class CmapTrack implements Disposable {
  readonly #trackers: Set<Tracker>;
  readonly #tracker: Tracker;

  /** @private Created by {@link CmapStore.track}. */
  constructor(trackers: Set<Tracker>, tracker: Tracker) {
    this.#trackers = trackers;
    this.#tracker = tracker;
  }

  /** The tracked key or prefix. */
  get name(): string {
    return this.#tracker.name;
  }

  /** Port of icmap_track_delete(); a handle deleted twice is CS_ERR_BAD_HANDLE. */
  delete(): void {
    if (!this.#trackers.delete(this.#tracker)) throw new CmapError(CsError.BadHandle);
  }

  [Symbol.dispose](): void {
    this.#trackers.delete(this.#tracker);
  }
}

/** Index of the first element of sorted `keys` that is >= `key` (or > with `after`). */
function lowerBound(keys: readonly string[], key: string, after = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < key || (after && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A cmap: values, read-only entries and trackers. */
export class CmapStore {
  readonly #values = new Map<string, CmapValue>();
  readonly #sorted: string[] = [];
  readonly #trackers = new Set<Tracker>();
  /** Entries clients may not change; see {@link CmapStore.checkClientWrite}. */
  readonly readOnly: ReadOnlyList;

  constructor(readOnly: Iterable<ReadOnlyEntry> = []) {
    this.readOnly = new ReadOnlyList(readOnly);
  }

  /** A copy of the values and read-only entries, without trackers (for dry runs). */
  copy(): CmapStore {
    const copy = new CmapStore(this.readOnly.entries());
    for (const key of this.#sorted) copy.set(key, this.#values.get(key)!);
    return copy;
  }

  /** Number of keys. */
  get size(): number {
    return this.#values.size;
  }

  /** True if `key` exists. */
  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** Port of icmap_get(): a copy of the value, or CS_ERR_NOT_EXIST. */
  get(key: string): CmapValue {
    const value = this.#values.get(key);
    if (value === undefined) throw new CmapError(CsError.NotExist, `Key ${key} does not exist`);
    return cloneValue(value);
  }

  /**
   * Port of icmap_set(): creates or replaces `key`. A bad value is CS_ERR_INVALID_PARAM; an
   * unchanged (type, bytes) pair is a no-op without notification; a new key needs a valid name
   * (else CS_ERR_NAME_TOO_LONG). Type changes are allowed. Ignores read-only entries (that is
   * the client-facing check, {@link CmapStore.checkClientWrite}).
   */
  set(key: string, value: CmapValue): void {
    const problem = valueProblem(value);
    if (problem !== undefined) {
      throw new CmapError(CsError.InvalidParam, `Value for ${key} is ${problem}`);
    }
    const old = this.#values.get(key);
    if (old !== undefined && valuesEqual(old, value)) return;
    if (old === undefined) {
      if (!isValidKeyName(key)) {
        throw new CmapError(CsError.NameTooLong, `Key name ${JSON.stringify(key)} is not valid`);
      }
      this.#sorted.splice(lowerBound(this.#sorted, key), 0, key);
    }
    const stored = cloneValue(value);
    this.#values.set(key, stored);
    if (old === undefined) this.#notify(TrackFlag.Add, key, stored, undefined);
    else this.#notify(TrackFlag.Modify, key, stored, old);
  }

  /** Port of icmap_delete(): removes `key` or fails with CS_ERR_NOT_EXIST. */
  delete(key: string): void {
    const old = this.#values.get(key);
    if (old === undefined) throw new CmapError(CsError.NotExist, `Key ${key} does not exist`);
    this.#values.delete(key);
    this.#sorted.splice(lowerBound(this.#sorted, key), 1);
    this.#notify(TrackFlag.Delete, key, undefined, old);
  }

  /** Deletes every key starting with `prefix`, in key order; returns how many went. */
  deletePrefix(prefix: string): number {
    const keys = this.keys(prefix);
    for (const key of keys) this.delete(key);
    return keys.length;
  }

  /**
   * Port of icmap_adjust_int(): adds `step` to an integer value, wrapping around in its width
   * (u8 255+1 is 0, i8 127+1 is -128). Other types are CS_ERR_INVALID_PARAM; trackers see a
   * MODIFY with old and new value.
   */
  adjust(key: string, step: number): void {
    const value = this.get(key);
    const range = INTEGER_RANGES.get(value.type);
    if (range === undefined || !isIntegerType(value.type)) {
      throw new CmapError(CsError.InvalidParam, `Key ${key} does not hold an integer`);
    }
    const [min, max] = range;
    const span = max - min + 1n;
    const next = ((BigInt(value.value as number | bigint) + BigInt(step) - min) % span + span) %
        span + min;
    this.set(
      key,
      value.type === "i64" || value.type === "u64"
        ? { type: value.type, value: next }
        : { type: value.type as "u8", value: Number(next) },
    );
  }

  /** Port of icmap_inc(). */
  inc(key: string): void {
    this.adjust(key, 1);
  }

  /** Port of icmap_dec(). */
  dec(key: string): void {
    this.adjust(key, -1);
  }

  /** A snapshot of the keys starting with `prefix`, in byte order. */
  keys(prefix = ""): string[] {
    const out: string[] = [];
    for (let i = lowerBound(this.#sorted, prefix); i < this.#sorted.length; i++) {
      const key = this.#sorted[i]!;
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  /**
   * Port of icmap_iter_init()/icmap_iter_next(): the entries whose key starts with `prefix`, in
   * byte order. A live cursor, not a snapshot: keys added ahead of the cursor are returned,
   * keys deleted before being reached are not.
   */
  *iter(prefix = ""): Generator<CmapEntry, void, undefined> {
    let index = lowerBound(this.#sorted, prefix);
    let last: string | undefined;
    for (;;) {
      if (last !== undefined) index = lowerBound(this.#sorted, last, true);
      const key = this.#sorted[index];
      if (key === undefined || !key.startsWith(prefix)) return;
      last = key;
      yield { key, value: cloneValue(this.#values.get(key)!) };
    }
  }

  /**
   * Port of icmap_track_add(): calls `callback` for each change to `name` (or, with
   * TrackFlag.Prefix, to every key starting with `name`) whose event is in `flags`. Unknown
   * flag bits are CS_ERR_INVALID_PARAM; flags 0 is accepted and never fires. The tracker is
   * bound to the name, not to a key: it sees a key's creation and survives its deletion.
   */
  track(name: string, flags: number, callback: TrackCallback): CmapTrack {
    if (!Number.isInteger(flags) || (flags & ~TRACK_FLAGS_ALL) !== 0) {
      throw new CmapError(CsError.InvalidParam, `Invalid track flags ${flags}`);
    }
    const tracker: Tracker = { name, flags, callback };
    this.#trackers.add(tracker);
    return new CmapTrack(this.#trackers, tracker);
  }

  /**
   * The check the IPC service makes before set, delete and adjust (cmap.c, icmap_is_key_ro()):
   * CS_ERR_ACCESS for a read-only key or prefix, whether or not the key exists.
   */
  checkClientWrite(key: string): void {
    if (this.readOnly.isReadOnly(key)) {
      throw new CmapError(CsError.Access, `Key ${key} is read-only`);
    }
  }

  #notify(
    event: TrackEvent,
    key: string,
    newValue: CmapValue | undefined,
    oldValue: CmapValue | undefined,
  ): void {
    for (const tracker of [...this.#trackers]) {
      if ((tracker.flags & event) === 0 || !trackMatches(tracker.name, tracker.flags, key)) {
        continue;
      }
      const notification: TrackNotification = {
        event,
        key,
        ...(newValue === undefined ? {} : { newValue: cloneValue(newValue) }),
        ...(oldValue === undefined ? {} : { oldValue: cloneValue(oldValue) }),
      };
      try {
        tracker.callback(notification);
      } catch (error) {
        // A broken tracker must not leave the store half-updated; report it like an
        // uncaught error from an event listener.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
