import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { escapeBinary, formatFixed6, formatKeyLine } from "../../core/cmap/format.ts";
import { parseLoadFile } from "../../core/cmap/load_file.ts";
import { parseFloatLiteral, parseValue } from "../../core/cmap/parse_value.ts";
import { BIN1, BIN1_SHOWN } from "../support/mod.ts";

const te = (s: string) => new TextEncoder().encode(s);

Deno.test("formatFixed6() matches C printf %f", () => {
  const cases: [number, string][] = [
    [3.14159, "3.141590"],
    [Math.fround(3.14159), "3.141590"],
    [0.1, "0.100000"],
    [Math.fround(0.1), "0.100000"],
    [-0.5, "-0.500000"],
    [-0, "-0.000000"],
    [0, "0.000000"],
    [1e-7, "0.000000"],
    [5e-7, "0.000000"],
    [4e-7, "0.000000"],
    [6e-7, "0.000001"],
    [0.0000025, "0.000003"],
    [123456789.123456789, "123456789.123457"],
    [2.718281828459045, "2.718282"],
    [16777216, "16777216.000000"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
    [5e-324, "0.000000"],
    [1.5, "1.500000"],
    [0.0000015, "0.000002"],
  ];
  for (const [x, text] of cases) assertEquals(formatFixed6(x), text, String(x));
  assertEquals(formatFixed6(1e300).length, 301 + 7);
  assertEquals(formatFixed6(1e300).slice(0, 20), "10000000000000000525");
});

Deno.test("escapeBinary() reproduces print_binary_key() including sign extension", () => {
  assertEquals(
    escapeBinary(BIN1),
    BIN1_SHOWN,
  );
  assertEquals(escapeBinary(new Uint8Array(0)), "");
});

Deno.test("formatKeyLine() prints every form of print_key()", () => {
  const plain = { showBinary: false, quiet: false };
  const bin = { type: "bin", value: te("hi") } as const;
  assertEquals(
    formatKeyLine("k.a", { type: "u64", value: 2n ** 64n - 1n }, plain),
    "k.a (u64) = 18446744073709551615\n",
  );
  assertEquals(
    formatKeyLine("k.a", { type: "i8", value: -128 }, { showBinary: false, quiet: true }),
    "-128\n",
  );
  assertEquals(formatKeyLine("k.a", bin, plain), "k.a (bin)\n");
  assertEquals(formatKeyLine("k.a", bin, { showBinary: true, quiet: false }), "k.a (bin) = hi\n");
  assertEquals(formatKeyLine("k.a", bin, { showBinary: false, quiet: true }), "bin)\n");
  assertEquals(formatKeyLine("k.a", bin, { showBinary: true, quiet: true }), "bin) = hi\n");
  assertEquals(
    formatKeyLine("k.a", { type: "bin", value: new Uint8Array(0) }, {
      showBinary: true,
      quiet: false,
    }),
    "k.a (bin) = \n",
  );
});

Deno.test("parseValue() is strict where sscanf was lax", () => {
  assertEquals(parseValue("i32", "12abc"), {
    ok: false,
    message: "12abc is not valid i32 type value",
  });
  assertEquals(parseValue("u32", "0x10"), {
    ok: false,
    message: "0x10 is not valid u32 type value",
  });
  assertEquals(parseValue("i32", "12 "), { ok: false, message: "12  is not valid i32 type value" });
  assertEquals(parseValue("i32", ""), { ok: false, message: " is not valid i32 type value" });
  assertEquals(parseValue("i64", "-9223372036854775809"), {
    ok: false,
    message: "-9223372036854775809 is not valid i64 integer",
  });
  assertEquals(parseValue("u64", "-1"), { ok: false, message: "-1 is not valid u64 integer" });
  assertEquals(parseValue("u8", "-1"), { ok: false, message: "-1 is not valid u8 integer" });
  assertEquals(parseValue("i32", "\t+42"), { ok: true, value: { type: "i32", value: 42 } });
  assertEquals(parseValue("i64", "-9223372036854775808"), {
    ok: true,
    value: { type: "i64", value: -(2n ** 63n) },
  });
  assertEquals(parseValue("str", " a b "), { ok: true, value: { type: "str", value: " a b " } });
  assertEquals(parseValue("Str", "x"), { ok: false, message: "Unknown type Str" });
});

Deno.test("parseFloatLiteral() reads C float syntax", () => {
  const cases: [string, number | undefined][] = [
    ["1.5", 1.5],
    ["-1e-3", -0.001],
    [".5", 0.5],
    ["5.", 5],
    ["+2E2", 200],
    ["0x1p3", 8],
    ["0x.8", 0.5],
    ["-0X1.8P1", -3],
    ["inf", Infinity],
    ["-Infinity", -Infinity],
    ["1,5", undefined],
    ["0x", undefined],
    ["e5", undefined],
    ["1e", undefined],
    ["nanx", undefined],
  ];
  for (const [text, value] of cases) assertEquals(parseFloatLiteral(text), value, text);
  assertEquals(Number.isNaN(parseFloatLiteral("NAN")), true);
  assertEquals(parseValue("flt", "1e40"), { ok: true, value: { type: "flt", value: Infinity } });
});

Deno.test("parseLoadFile() splits lines like read_in_config_file()", () => {
  const parsed = parseLoadFile(te("# c\n\t \n  k.a u8 1 extra\n^k.b x\n^^k.c\nk.d\tu8 1\nk.e str"));
  assertEquals(parsed.ok, false);
  const ok = parseLoadFile(te("# c\n\t \n  k.a u8 1 extra\n^k.b x\n^^k.c\nk.e  str   two\n"));
  assertEquals(ok, {
    ok: true,
    lines: [
      { kind: "set", line: 3, key: "k.a", type: "u8", value: "1" },
      { kind: "delete", line: 4, key: "k.b" },
      { kind: "deletePrefix", line: 5, prefix: "k.c" },
      { kind: "set", line: 6, key: "k.e", type: "str", value: "two" },
    ],
  });
  assertEquals(parseLoadFile(te(`k.a str ${"x".repeat(1015)}`)).ok, true);
  assertEquals(parseLoadFile(te(`k.a str ${"x".repeat(1016)}`)), {
    ok: false,
    message: "Line 1 is longer than 1023 bytes",
  });
  assertEquals(parseLoadFile(te("^\n")), { ok: false, message: "Line 1: '^' needs a key name" });
});
