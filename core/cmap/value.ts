/**
 * The twelve cmap value types (`CMAP_VALUETYPE_*` in corosync `include/corosync/cmap.h`) as a
 * discriminated union, with the size and equality rules of `exec/icmap.c`.
 *
 * The discriminant is the short name corosync-cmapctl prints (`u32`, `str`, ...). 8/16/32-bit
 * integers and floats are `number`, 64-bit integers `bigint`, strings JS strings (stored by
 * corosync as UTF-8 plus a NUL), binaries bytes.
 *
 * @module
 */

/** `cmap_value_types_t` numbers (cmap.h). */
export const ValueTypeId = {
  i8: 1,
  u8: 2,
  i16: 3,
  u16: 4,
  i32: 5,
  u32: 6,
  i64: 7,
  u64: 8,
  flt: 9,
  dbl: 10,
  str: 11,
  bin: 12,
} as const;

/** A type name as corosync-cmapctl spells it. */
export type ValueTypeName = keyof typeof ValueTypeId;

/** The type names in cmapctl's table order (also the order of its `Unknown type` lookup). */
export const VALUE_TYPE_NAMES: readonly ValueTypeName[] = Object.keys(
  ValueTypeId,
) as ValueTypeName[];

/** A typed cmap value. */
export type CmapValue =
  | { type: "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "flt" | "dbl"; value: number }
  | { type: "i64" | "u64"; value: bigint }
  | { type: "str"; value: string }
  | { type: "bin"; value: Uint8Array };

/** True if `name` is one of the twelve type names (case-sensitive, like cmapctl). */
export function isValueTypeName(name: string): name is ValueTypeName {
  return Object.hasOwn(ValueTypeId, name);
}

/** The type name for a `cmap_value_types_t` number, or undefined for 0 and >12. */
export function valueTypeName(id: number): ValueTypeName | undefined {
  return VALUE_TYPE_NAMES.find((name) => ValueTypeId[name] === id);
}

/** Fixed sizes (icmap_get_valuetype_len()); str and bin have none. */
const FIXED_SIZE: ReadonlyMap<ValueTypeName, number> = new Map([
  ["i8", 1],
  ["u8", 1],
  ["i16", 2],
  ["u16", 2],
  ["i32", 4],
  ["u32", 4],
  ["i64", 8],
  ["u64", 8],
  ["flt", 4],
  ["dbl", 8],
]);

/** Inclusive ranges of the integer types. */
export const INTEGER_RANGES: ReadonlyMap<ValueTypeName, readonly [bigint, bigint]> = new Map([
  ["i8", [-(2n ** 7n), 2n ** 7n - 1n]],
  ["u8", [0n, 2n ** 8n - 1n]],
  ["i16", [-(2n ** 15n), 2n ** 15n - 1n]],
  ["u16", [0n, 2n ** 16n - 1n]],
  ["i32", [-(2n ** 31n), 2n ** 31n - 1n]],
  ["u32", [0n, 2n ** 32n - 1n]],
  ["i64", [-(2n ** 63n), 2n ** 63n - 1n]],
  ["u64", [0n, 2n ** 64n - 1n]],
]);

/** True for the eight integer types (the ones inc/dec accept). */
export function isIntegerType(type: ValueTypeName): boolean {
  return INTEGER_RANGES.has(type);
}

/** Largest value length the store accepts (`ICMAP_MAX_VALUE_LEN`). */
export const MAX_VALUE_LENGTH = 16 * 1024;

const encoder = new TextEncoder();

/**
 * The length a client sends for `value` (what icmap_check_value_len() checks): the fixed size,
 * the UTF-8 length of a string without its NUL, the byte count of a binary.
 */
export function sentLength(value: CmapValue): number {
  if (value.type === "str") return encoder.encode(value.value).length;
  if (value.type === "bin") return value.value.length;
  return FIXED_SIZE.get(value.type)!;
}

/** The `value_len` get/iter report: like {@link sentLength} but a string counts its NUL. */
export function storedLength(value: CmapValue): number {
  return sentLength(value) + (value.type === "str" ? 1 : 0);
}

/**
 * Why `value` cannot be stored, or undefined if it can. Port of icmap_check_value_len() plus
 * the checks a typed C variable gives for free (range, integrality, single precision).
 */
export function valueProblem(value: CmapValue): string | undefined {
  const range = INTEGER_RANGES.get(value.type);
  if (range !== undefined) {
    const v = value.value;
    if (typeof v === "number" && !Number.isInteger(v)) return "not an integer";
    if (typeof v !== "number" && typeof v !== "bigint") return "not an integer";
    const big = BigInt(v);
    if (big < range[0] || big > range[1]) return "out of range";
    if ((value.type === "i64" || value.type === "u64") !== (typeof v === "bigint")) {
      return "64-bit integers must be bigint, narrower ones number";
    }
    return undefined;
  }
  switch (value.type) {
    case "flt":
      return Object.is(Math.fround(value.value), value.value) || Number.isNaN(value.value)
        ? undefined
        : "not representable in single precision";
    case "dbl":
      return typeof value.value === "number" ? undefined : "not a number";
    case "str":
      if (typeof value.value !== "string" || !value.value.isWellFormed()) return "not a string";
      // A C string ends at its first NUL: a longer length is rejected by icmap.
      if (value.value.includes("\0")) return "contains a NUL character";
      break;
    case "bin":
      if (!(value.value instanceof Uint8Array)) return "not bytes";
      break;
  }
  if (sentLength(value) > MAX_VALUE_LENGTH) return `longer than ${MAX_VALUE_LENGTH} bytes`;
  return undefined;
}

/** Same type and same bytes (icmap_item_eq()); a type change is always a change. */
export function valuesEqual(a: CmapValue, b: CmapValue): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "bin") {
    const bv = b.value as Uint8Array;
    return a.value.length === bv.length && a.value.every((byte, i) => byte === bv[i]);
  }
  if (a.type === "flt" || a.type === "dbl") {
    // Bytes, not IEEE equality: NaN equals NaN, 0 differs from -0.
    return Object.is(a.value, b.value);
  }
  return a.value === b.value;
}

/** A copy that shares no mutable state with `value` (binary bytes are copied). */
export function cloneValue(value: CmapValue): CmapValue {
  return value.type === "bin" ? { type: "bin", value: value.value.slice() } : { ...value };
}
