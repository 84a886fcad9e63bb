import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { bytesToByteString, byteStringToBytes } from "../../core/byte_string.ts";
import { parseQnetdCommand, tokenize, TokenTooLongError } from "../../ipc/line_lexer.ts";

const words = (line: string) => tokenize(byteStringToBytes(line)).map(bytesToByteString);

Deno.test("tokenize() follows dynar_simple_lex quoting and whitespace rules", () => {
  const cases: [string, string[]][] = [
    ["status \n", ["status"]],
    ["  list\tverbose\v\fcluster  x\n", ["list", "verbose", "cluster", "x"]],
    ['list cluster "a b"\n', ["list", "cluster", "a b"]],
    ['list verbose cluster "a\\"b\\\\c d" \n', ["list", "verbose", "cluster", 'a"b\\c d']],
    ['"a\\qb" x\n', ["a\\qb", "x"]],
    ['st"at"us\n', ["status"]],
    ["\\status \\\\x\n", ["status", "\\x"]],
    ['"unterminated\n', ["unterminated"]],
    ["status\rverbose\n", ["status"]],
    ['list "" verbose\n', ["list", "", "verbose"]],
    ["\n", []],
    ["   \n", []],
    ["", []],
    ["tail\\", ["tail"]],
    ['"q\\', ["q"]],
    ["a\0b c\n", ["a\0b", "c"]],
    ["first\nsecond\n", ["first"]],
  ];
  for (const [line, expected] of cases) assertEquals(words(line), expected, JSON.stringify(line));
});

Deno.test("tokenize() fails like the C token buffer when a token is too long", () => {
  assertEquals(words("x".repeat(9) + "\n").length, 1);
  assertEquals(tokenize(byteStringToBytes("x".repeat(9)), 10).length, 1);
  assertThrows(() => tokenize(byteStringToBytes("x".repeat(10)), 10), TokenTooLongError);
});

Deno.test("parseQnetdCommand() parses the C commands and their error texts", () => {
  const cases: [string, unknown][] = [
    ["status\n", { name: "status", verbose: false, json: false }],
    ["STATUS VeRbOsE\n", { name: "status", verbose: true, json: false }],
    ["status garbage verbose\n", { name: "status", verbose: false, json: false }],
    ['status cluster "x"\n', { name: "status", verbose: false, json: false }],
    ["status\0 verbose\n", { name: "status", verbose: true, json: false }],
    ["shutdown now\n", { name: "shutdown" }],
    ["list\n", { name: "list", verbose: false, json: false }],
    ["list verbose cluster debian\n", {
      name: "list",
      verbose: true,
      cluster: "debian",
      json: false,
    }],
    ["list cluster a cluster b\n", { name: "list", verbose: false, cluster: "b", json: false }],
    ["list cluster\n", { name: "list", verbose: false, cluster: "", json: false }],
    ["list foo verbose\n", { name: "list", verbose: false, json: false }],
    ['list "" verbose\n', { name: "list", verbose: false, json: false }],
    ["LIST VERBOSE CLUSTER x\n", { name: "list", verbose: true, cluster: "x", json: false }],
    ["json status verbose\n", { name: "status", verbose: true, json: true }],
    ["json list cluster x\n", { name: "list", verbose: false, cluster: "x", json: true }],
    ["\n", "No command specified"],
    ["\0status\n", "No command specified"],
    ['"" status\n', "No command specified"],
    ["foo bar\n", "Unknown command 'foo'"],
    ["stat\0us\n", "Unknown command 'stat'"],
    ["shutdownx\n", "Unknown command 'shutdownx'"],
    ["\x80\xff\n", "Unknown command '\x80\xff'"],
    ["json shutdown\n", "Unknown command 'json shutdown'"],
  ];
  for (const [line, expected] of cases) {
    const result = parseQnetdCommand(tokenize(byteStringToBytes(line)));
    const actual = result.ok
      ? {
        ...result.command,
        ...("cluster" in result.command && result.command.cluster !== undefined
          ? { cluster: bytesToByteString(result.command.cluster) }
          : {}),
      }
      : result.message;
    assertEquals(actual, expected, JSON.stringify(line));
  }
});
