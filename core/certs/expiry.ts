/**
 * Whether a certificate is usable now and for how long: what `qnet certutil --list` flags.
 * Pure: the caller passes the time.
 *
 * @module
 */

/** Days of warning before a certificate expires, by default (`--warn-days`). */
export const DEFAULT_WARN_DAYS = 30;

const DAY_MS = 86_400_000;

/** Where a certificate stands at a given time. */
export const ExpiryStatus = {
  Valid: "valid",
  /** Valid now, but expires within the warning period. */
  Expiring: "expiring",
  Expired: "expired",
  NotYetValid: "not-yet-valid",
} as const;
export type ExpiryStatus = typeof ExpiryStatus[keyof typeof ExpiryStatus];

/** A certificate's standing: its status and whole days left (negative once expired). */
export interface Expiry {
  readonly status: ExpiryStatus;
  readonly daysLeft: number;
}

/** The standing at `now` of a certificate valid from `notBefore` to `notAfter`. */
export function expiryOf(notBefore: Date, notAfter: Date, now: Date, warnDays: number): Expiry {
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (now.getTime() > notAfter.getTime()) return { status: ExpiryStatus.Expired, daysLeft };
  if (now.getTime() < notBefore.getTime()) return { status: ExpiryStatus.NotYetValid, daysLeft };
  if (notAfter.getTime() - now.getTime() < warnDays * DAY_MS) {
    return { status: ExpiryStatus.Expiring, daysLeft };
  }
  return { status: ExpiryStatus.Valid, daysLeft };
}

/** Whether a status asks for the admin's attention (and a non-zero exit of `--list`). */
export function needsAttention(status: ExpiryStatus): boolean {
  return status !== ExpiryStatus.Valid;
}
