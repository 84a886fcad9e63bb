/**
 * A cluster name (bytes from a client's PREINIT, not necessarily UTF-8) as a label value.
 * The name is data: the exposition writer escapes quotes and backslashes, and this mapping
 * makes sure that two clusters never share a label value (Prometheus would refuse the whole
 * scrape over a duplicate series) and that no control character reaches a dashboard.
 *
 * - A name that is valid UTF-8 without control characters (C0, DEL, C1) and without a
 *   backslash is its own label value.
 * - Any other name is written with printable ASCII as is and every other byte, backslash
 *   included, as `\xHH`. Such a label always holds a backslash and a plain one never does,
 *   so the mapping is one-to-one.
 * - A name longer than {@link MAX_CLUSTER_LABEL_BYTES} keeps its first bytes, written as
 *   above, followed by `\x…` and its length and a hash of the whole name (the metrics code
 *   also drops a repeated label value, so even a forged hash collision cannot break a scrape).
 *
 * @module
 */

/** Longest name written out in full; longer ones are shortened (see the module text). */
export const MAX_CLUSTER_LABEL_BYTES = 256;

const strict = new TextDecoder("utf-8", { fatal: true });
const BACKSLASH = 0x5c;

/** True if `text` holds a control character (C0, DEL, C1) or a backslash. */
function unsafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === BACKSLASH) return true;
  }
  return false;
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

/** Printable ASCII as is, every other byte as `\xHH`. */
function escapedBytes(name: Uint8Array): string {
  let out = "";
  for (const byte of name) {
    out += byte >= 0x20 && byte < 0x7f && byte !== BACKSLASH
      ? String.fromCharCode(byte)
      : hex(byte);
  }
  return out;
}

/** FNV-1a, 32 bits: a short fingerprint of a shortened name. */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The label value of a cluster name (see the module text). */
export function clusterLabel(name: Uint8Array): string {
  if (name.length > MAX_CLUSTER_LABEL_BYTES) {
    const head = escapedBytes(name.subarray(0, MAX_CLUSTER_LABEL_BYTES));
    return `${head}\\x…${name.length}:${fnv1a(name).toString(16).padStart(8, "0")}`;
  }
  let text: string;
  try {
    text = strict.decode(name);
  } catch {
    return escapedBytes(name);
  }
  return unsafe(text) ? escapedBytes(name) : text;
}
