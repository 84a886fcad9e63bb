/**
 * A {@link CmapBackend} over a {@link CmapStore} in the same process: the server side of cmap
 * (the request handlers of corosync `exec/cmap.c`: read-only check, then the store) plus the
 * client-side name limit of libcmap. The daemon serves its IPC cmap requests through it, and
 * tests drive corosync-cmapctl with it.
 *
 * @module
 */
import type { CmapBackend, CmapTracker, LoadFailure, LoadOp } from "./backend.ts";
import { CmapError, CmapLoadError, CsError } from "./errors.ts";
import { fitsClientNameLimit } from "./key_name.ts";
import type { CmapEntry, CmapStore, CmapTrack } from "./store.ts";
import type { TrackNotification } from "./track.ts";
import type { CmapValue } from "./value.ts";

/** The IPC service's key-name limit (CS_ERR_NAME_TOO_LONG). */
export function checkName(name: string): void {
  if (!fitsClientNameLimit(name)) {
    throw new CmapError(CsError.NameTooLong, `Name is ${name.length} characters long`);
  }
}

/** The IPC service's set: name limit, read-only check, store. */
function clientSet(store: CmapStore, key: string, value: CmapValue): void {
  checkName(key);
  store.checkClientWrite(key);
  store.set(key, value);
}

/** The IPC service's delete. */
export function clientDelete(store: CmapStore, key: string): void {
  checkName(key);
  store.checkClientWrite(key);
  store.delete(key);
}

/**
 * Runs load steps on `store` the way corosync-cmapctl's read_in_config_file() does: set
 * failures are fatal (CmapLoadError), delete failures are collected. A prefix delete fails
 * only if the prefix itself is too long (the C tool's "Failed to initialize iteration").
 * `set` is how one key is written (the daemon's backend applies settings keys there).
 */
export function runLoad(
  store: CmapStore,
  ops: readonly LoadOp[],
  set: (key: string, value: CmapValue) => void = (key, value) => clientSet(store, key, value),
): LoadFailure[] {
  const failures: LoadFailure[] = [];
  const deleteReporting = (key: string) => {
    try {
      clientDelete(store, key);
    } catch (error) {
      if (!(error instanceof CmapError)) throw error;
      failures.push({ key, error });
    }
  };
  ops.forEach((op, index) => {
    try {
      if (op.op === "set") set(op.key, op.value);
      else if (op.op === "delete") deleteReporting(op.key);
      else {
        checkName(op.prefix);
        for (const key of store.keys(op.prefix)) deleteReporting(key);
      }
    } catch (error) {
      if (!(error instanceof CmapError)) throw error;
      throw new CmapLoadError(index, error.code, { cause: error });
    }
  });
  return failures;
}

/** Notifications buffered until the consumer pulls them. */
class NotificationQueue implements AsyncIterable<TrackNotification> {
  readonly #items: TrackNotification[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: CmapError | undefined;

  push(item: TrackNotification): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake();
  }

  /** Ends the stream after the buffered items; with `error`, the stream throws it instead. */
  end(error?: CmapError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TrackNotification, void, undefined> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
  }
}

/** An in-process {@link CmapBackend} over one store. */
export class StoreBackend implements CmapBackend {
  readonly #store: CmapStore;
  readonly #queues = new Map<NotificationQueue, CmapTrack[]>();
  #closed = false;

  constructor(store: CmapStore) {
    this.#store = store;
  }

  #open(): CmapStore {
    if (this.#closed) throw new CmapError(CsError.BadHandle, "Connection is closed");
    return this.#store;
  }

  get(key: string): Promise<CmapValue> {
    return Promise.try(() => {
      checkName(key);
      return this.#open().get(key);
    });
  }

  set(key: string, value: CmapValue): Promise<void> {
    return Promise.try(() => clientSet(this.#open(), key, value));
  }

  delete(key: string): Promise<void> {
    return Promise.try(() => clientDelete(this.#open(), key));
  }

  iter(prefix: string): Promise<CmapEntry[]> {
    return Promise.try(() => {
      checkName(prefix);
      return [...this.#open().iter(prefix)];
    });
  }

  load(ops: readonly LoadOp[]): Promise<LoadFailure[]> {
    return Promise.try(() => {
      const store = this.#open();
      // A dry run on a copy finds a fatal step before anything (or any tracker) is touched.
      runLoad(store.copy(), ops);
      return runLoad(store, ops);
    });
  }

  track(names: readonly string[], flags: number): Promise<CmapTracker> {
    return Promise.try(() => {
      const store = this.#open();
      names.forEach(checkName);
      const queue = new NotificationQueue();
      const tracks: CmapTrack[] = [];
      try {
        for (const name of names) tracks.push(store.track(name, flags, (n) => queue.push(n)));
      } catch (error) {
        tracks.forEach((t) => t[Symbol.dispose]());
        throw error;
      }
      this.#queues.set(queue, tracks);
      const close = () => {
        this.#end(queue);
        return Promise.resolve();
      };
      return { events: queue, close, [Symbol.asyncDispose]: close };
    });
  }

  /**
   * Ends every open tracker stream with `error` (default CS_ERR_LIBRARY), as a daemon going
   * away does to its clients.
   */
  disconnect(error = new CmapError(CsError.Library, "Connection to the daemon was lost")): void {
    for (const queue of [...this.#queues.keys()]) this.#end(queue, error);
    this.#closed = true;
  }

  /** cmap_finalize(): ends every tracker (normally) and refuses further calls. */
  close(): Promise<void> {
    for (const queue of [...this.#queues.keys()]) this.#end(queue);
    this.#closed = true;
    return Promise.resolve();
  }

  #end(queue: NotificationQueue, error?: CmapError): void {
    this.#queues.get(queue)?.forEach((t) => t[Symbol.dispose]());
    this.#queues.delete(queue);
    queue.end(error);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
