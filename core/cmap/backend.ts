/**
 * What corosync-cmapctl needs from a daemon's cmap, as an interface: the calls of libcmap
 * (`lib/cmap.c`) that the tool uses, made async. The in-memory `StoreBackend` implements it over a
 * {@link CmapStore}; an IPC client implements it over the daemon's local socket
 * (`ipc/cmap_protocol.ts` encodes the calls).
 *
 * Failures are thrown as {@link CmapError} carrying the `cs_error_t` the C library would return.
 *
 * @module
 */
import type { CmapError } from "./errors.ts";
import type { CmapEntry } from "./store.ts";
import type { TrackNotification } from "./track.ts";
import type { CmapValue } from "./value.ts";

/** The two maps corosync has: the default map and the statistics map. */
export type CmapMapName = "icmap" | "stats";

/** One step of a `-p` load file, applied all together by {@link CmapBackend.load}. */
export type LoadOp =
  | { readonly op: "set"; readonly key: string; readonly value: CmapValue }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "deletePrefix"; readonly prefix: string };

/** A delete of a load that failed without stopping the load (the C tool only reports these). */
export interface LoadFailure {
  readonly key: string;
  readonly error: CmapError;
}

/** A stream of notifications for the names given to {@link CmapBackend.track}. */
export interface CmapTracker extends AsyncDisposable {
  /**
   * The notifications, in order. Ends when the tracker is closed; throws a CmapError
   * (CS_ERR_LIBRARY) when the connection to the daemon is lost.
   */
  readonly events: AsyncIterable<TrackNotification>;
  /** Stops tracking and ends `events`. */
  close(): Promise<void>;
}

/** A connection to one map of a daemon. */
export interface CmapBackend extends AsyncDisposable {
  /** cmap_get(): the value, or CS_ERR_NOT_EXIST. */
  get(key: string): Promise<CmapValue>;
  /** cmap_set(): CS_ERR_ACCESS for read-only keys, see CmapStore.set() for the rest. */
  set(key: string, value: CmapValue): Promise<void>;
  /** cmap_delete(). */
  delete(key: string): Promise<void>;
  /** cmap_iter_init()/next() and a get per key: the entries under `prefix`, in key order. */
  iter(prefix: string): Promise<CmapEntry[]>;
  /**
   * Applies a load file atomically: either every set succeeds, or a {@link CmapLoadError}
   * names the first failing step and nothing changed. Failed deletes do not stop the load;
   * they are returned, in order.
   */
  load(ops: readonly LoadOp[]): Promise<LoadFailure[]>;
  /** cmap_track_add() for each name with the same flags, merged into one stream. */
  track(names: readonly string[], flags: number): Promise<CmapTracker>;
  /** cmap_finalize(). */
  close(): Promise<void>;
}

/** Opens a connection to `map`; throws a CmapError (CS_ERR_LIBRARY if no daemon answers). */
export type CmapConnect = (map: CmapMapName) => Promise<CmapBackend>;
