/**
 * The little DER that the NSS database formats need: a bounded TLV reader (every length is
 * checked against the bytes that are really there) and a TLV writer. Nothing here allocates
 * more than its input, so hostile lengths end in {@link DerError}, never in a huge buffer.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";

/** ASN.1 universal tags used by the NSS formats. */
export const DER_TAG = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

/** Bytes that are not the DER they should be. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** One DER element: its tag, its content, and the whole encoding (tag, length, content). */
export interface DerElement {
  tag: number;
  content: Uint8Array;
  encoded: Uint8Array;
}

/** Largest length field this reader accepts (4 bytes: anything bigger cannot fit in a blob). */
const MAX_LENGTH_BYTES = 4;

/** Reads the element at `offset`; throws {@link DerError} when it does not fit. */
export function readElement(bytes: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > bytes.length) throw new DerError("DER element truncated");
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("DER multi-byte tags are not used here");
  let length = bytes[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > MAX_LENGTH_BYTES) throw new DerError("DER length invalid");
    if (offset + 2 + count > bytes.length) throw new DerError("DER length truncated");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError("DER content truncated");
  return {
    tag,
    content: bytes.subarray(offset + header, end),
    encoded: bytes.subarray(offset, end),
  };
}

/** Reads a whole buffer as exactly one element of the given tag. */
export function readOnly(bytes: Uint8Array, tag: number, what: string): DerElement {
  const element = readElement(bytes);
  if (element.tag !== tag) throw new DerError(`${what}: unexpected DER tag ${element.tag}`);
  if (element.encoded.length !== bytes.length) throw new DerError(`${what}: trailing bytes`);
  return element;
}

/** The elements of a SEQUENCE's content, in order. */
export function readChildren(content: Uint8Array): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < content.length) {
    const child = readElement(content, offset);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}

/** The children of an element that must be a SEQUENCE with at least `min` children. */
export function sequenceOf(
  element: DerElement | undefined,
  min: number,
  what: string,
): DerElement[] {
  if (element === undefined || element.tag !== DER_TAG.sequence) {
    throw new DerError(`${what}: SEQUENCE expected`);
  }
  const children = readChildren(element.content);
  if (children.length < min) throw new DerError(`${what}: too few elements`);
  return children;
}

/** A small non-negative INTEGER (iteration counts, key lengths). */
export function readSmallInteger(element: DerElement | undefined, what: string): number {
  if (element === undefined || element.tag !== DER_TAG.integer) {
    throw new DerError(`${what}: INTEGER expected`);
  }
  const c = element.content;
  if (c.length === 0 || c.length > 4 || (c[0]! & 0x80)) {
    throw new DerError(`${what}: INTEGER out of range`);
  }
  let value = 0;
  for (const byte of c) value = value * 256 + byte;
  return value;
}

/** Encodes one element. */
export function encodeElement(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return concatBytes([new Uint8Array(header), content]);
}

/** A SEQUENCE of already encoded elements. */
export function encodeSequence(children: readonly Uint8Array[]): Uint8Array {
  return encodeElement(DER_TAG.sequence, concatBytes(children));
}

/** An unsigned big-endian integer as a DER INTEGER (a 0 byte added when the top bit is set). */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed.length === 0
    ? new Uint8Array([0])
    : (trimmed[0]! & 0x80)
    ? concatBytes([new Uint8Array([0]), trimmed])
    : trimmed;
  return encodeElement(DER_TAG.integer, body);
}

/** A small non-negative number as a DER INTEGER. */
export function encodeSmallInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return encodeUnsignedInteger(new Uint8Array(bytes));
}

/** The magnitude of an INTEGER's content, without a leading sign byte. */
export function unsignedIntegerBytes(element: DerElement | undefined, what: string): Uint8Array {
  if (element === undefined || element.tag !== DER_TAG.integer || element.content.length === 0) {
    throw new DerError(`${what}: INTEGER expected`);
  }
  const c = element.content;
  if (c[0]! & 0x80) throw new DerError(`${what}: negative INTEGER`);
  return c.length > 1 && c[0] === 0 ? c.subarray(1) : c;
}

/** Encodes a dotted OID (only the arcs NSS uses; every arc below 2^28). */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [];
    for (let rest = arc;; rest = Math.floor(rest / 128)) {
      groups.unshift(rest & 0x7f);
      if (rest < 128) break;
    }
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return encodeElement(DER_TAG.oid, new Uint8Array(out));
}

/** True when the element is the OBJECT IDENTIFIER `dotted`. */
export function isOid(element: DerElement | undefined, dotted: string): boolean {
  if (element === undefined) return false;
  return bytesEqual(element.encoded, encodeOid(dotted));
}

/** Constant-content equality of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
