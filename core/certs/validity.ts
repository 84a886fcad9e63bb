/**
 * Certificate validity as NSS `certutil -v <months>` computes it: not before = now (whole
 * seconds, not backdated), not after = the same wall-clock time in UTC that many calendar
 * months later, day overflow rolling into the next month like PR_ImplodeTime() does.
 *
 * @module
 */

/** Validity of every certificate the C tool makes (`CRT_VALIDITY=1200` months, 100 years). */
export const VALIDITY_MONTHS = 1200;

/** A validity period. */
export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** The validity of a certificate made at `now` (port of certutil's `-v` handling). */
export function validityFrom(now: Date, months = VALIDITY_MONTHS): Validity {
  const start = Math.floor(now.getTime() / 1000) * 1000;
  const notBefore = new Date(start);
  const notAfter = new Date(Date.UTC(
    notBefore.getUTCFullYear(),
    notBefore.getUTCMonth() + months,
    notBefore.getUTCDate(),
    notBefore.getUTCHours(),
    notBefore.getUTCMinutes(),
    notBefore.getUTCSeconds(),
  ));
  return { notBefore, notAfter };
}
