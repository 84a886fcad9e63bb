/**
 * Tracking vocabulary: the `CMAP_TRACK_*` flags (corosync `include/corosync/cmap.h`) and the
 * notification a tracker receives.
 *
 * @module
 */
import type { CmapValue } from "./value.ts";

/** Track flags. DELETE, MODIFY and ADD are also the event numbers; PREFIX is never reported. */
export const TrackFlag = {
  Delete: 1,
  Modify: 2,
  Add: 4,
  Prefix: 8,
} as const;

/** Every defined flag bit; any other bit makes track_add fail with CS_ERR_INVALID_PARAM. */
export const TRACK_FLAGS_ALL = TrackFlag.Delete | TrackFlag.Modify | TrackFlag.Add |
  TrackFlag.Prefix;

/** What happened to a key: exactly one of ADD, MODIFY, DELETE. */
export type TrackEvent = typeof TrackFlag.Add | typeof TrackFlag.Modify | typeof TrackFlag.Delete;

/**
 * One change as a tracker sees it. ADD has only `newValue`, DELETE only `oldValue` (the last
 * value), MODIFY both (also across a type change).
 */
export interface TrackNotification {
  readonly event: TrackEvent;
  readonly key: string;
  readonly newValue?: CmapValue;
  readonly oldValue?: CmapValue;
}

/** Called synchronously by the store for each change it tracks. */
export type TrackCallback = (notification: TrackNotification) => void;

/** True if a tracker registered with `name` and `flags` is interested in changes of `key`. */
export function trackMatches(name: string, flags: number, key: string): boolean {
  return (flags & TrackFlag.Prefix) !== 0 ? key.startsWith(name) : key === name;
}
