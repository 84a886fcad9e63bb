/**
 * A small deterministic random source and a byte mutator for the corpus-seeded fuzzers:
 * bit flips, interesting bytes, inserts, deletes, duplicated ranges, big-endian length-field
 * edits (QNet headers and options are u16/u32 lengths), splices with other corpus entries,
 * truncation. No dependency, so a failing seed replays the same on every machine.
 *
 * @module
 */
import { concatBytes } from "../../../core/bytes.ts";

/** mulberry32: a 32-bit PRNG, enough for fuzzing and reproducible from one u32 seed. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next u32. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.next() & 0xff);
  }
}

/** FNV-1a of the bytes: seeds the per-input choices (chunking, limits) so a replay matches. */
export function hash32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Lowercase hex of the 32-bit hash plus the length: the file name of a regression input. */
export function inputName(bytes: Uint8Array): string {
  return `${hash32(bytes).toString(16).padStart(8, "0")}-${bytes.length}`;
}

const INTERESTING_8 = [0, 1, 2, 3, 4, 5, 0x7f, 0x80, 0xfe, 0xff];
/** Values that hit QNet boundaries: empty body, short TLVs, the 32 KiB limit, u16/u32 maxima. */
const INTERESTING_LENGTHS = [
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  11,
  12,
  0x7f,
  0x80,
  0xff,
  0x100,
  1024,
  32762,
  32763,
  32768,
  0xffff,
  0x1_0000,
  0x7fff_ffff,
  0xffff_ffff,
];

function writeBe(buf: Uint8Array, at: number, size: 2 | 4, value: number): void {
  for (let i = size - 1; i >= 0; i--) {
    if (at + i < buf.length) buf[at + i] = value & 0xff;
    value = Math.floor(value / 256);
  }
}

function readBe(buf: Uint8Array, at: number, size: 2 | 4): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + (buf[at + i] ?? 0);
  return v;
}

/**
 * Offsets of the length fields of a QNet byte stream: the u32 at 2 of every header and the
 * u16 at 2 of every option, following the stream as long as it parses.
 */
export function qnetLengthFields(bytes: Uint8Array): { at: number; size: 2 | 4 }[] {
  const fields: { at: number; size: 2 | 4 }[] = [];
  let msg = 0;
  while (msg + 6 <= bytes.length && fields.length < 512) {
    fields.push({ at: msg + 2, size: 4 });
    const end = msg + 6 + readBe(bytes, msg + 2, 4);
    let opt = msg + 6;
    while (opt + 4 <= Math.min(end, bytes.length) && fields.length < 512) {
      fields.push({ at: opt + 2, size: 2 });
      opt += 4 + readBe(bytes, opt + 2, 2);
    }
    msg = end;
  }
  return fields;
}

type Mutation = (rng: Rng, input: Uint8Array, corpus: readonly Uint8Array[]) => Uint8Array;

const MUTATIONS: readonly Mutation[] = [
  // Bit flip.
  (rng, b) => {
    if (b.length === 0) return rng.bytes(1);
    const out = b.slice();
    const at = rng.below(out.length);
    out[at] = out[at]! ^ (1 << rng.below(8));
    return out;
  },
  // Interesting or random byte.
  (rng, b) => {
    if (b.length === 0) return Uint8Array.of(rng.pick(INTERESTING_8));
    const out = b.slice();
    out[rng.below(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.next() & 0xff;
    return out;
  },
  // Insert random bytes.
  (rng, b) => {
    const at = rng.below(b.length + 1);
    return concatBytes([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]);
  },
  // Delete a range.
  (rng, b) => {
    if (b.length === 0) return b;
    const at = rng.below(b.length);
    const n = rng.range(1, Math.min(16, b.length - at));
    return concatBytes([b.subarray(0, at), b.subarray(at + n)]);
  },
  // Duplicate a range in place (repeated options, pipelined copies).
  (rng, b) => {
    if (b.length === 0) return b;
    const at = rng.below(b.length);
    const n = rng.range(1, Math.min(64, b.length - at));
    return concatBytes([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
  },
  // Big-endian length-field edit, preferring real QNet length fields.
  (rng, b) => {
    if (b.length < 2) return b;
    const fields = qnetLengthFields(b);
    const field = fields.length > 0 && rng.chance(0.8)
      ? rng.pick(fields)
      : { at: rng.below(b.length - 1), size: rng.chance(0.5) ? 2 as const : 4 as const };
    const out = b.slice();
    const old = readBe(out, field.at, field.size);
    const max = field.size === 2 ? 0xffff : 0xffff_ffff;
    const choices = [...INTERESTING_LENGTHS, old + 1, old - 1, old + 4, old - 4, old * 2];
    writeBe(out, field.at, field.size, Math.min(max, Math.max(0, rng.pick(choices))));
    return out;
  },
  // Splice with another corpus entry.
  (rng, b, corpus) => {
    const other = corpus.length > 0 ? rng.pick(corpus) : b;
    const cut = rng.below(b.length + 1);
    const from = rng.below(other.length + 1);
    return concatBytes([b.subarray(0, cut), other.subarray(from)]);
  },
  // Append another corpus entry whole (pipelining).
  (rng, b, corpus) => concatBytes([b, corpus.length > 0 ? rng.pick(corpus) : b]),
  // Truncate.
  (rng, b) => b.subarray(0, rng.below(b.length + 1)).slice(),
];

/** One to four stacked mutations of `input`, capped at `maxLength` bytes. */
export function mutate(
  rng: Rng,
  input: Uint8Array,
  corpus: readonly Uint8Array[],
  maxLength: number,
): Uint8Array {
  let out = input;
  const rounds = 1 + rng.below(4);
  for (let i = 0; i < rounds; i++) {
    out = rng.pick(MUTATIONS)(rng, out, corpus);
    if (out.length > maxLength) out = out.subarray(0, maxLength);
  }
  return out === input ? input.slice() : out.slice();
}

/**
 * Cut points for feeding `length` bytes in chunks: none, every byte, or random sizes. Chosen
 * from `rng`, which callers seed from the input's hash so a replay cuts the same way.
 */
export function chunkCuts(rng: Rng, length: number): number[] {
  const style = rng.below(4);
  if (style === 0 || length < 2) return [];
  if (style === 1) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const cuts: number[] = [];
  for (let at = rng.range(1, 16); at < length; at += rng.range(1, style === 2 ? 16 : 2048)) {
    cuts.push(at);
  }
  return cuts;
}
