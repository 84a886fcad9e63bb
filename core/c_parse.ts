/**
 * The value parsers the C tools use for command-line and `-S` values: whole-string integers
 * and doubles with a range, and on/off booleans. They reproduce what glibc's `strtoll()` and
 * `strtod()` accept in the C locale (leading white space, a sign, hex floats, ...), because
 * an operator's existing command line must keep its meaning.
 *
 * @module
 */

/** C `isspace()` in the C locale. */
function isCSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\v" || ch === "\f" || ch === "\r";
}

/** ASCII-only lower case, like `strcasecmp()` in the C locale (no Unicode folding). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** `strcasecmp(a, b) == 0` in the C locale. */
export function asciiEqualsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && asciiLower(a) === asciiLower(b);
}

/** Skips leading C white space and an optional sign; returns the sign and the rest. */
function splitSign(text: string): { negative: boolean; rest: string } {
  let i = 0;
  while (isCSpace(text[i])) i++;
  const sign = text[i];
  if (sign === "+" || sign === "-") return { negative: sign === "-", rest: text.slice(i + 1) };
  return { negative: false, rest: text.slice(i) };
}

const LLONG_MIN = -(2n ** 63n);
const LLONG_MAX = 2n ** 63n - 1n;

/**
 * Port of utils_strtonum() in qdevices/utils.c: `strtoll(str, base 10)` must consume the whole
 * string, not overflow a `long long`, and land in `min..max`.
 *
 * @returns the value, or `undefined` when the C function returns -1
 */
export function strtonum(text: string, min: bigint, max: bigint): bigint | undefined {
  if (min > max) return undefined;
  const { negative, rest } = splitSign(text);
  if (!/^[0-9]+$/.test(rest)) return undefined; // no digits, or trailing garbage
  const magnitude = BigInt(rest);
  const value = negative ? -magnitude : magnitude;
  if (value < LLONG_MIN || value > LLONG_MAX) return undefined; // ERANGE
  return value >= min && value <= max ? value : undefined;
}

const DECIMAL_FLOAT = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT =
  /^0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?$/;
const INFINITY = /^(?:inf|infinity)$/i;
const NOT_A_NUMBER = /^nan(?:\([0-9A-Za-z_]*\))?$/i;

/** glibc `strtod()` on a whole string, without the sign; `undefined` if it would not consume it. */
function strtodUnsigned(text: string): number | undefined {
  if (DECIMAL_FLOAT.test(text)) return Number(text);
  const hex = HEX_FLOAT.exec(text);
  if (hex !== null) {
    const whole = hex[1] ?? "";
    const fraction = hex[2] ?? hex[3] ?? "";
    const mantissa = BigInt(`0x${whole}${fraction}`);
    if (mantissa === 0n) return 0;
    const exponent = Number(hex[4] ?? "0") - 4 * fraction.length;
    return Number(mantissa) * 2 ** exponent;
  }
  if (INFINITY.test(text)) return Infinity;
  if (NOT_A_NUMBER.test(text)) return NaN;
  return undefined;
}

/**
 * Port of utils_strtod() in qdevices/utils.c: `strtod()` must consume the whole string, not
 * overflow or underflow (ERANGE), and land in `min..max`; NaN is rejected.
 *
 * @returns the value, or `undefined` when the C function returns -1
 */
export function strtod(text: string, min: number, max: number): number | undefined {
  if (min > max) return undefined;
  const { negative, rest } = splitSign(text);
  const magnitude = strtodUnsigned(rest);
  if (magnitude === undefined) return undefined;
  const literalIsInfinite = INFINITY.test(rest);
  if (magnitude === Infinity && !literalIsInfinite) return undefined; // overflow: ERANGE
  if (magnitude !== 0 && magnitude < 2 ** -1022 && !Number.isNaN(magnitude)) return undefined; // underflow
  if (magnitude === 0 && !/^[0.xX]*(?:[eEpP].*)?$/.test(rest)) return undefined; // underflow to 0
  const value = negative ? -magnitude : magnitude;
  if (Number.isNaN(value) || value < min || value > max) return undefined;
  return value;
}

/**
 * Port of utils_parse_bool_str() in qdevices/utils.c: `yes`/`on`/`1` and `no`/`off`/`0`,
 * case-insensitively.
 *
 * @returns the boolean, or `undefined` for anything else (C returns -1)
 */
export function parseBoolStr(text: string): boolean | undefined {
  const lower = asciiLower(text);
  if (lower === "yes" || lower === "on" || lower === "1") return true;
  if (lower === "no" || lower === "off" || lower === "0") return false;
  return undefined;
}
