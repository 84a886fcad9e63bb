/**
 * The extensions of cli/getopt.ts over the glibc port: whole-word long options, operands that
 * start with `-`, and parseOptions() driven by options declared as data. The tools' own
 * optstrings, derived from their declarations, must stay the C tools' optstrings.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  type ArgsSpec,
  Getopt,
  type GetoptOptions,
  type GetoptResult,
  optstringOf,
  parseOptions,
} from "../../cli/getopt.ts";
import { TOOL_ARGS } from "../../cli/qnetd_tool.ts";
import { CMAPCTL_ARGS } from "../../cli/cmapctl.ts";
import { QNETD_OPTSTRING } from "../../cli/qnetd_args.ts";

function steps(args: string[], optstring: string, options: Partial<GetoptOptions> = {}) {
  const g = new Getopt(args, optstring, { programName: "prog", ...options });
  const all: GetoptResult[] = [];
  for (let s = g.next(); s !== undefined; s = g.next()) {
    all.push(s);
    if (all.length > 100) throw new Error("getopt did not terminate");
  }
  return { steps: all, operands: g.operands };
}

const LONG: ReadonlyMap<string, boolean> = new Map([["--json", false], ["--dir", true]]);

Deno.test("Getopt.next() returns declared long options whole, with their arguments", () => {
  deepStrictEqual(
    steps(["--json", "x", "--dir=/a", "--dir", "/b", "-v"], "v", { longOptions: LONG }),
    {
      steps: [{ opt: "--json" }, { opt: "--dir", arg: "/a" }, { opt: "--dir", arg: "/b" }, {
        opt: "v",
      }],
      operands: ["x"],
    },
  );
});

Deno.test("Getopt.next() reads an undeclared --word as short options, as glibc getopt()", () => {
  // No abbreviation, no argument for a flag: as the C tools, which have no long options.
  for (const arg of ["--js", "--json=1", "--jsonx"]) {
    deepStrictEqual(steps([arg], "v", { longOptions: LONG }).steps[0], {
      opt: "?",
      optopt: "-",
      message: "prog: invalid option -- '-'\n",
    });
  }
});

Deno.test("Getopt.next() reports long-option errors in getopt_long()'s words on request", () => {
  const strict = { longOptions: LONG, unrecognizedLong: "error" as const };
  deepStrictEqual(steps(["--nope=3"], "v", strict).steps, [
    { opt: "?", optopt: "--nope", message: "prog: unrecognized option '--nope=3'\n" },
  ]);
  deepStrictEqual(steps(["--json=1"], "v", strict).steps[0], {
    opt: "?",
    optopt: "--json",
    message: "prog: option '--json' doesn't allow an argument\n",
  });
  deepStrictEqual(steps(["--dir"], "v", strict).steps, [
    { opt: "?", optopt: "--dir", message: "prog: option '--dir' requires an argument\n" },
  ]);
  deepStrictEqual(steps(["--dir"], ":v", strict).steps, [
    { opt: ":", optopt: "--dir", message: undefined },
  ]);
});

Deno.test("Getopt.next() passes isOperand() arguments as operands, not option groups", () => {
  const isOperand = (arg: string) => /^-[0-9]/.test(arg);
  deepStrictEqual(steps(["-s", "k", "i8", "-128", "-v"], "sv", { isOperand }), {
    steps: [{ opt: "s" }, { opt: "v" }],
    operands: ["k", "i8", "-128"],
  });
  // An option's separate argument is taken as it is, operand-like or not.
  deepStrictEqual(steps(["-m", "-1"], "m:", { isOperand }).steps, [{ opt: "m", arg: "-1" }]);
});

interface Demo {
  mode: "none" | "a" | "b";
  name: string;
  count: number;
}

const DEMO: ArgsSpec<Demo> = {
  programName: "demo",
  defaults: () => ({ mode: "none", name: "default", count: 0 }),
  options: [
    { flag: "a", set: { mode: "a" } },
    { flag: "b", set: { mode: "b" } },
    { flag: "n", arg: "name", store: "name" },
    {
      flag: "c",
      arg: "count",
      apply(options, arg, warn) {
        if (!/^[0-9]+$/.test(arg)) return { exitCode: 2, stderr: `bad count ${arg}\n` };
        if (arg === "0") warn("count 0 is odd\n");
        options.count = Number(arg);
        return undefined;
      },
    },
    { flag: "h", stop: { exitCode: 0, stdout: "usage\n" } },
    { flag: "--help", stop: { exitCode: 0, stdout: "help\n" } },
  ],
  onError: (error) => ({ exitCode: 1, stderr: error.message ?? "", stdout: "usage\n" }),
  check: (options) => options.mode === "none" ? { exitCode: 1, stdout: "usage\n" } : undefined,
};

Deno.test("parseOptions() derives the optstring from the declarations", () => {
  strictEqual(optstringOf(DEMO), "abn:c:h");
  strictEqual(optstringOf({ ...DEMO, order: "require-order", silent: true }), "+:abn:c:h");
});

Deno.test("parseOptions() applies options in order; the last one wins", () => {
  deepStrictEqual(parseOptions(["-a", "x", "-bn", "N", "-c0", "--", "-a"], DEMO), {
    ok: true,
    options: { mode: "b", name: "N", count: 0 },
    operands: ["x", "-a"],
    stderr: "count 0 is odd\n",
  });
});

Deno.test("parseOptions() ends at the first stop, error or failed check, warnings first", () => {
  deepStrictEqual(parseOptions(["-c0", "-h", "-x"], DEMO), {
    ok: false,
    exitCode: 0,
    stdout: "usage\n",
    stderr: "count 0 is odd\n",
  });
  deepStrictEqual(parseOptions(["-a", "-x", "-h"], DEMO), {
    ok: false,
    exitCode: 1,
    stdout: "usage\n",
    stderr: "demo: invalid option -- 'x'\n",
  });
  deepStrictEqual(parseOptions(["-a", "-c", "1x"], DEMO), {
    ok: false,
    exitCode: 2,
    stdout: "",
    stderr: "bad count 1x\n",
  });
  deepStrictEqual(parseOptions(["--help"], DEMO), {
    ok: false,
    exitCode: 0,
    stdout: "help\n",
    stderr: "",
  });
  deepStrictEqual(parseOptions([], DEMO), {
    ok: false,
    exitCode: 1,
    stdout: "usage\n",
    stderr: "",
  });
});

Deno.test("parseOptions() gives each parse fresh defaults", () => {
  parseOptions(["-a", "-n", "changed"], DEMO);
  const again = parseOptions(["-a"], DEMO);
  strictEqual(again.ok && again.options.name, "default");
});

Deno.test("the tools' declared options give the C tools' optstrings", () => {
  // corosync-qnetd-tool.c cli_parse(): getopt(argc, argv, "Hhlsvc:p:").
  strictEqual(optstringOf(TOOL_ARGS), "Hhlsvc:p:");
  // corosync-cmapctl.c main(): getopt(argc, argv, "m:hqgsdDtTbp:C:"), plus our -P SOCKET.
  strictEqual(optstringOf(CMAPCTL_ARGS), "m:hqgsdDtTbp:C:P:");
  // corosync-qnetd.c cli_parse(): getopt(argc, argv, "46dfhvc:l:m:p:S:s:").
  strictEqual(QNETD_OPTSTRING, "46dfhvc:l:m:p:S:s:");
});
