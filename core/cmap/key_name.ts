/**
 * Key-name rules of the cmap store (corosync `exec/icmap.c` icmap_check_key_name() and the
 * client limit in `lib/cmap.c`).
 *
 * @module
 */

/** Shortest name a new key may have (`ICMAP_KEYNAME_MINLEN`). */
export const KEY_NAME_MIN_LENGTH = 3;
/** Longest name a new key may have (`ICMAP_KEYNAME_MAXLEN`). */
export const KEY_NAME_MAX_LENGTH = 255;
/**
 * libcmap refuses any name (key, prefix, track name) of this length or more before sending it
 * (`CS_MAX_NAME_LENGTH`): names travel in a 256-byte field.
 */
export const CLIENT_NAME_LIMIT = 256;

const VALID_KEY_NAME = /^[a-zA-Z0-9._\-/:]+$/;

/**
 * Port of icmap_check_key_name(): 3..255 characters out of `a-z A-Z 0-9 . _ - / :`. No structure
 * is enforced (`...` and `a..b` are fine). Only checked when a key is created.
 */
export function isValidKeyName(name: string): boolean {
  return name.length >= KEY_NAME_MIN_LENGTH && name.length <= KEY_NAME_MAX_LENGTH &&
    VALID_KEY_NAME.test(name);
}

/** The client-side length check of libcmap: byte length below {@link CLIENT_NAME_LIMIT}. */
export function fitsClientNameLimit(name: string): boolean {
  return new TextEncoder().encode(name).length < CLIENT_NAME_LIMIT;
}
