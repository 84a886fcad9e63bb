/**
 * How corosync-cmapctl prints values and key lines (print_key() and print_binary_key() in
 * corosync `tools/corosync-cmapctl.c`), byte for byte.
 *
 * @module
 */
import type { CmapValue, ValueTypeName } from "./value.ts";

/**
 * C `printf("%f")` of a double: exactly rounded (ties to even, as glibc does) to six decimals,
 * never an exponent (`1e300` prints all 301 digits), `inf`, `-inf`, `nan`, `-0.000000`.
 */
export function formatFixed6(x: number): string {
  if (Number.isNaN(x)) return "nan";
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return negative ? "-inf" : "inf";
  // Exact binary decomposition: |x| = mantissa * 2^exponent.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * 1_000_000n;
  } else {
    const numerator = mantissa * 1_000_000n;
    const denominator = 1n << BigInt(-exponent);
    scaled = numerator / denominator;
    const twice = (numerator % denominator) * 2n;
    if (twice > denominator || (twice === denominator && scaled % 2n === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

/**
 * print_binary_key(): printable ASCII except `\` as is, `\` doubled, every other byte as `\x`
 * and two uppercase hex digits. Bytes 0x80-0xFF come out as `\xFFFFFF80`...`\xFFFFFFFF`: the C
 * code formats a signed `char`, which sign-extends. Kept for byte compatibility with scripts.
 */
export function escapeBinary(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) out += String.fromCharCode(byte);
    else if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x80) out += `\\xFFFFFF${byte.toString(16).toUpperCase()}`;
    else out += `\\x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A value as print_key() shows it after ` = ` (binary escaped; shown only with `-b`). */
export function formatValue(value: CmapValue): string {
  switch (value.type) {
    case "flt":
    case "dbl":
      return formatFixed6(value.value);
    case "str":
      return value.value;
    case "bin":
      return escapeBinary(value.value);
    default:
      return value.value.toString();
  }
}

/** The printing options of corosync-cmapctl. */
export interface PrintOptions {
  /** `-b`: show binary values. */
  readonly showBinary: boolean;
  /** `-q`: values only. */
  readonly quiet: boolean;
}

/**
 * One print_key() line, newline included: `key (type) = value`, or the value alone with `-q`.
 * A binary without `-b` is `key (bin)`. With `-q` a binary prints `bin)` / `bin) = ...`: the
 * C tool skips only the `key (` part for it; kept, as scripts may rely on the exact bytes.
 */
export function formatKeyLine(key: string, value: CmapValue, options: PrintOptions): string {
  const type: ValueTypeName = value.type;
  if (type === "bin") {
    const head = options.quiet ? "bin)" : `${key} (bin)`;
    return options.showBinary ? `${head} = ${formatValue(value)}\n` : `${head}\n`;
  }
  return options.quiet ? `${formatValue(value)}\n` : `${key} (${type}) = ${formatValue(value)}\n`;
}
