/**
 * Parsing of `-s KEY TYPE VALUE` (and load-file) values, from set_key() in corosync
 * `tools/corosync-cmapctl.c`, with the same error texts.
 *
 * Deliberate deviations: the C tool reads numbers with `sscanf`, which makes several mistakes
 * silently succeed. These are rejected here with the C tool's own "is not valid" messages:
 *
 * - trailing garbage: `12abc` (C stores 12), `1,5` for dbl (C stores 1.0);
 * - hexadecimal or other prefixes for integers: `0x10` (C stores 0). Leading zeros stay
 *   decimal (`010` is 10, as in C);
 * - i64/u64 out of range: C saturates (`9223372036854775808` becomes the maximum); here it is
 *   `... is not valid i64 integer`, like the narrower types;
 * - negative numbers for u64: C wraps (`-5` becomes 18446744073709551611); rejected.
 *
 * Kept from C: leading whitespace and `+`, float exponents, hexadecimal floats (`0x1p3`),
 * `inf`/`infinity`/`nan` in any case, single-precision rounding and overflow of `flt`
 * (`1e40` is `inf`, `16777217` is 16777216).
 *
 * @module
 */
import { type CmapValue, INTEGER_RANGES, isValueTypeName, type ValueTypeName } from "./value.ts";

/** The outcome of parsing a value: the value, or the message the C tool prints. */
export type ParsedValue =
  | { readonly ok: true; readonly value: CmapValue }
  | { readonly ok: false; readonly message: string };

const LEADING_SPACE = /^[ \t\n\v\f\r]*/;
const INTEGER = /^[+-]?[0-9]+$/;
const DECIMAL_FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** A C-style floating point literal as a double, or undefined. */
export function parseFloatLiteral(text: string): number | undefined {
  if (DECIMAL_FLOAT.test(text)) return Number(text);
  const special = SPECIAL_FLOAT.exec(text);
  if (special !== null) {
    const magnitude = special[2]!.toLowerCase() === "nan" ? NaN : Infinity;
    return special[1] === "-" ? -magnitude : magnitude;
  }
  const hex = HEX_FLOAT.exec(text);
  if (hex === null) return undefined;
  const [, sign, whole = "", fraction = "", exponent = "0"] = hex;
  if (whole === "" && fraction === "") return undefined;
  const mantissa = BigInt(`0x${whole}${fraction}`);
  const magnitude = Number(mantissa) * 2 ** (Number(exponent) - 4 * fraction.length);
  return sign === "-" ? -magnitude : magnitude;
}

/**
 * Parses `text` as a value of cmapctl type `typeName` (bin excluded: its value names a file).
 * Messages: `Unknown type T`, `V is not valid T type value`, `V is not valid T integer`.
 */
export function parseValue(typeName: string, text: string): ParsedValue {
  if (!isValueTypeName(typeName)) return { ok: false, message: `Unknown type ${typeName}` };
  const type: ValueTypeName = typeName;
  const notValid = { ok: false, message: `${text} is not valid ${type} type value` } as const;
  const body = text.replace(LEADING_SPACE, "");
  const range = INTEGER_RANGES.get(type);
  if (range !== undefined) {
    if (!INTEGER.test(body)) return notValid;
    const n = BigInt(body);
    if (n < range[0] || n > range[1]) {
      return { ok: false, message: `${text} is not valid ${type} integer` };
    }
    return type === "i64" || type === "u64"
      ? { ok: true, value: { type, value: n } }
      : { ok: true, value: { type: type as "u8", value: Number(n) } };
  }
  switch (type) {
    case "flt":
    case "dbl": {
      const x = parseFloatLiteral(body);
      if (x === undefined) return notValid;
      return { ok: true, value: { type, value: type === "flt" ? Math.fround(x) : x } };
    }
    case "str":
      return { ok: true, value: { type, value: text } };
    default:
      return { ok: false, message: `A ${type} value is read from a file, not parsed` };
  }
}
