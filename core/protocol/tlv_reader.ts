/**
 * Walks the TLV options of a message, with the exact bounds rules of the C iterator.
 *
 * Port of `tlv_iter_next()` and the `tlv_iter_decode_u*()` readers in qdevices/tlv.c.
 *
 * @module
 */

/** Size of an option header: u16 type + u16 length. */
export const TLV_HEADER_LENGTH = 4;

/** What a visitor may report for one option; `null` means "fine, go on". */
export type TlvVisitResult<F> = F | null;

/**
 * Calls `visit(type, value)` for each option of `buf` starting at `start`, in wire order,
 * and stops at the first failure the visitor returns.
 *
 * Port of `tlv_iter_next()`: before visiting an option, its length field is read (as 0
 * where it lies beyond the buffer; C reads stray bytes there, with the same outcome) and
 * the option must fit: `pos + 4 + len <= end`, else `"inconsistent"`. After an option,
 * iteration ends if `pos + 4 + len >= end`. Hence an empty region, or 1..3 bytes after the
 * last whole option, is `"inconsistent"`. `value` is a view into `buf`, never a copy, so
 * no memory is allocated from a wire length.
 *
 * @returns the visitor's failure, `"inconsistent"`, or `null` when every option was fine.
 */
export function forEachTlv<F>(
  buf: Uint8Array,
  start: number,
  visit: (type: number, value: Uint8Array) => TlvVisitResult<F>,
): F | "inconsistent" | null {
  const end = buf.length;
  let pos = start;
  for (;;) {
    const len = readU16(buf, pos + 2);
    const next = pos + TLV_HEADER_LENGTH + len;
    if (next > end) return "inconsistent";
    const failure = visit(readU16(buf, pos), buf.subarray(pos + TLV_HEADER_LENGTH, next));
    if (failure !== null) return failure;
    if (next >= end) return null;
    pos = next;
  }
}

/** Big-endian u16 at `at`; bytes past the end of `buf` read as 0. */
export function readU16(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) << 8) | (buf[at + 1] ?? 0);
}

/** Big-endian u32 at `at` (the caller has checked that 4 bytes are there). */
export function readU32(buf: Uint8Array, at: number): number {
  return readU16(buf, at) * 0x1_0000 + readU16(buf, at + 2);
}

/** Big-endian u64 at `at` (the caller has checked that 8 bytes are there). */
export function readU64(buf: Uint8Array, at: number): bigint {
  return (BigInt(readU32(buf, at)) << 32n) | BigInt(readU32(buf, at + 4));
}
