import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Getopt, type GetoptResult } from "../../cli/getopt.ts";

const QNETD = "46dfhvc:l:m:p:S:s:";

/** Runs getopt to the end (as a C loop that does not exit on '?') and returns every step. */
function runAll(
  args: string[],
  optstring = QNETD,
  posixlyCorrect = false,
): { steps: GetoptResult[]; operands: readonly string[] } {
  const g = new Getopt(args, optstring, { programName: "prog", posixlyCorrect });
  const steps: GetoptResult[] = [];
  for (let s = g.next(); s !== undefined; s = g.next()) {
    steps.push(s);
    if (steps.length > 100) throw new Error("getopt did not terminate");
  }
  return { steps, operands: g.operands };
}

const invalid = (c: string): GetoptResult => ({
  opt: "?",
  optopt: c,
  message: `prog: invalid option -- '${c}'\n`,
});
const missing = (c: string): GetoptResult => ({
  opt: "?",
  optopt: c,
  message: `prog: option requires an argument -- '${c}'\n`,
});

const TABLE: Array<{
  name: string;
  args: string[];
  optstring?: string;
  posixlyCorrect?: boolean;
  steps: GetoptResult[];
  operands?: string[];
}> = [
  { name: "no arguments", args: [], steps: [] },
  { name: "single flags", args: ["-4", "-f"], steps: [{ opt: "4" }, { opt: "f" }] },
  { name: "grouped flags", args: ["-dd"], steps: [{ opt: "d" }, { opt: "d" }] },
  {
    name: "group ending in an option with attached argument",
    args: ["-dfp80"],
    steps: [{ opt: "d" }, { opt: "f" }, { opt: "p", arg: "80" }],
  },
  {
    name: "group ending in an option with separate argument",
    args: ["-fp", "80"],
    steps: [{ opt: "f" }, { opt: "p", arg: "80" }],
  },
  { name: "attached argument", args: ["-p5403"], steps: [{ opt: "p", arg: "5403" }] },
  {
    name: "separate argument that looks like an option",
    args: ["-p", "-5"],
    steps: [{ opt: "p", arg: "-5" }],
  },
  { name: "separate argument that is --", args: ["-l", "--"], steps: [{ opt: "l", arg: "--" }] },
  { name: "empty separate argument", args: ["-l", ""], steps: [{ opt: "l", arg: "" }] },
  { name: "missing argument", args: ["-p"], steps: [missing("p")] },
  { name: "missing argument after flags", args: ["-fS"], steps: [{ opt: "f" }, missing("S")] },
  { name: "invalid option", args: ["-x"], steps: [invalid("x")] },
  { name: "colon is never an option", args: ["-:"], steps: [invalid(":")] },
  {
    name: "invalid option inside a group, parsing goes on",
    args: ["-fxd"],
    steps: [{ opt: "f" }, invalid("x"), { opt: "d" }],
  },
  {
    name: "--word is a group of short options starting with '-'",
    args: ["--fd"],
    steps: [invalid("-"), { opt: "f" }, { opt: "d" }],
  },
  {
    name: "-- ends options",
    args: ["-f", "--", "-x", "a"],
    steps: [{ opt: "f" }],
    operands: ["-x", "a"],
  },
  {
    name: "non-options are skipped and later options parsed (GNU permutation)",
    args: ["extra", "-f", "more", "-p", "1"],
    steps: [{ opt: "f" }, { opt: "p", arg: "1" }],
    operands: ["extra", "more"],
  },
  { name: "a lone '-' is a non-option", args: ["-", "-d"], steps: [{ opt: "d" }], operands: ["-"] },
  {
    name: "POSIXLY_CORRECT stops at the first non-option",
    args: ["-f", "extra", "-x"],
    posixlyCorrect: true,
    steps: [{ opt: "f" }],
    operands: ["extra", "-x"],
  },
  {
    name: "'+' in the optstring stops at the first non-option",
    args: ["a", "-f"],
    optstring: "+f",
    steps: [],
    operands: ["a", "-f"],
  },
  {
    name: "'-' in the optstring returns non-options in order",
    args: ["a", "-f", "b"],
    optstring: "-f",
    steps: [{ opt: "\x01", arg: "a" }, { opt: "f" }, { opt: "\x01", arg: "b" }],
    operands: ["a", "b"],
  },
  {
    name: "':' in the optstring silences messages and reports a missing argument as ':'",
    args: ["-x", "-p"],
    optstring: ":p:",
    steps: [
      { opt: "?", optopt: "x", message: undefined },
      { opt: ":", optopt: "p", message: undefined },
    ],
  },
  {
    name: "optional argument is taken only when attached",
    args: ["-oval", "-o", "next"],
    optstring: "o::",
    steps: [{ opt: "o", arg: "val" }, { opt: "o" }],
    operands: ["next"],
  },
];

for (const row of TABLE) {
  Deno.test(`Getopt.next() handles ${row.name}`, () => {
    const { steps, operands } = runAll(row.args, row.optstring, row.posixlyCorrect);
    deepStrictEqual(steps, row.steps);
    deepStrictEqual(operands, row.operands ?? []);
  });
}

Deno.test("Getopt.next() prefixes messages with argv[0] as given", () => {
  const g = new Getopt(["-x"], QNETD, { programName: "/usr/bin/corosync-qnetd" });
  const step = g.next();
  strictEqual(
    step !== undefined && "message" in step ? step.message : "",
    "/usr/bin/corosync-qnetd: invalid option -- 'x'\n",
  );
});

Deno.test("Getopt.next() keeps returning undefined once done", () => {
  const g = new Getopt(["-f"], QNETD, { programName: "p" });
  deepStrictEqual(g.next(), { opt: "f" });
  strictEqual(g.next(), undefined);
  strictEqual(g.next(), undefined);
});
