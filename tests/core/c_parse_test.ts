import { strictEqual } from "node:assert/strict";
import { asciiEqualsIgnoreCase, parseBoolStr, strtod, strtonum } from "../../core/c_parse.ts";

const LLONG_MAX = 2n ** 63n - 1n;

const STRTONUM: Array<[text: string, min: bigint, max: bigint, expected: bigint | undefined]> = [
  ["80", 1n, 65535n, 80n],
  ["+80", 1n, 65535n, 80n],
  [" \t80", 1n, 65535n, 80n], // strtoll skips leading white space
  ["080", 1n, 65535n, 80n], // base 10, not octal
  ["80 ", 1n, 65535n, undefined], // trailing characters
  ["0x50", 1n, 65535n, undefined],
  ["", 1n, 65535n, undefined],
  ["+", 1n, 65535n, undefined],
  ["-", 0n, 1n, undefined],
  ["1.0", 1n, 65535n, undefined],
  ["0", 1n, 65535n, undefined],
  ["1", 1n, 65535n, 1n],
  ["65535", 1n, 65535n, 65535n],
  ["65536", 1n, 65535n, undefined],
  ["-0", 0n, 1n, 0n],
  ["-1", 0n, LLONG_MAX, undefined],
  ["9223372036854775807", 0n, LLONG_MAX, LLONG_MAX],
  ["9223372036854775808", 0n, LLONG_MAX, undefined], // ERANGE
  ["-9223372036854775809", -LLONG_MAX - 1n, 0n, undefined], // ERANGE
  ["5", 6n, 1n, undefined], // min > max
];

for (const [text, min, max, expected] of STRTONUM) {
  Deno.test(`strtonum() parses ${JSON.stringify(text)} in ${min}..${max} as ${expected}`, () => {
    strictEqual(strtonum(text, min, max), expected);
  });
}

const STRTOD: Array<[text: string, expected: number | undefined]> = [
  ["1.5", 1.5],
  ["1", 1],
  ["1000", 1000],
  ["1e3", 1000],
  [" 2", 2],
  ["+2.", 2],
  [".5e1", 5],
  ["0x1p1", 2],
  ["0X1.8", 1.5],
  ["0x.8p2", 2],
  ["0x", undefined],
  ["1e", undefined],
  ["1000.1", undefined],
  ["0.999", undefined],
  ["nan", undefined],
  ["NAN(123)", undefined],
  ["inf", undefined],
  ["-1.5", undefined],
  ["", undefined],
  ["2 ", undefined],
  ["1,5", undefined],
  ["1e400", undefined],
];

for (const [text, expected] of STRTOD) {
  Deno.test(`strtod() parses ${JSON.stringify(text)} in 1..1000 as ${expected}`, () => {
    strictEqual(strtod(text, 1, 1000), expected);
  });
}

Deno.test("strtod() accepts infinity and rejects overflow and underflow like glibc", () => {
  strictEqual(strtod("-Infinity", -Infinity, 0), -Infinity);
  strictEqual(strtod("1e400", -Infinity, Infinity), undefined);
  strictEqual(strtod("1e-400", 0, 1), undefined);
  strictEqual(strtod("0e-400", 0, 1), 0);
  strictEqual(strtod("0x0p0", 0, 1), 0);
});

Deno.test("parseBoolStr() accepts yes/on/1 and no/off/0 in any case", () => {
  for (const t of ["yes", "ON", "On", "1"]) strictEqual(parseBoolStr(t), true);
  for (const t of ["no", "OFF", "nO", "0"]) strictEqual(parseBoolStr(t), false);
  for (const t of ["", "true", "y", " on", "01", "2"]) strictEqual(parseBoolStr(t), undefined);
});

Deno.test("asciiEqualsIgnoreCase() folds ASCII letters only", () => {
  strictEqual(asciiEqualsIgnoreCase("Listen_Backlog", "listen_BACKLOG"), true);
  strictEqual(asciiEqualsIgnoreCase("\u0130", "i"), false); // no Unicode folding
});
