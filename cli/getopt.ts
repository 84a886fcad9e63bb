/**
 * The one option parser of every tool: a port of glibc's `getopt()`, driven by the C tools' own
 * optstrings so
 * our command lines accept and reject exactly what theirs do: grouped flags (`-dd`, `-dfp80`),
 * attached or separate arguments (`-p80`, `-p 80`, even `-p -5`), `--` ending the options, and
 * GNU argument permutation: by default non-option arguments anywhere are skipped and options
 * after them still parsed (checked against the real `corosync-qnetd`). `+` at the start of the
 * optstring, or `posixlyCorrect` (glibc's POSIXLY_CORRECT), stops at the first non-option
 * instead; `-` returns non-options in order as option `"\x01"`; `:` silences messages.
 *
 * Messages are returned, not printed, in glibc's words:
 * `<argv0>: invalid option -- 'x'` and `<argv0>: option requires an argument -- 'x'`.
 *
 * Extended for the few long options of our own (`--json`, `--help`, ...), which the C tools do
 * not have: a long option is matched whole (`--name`, or `--name=value` / `--name value` when
 * it takes an argument), never abbreviated. By default any other `--word` is read as glibc
 * `getopt()` reads it, as short options (`invalid option -- '-'`), so the C tools' messages
 * stay; `unrecognizedLong: "error"` reports it in `getopt_long()`'s words instead.
 *
 * On top of the port, {@link parseOptions} lets a tool declare its options once, as data (a
 * table of {@link OptionDecl}, in the manner of std's `cli/parse_args.ts`), derives the
 * optstring from them and returns one result shape, {@link ArgsResult}, for every tool.
 *
 * @example Declaring options
 * ```ts
 * import { parseOptions } from "./getopt.ts";
 *
 * interface Opts { list: boolean; socket: string; json: boolean }
 * const result = parseOptions(["-l", "-p", "/run/x.sock", "--json"], {
 *   programName: "tool",
 *   defaults: (): Opts => ({ list: false, socket: "/run/default.sock", json: false }),
 *   options: [
 *     { flag: "l", set: { list: true } },
 *     { flag: "p", arg: "path", store: "socket" },
 *     { flag: "--json", set: { json: true } },
 *   ],
 *   onError: (error) => ({ exitCode: 1, stderr: error.message ?? "" }),
 * });
 * if (result.ok) console.log(result.options.socket); // "/run/x.sock"
 * ```
 *
 * @module
 */

/** A step of option parsing that is an error: `opt` is `"?"`, or `":"` for a missing argument under `:`. */
export interface GetoptError {
  readonly opt: "?" | ":";
  /** The offending option character (C `optopt`), or the long option's `--name`. */
  readonly optopt: string;
  /** The line glibc prints on stderr (with newline); `undefined` when silenced by `:`. */
  readonly message: string | undefined;
}

/**
 * One step of option parsing: an option (`opt` is its character, or `--name` for a long
 * option), or an error.
 */
export type GetoptResult =
  | { readonly opt: string; readonly arg?: string }
  | GetoptError;

/** True when a step is an error rather than an option. */
export function isGetoptError(step: GetoptResult): step is GetoptError {
  return "optopt" in step;
}

/** Options for `Getopt`. */
export interface GetoptOptions {
  /** argv[0] as glibc prints it in messages (the path as invoked, not the basename). */
  readonly programName: string;
  /** Behave as with POSIXLY_CORRECT set in the environment: stop at the first non-option. */
  readonly posixlyCorrect?: boolean;
  /** Long options, `--name` mapped to whether it takes an argument; matched whole. */
  readonly longOptions?: ReadonlyMap<string, boolean>;
  /**
   * What an undeclared `--word` is: `"short-options"` (default) reads it as glibc `getopt()`
   * does, as a group of short options starting with `-`; `"error"` reports it as glibc
   * `getopt_long()` does (`unrecognized option '--word'`).
   */
  readonly unrecognizedLong?: "short-options" | "error";
  /**
   * Arguments that start with `-` and are yet operands (e.g. cmapctl's negative numbers);
   * they are handled as any non-option argument.
   */
  readonly isOperand?: (arg: string) => boolean;
}

type Ordering = "permute" | "require-order" | "return-in-order";

/** True for arguments that are not options: anything not starting with `-`, and `-` itself. */
function isNonOption(arg: string): boolean {
  return !arg.startsWith("-") || arg === "-";
}

/**
 * Port of glibc `getopt()` (posix/getopt.c, `_getopt_internal_r` without long options).
 * Call `next()` until it returns `undefined`, handling each option as it comes: the C tools act
 * on options in order and exit at the first bad one, so later errors are never reported.
 */
export class Getopt {
  readonly #args: readonly string[];
  readonly #optstring: string;
  readonly #ordering: Ordering;
  readonly #printErrors: boolean;
  readonly #programName: string;
  readonly #longOptions: ReadonlyMap<string, boolean>;
  readonly #unrecognizedLong: "short-options" | "error";
  readonly #isOperand: ((arg: string) => boolean) | undefined;
  /** Index of the next argument to look at (C `optind`, minus one: we get args without argv[0]). */
  #optind = 0;
  /** Rest of the current option group (C `__nextchar`); "" when a new argument is needed. */
  #nextchar = "";
  readonly #operands: string[] = [];
  #done = false;

  constructor(args: readonly string[], optstring: string, options: GetoptOptions) {
    this.#args = args;
    this.#programName = options.programName;
    this.#longOptions = options.longOptions ?? new Map();
    this.#unrecognizedLong = options.unrecognizedLong ?? "short-options";
    this.#isOperand = options.isOperand;
    let spec = optstring;
    if (spec.startsWith("-")) {
      this.#ordering = "return-in-order";
      spec = spec.slice(1);
    } else if (spec.startsWith("+")) {
      this.#ordering = "require-order";
      spec = spec.slice(1);
    } else {
      this.#ordering = options.posixlyCorrect === true ? "require-order" : "permute";
    }
    this.#printErrors = !spec.startsWith(":");
    this.#optstring = spec;
  }

  /** Non-option arguments seen so far (all of them once `next()` has returned `undefined`). */
  get operands(): readonly string[] {
    return this.#operands;
  }

  /** The next option, or `undefined` when options are exhausted (C `getopt()` returning -1). */
  next(): GetoptResult | undefined {
    if (this.#done) return undefined;
    const args = this.#args;
    if (this.#nextchar === "") {
      if (this.#ordering === "permute") {
        while (this.#optind < args.length && this.#isNonOption(args[this.#optind]!)) {
          this.#operands.push(args[this.#optind++]!);
        }
      }
      if (args[this.#optind] === "--") {
        this.#optind++;
        return this.#finish();
      }
      const arg = args[this.#optind];
      if (arg === undefined) return this.#finish();
      if (this.#isNonOption(arg)) {
        if (this.#ordering === "require-order") return this.#finish();
        this.#optind++;
        this.#operands.push(arg);
        return { opt: "\x01", arg };
      }
      if (arg.startsWith("--")) {
        const long = this.#long(arg);
        if (long !== undefined) return long;
      }
      this.#nextchar = arg.slice(1);
    }

    const c = String.fromCodePoint(this.#nextchar.codePointAt(0)!);
    this.#nextchar = this.#nextchar.slice(c.length);
    if (this.#nextchar === "") this.#optind++;

    const at = this.#optstring.indexOf(c);
    if (at < 0 || c === ":" || c === ";") {
      return { opt: "?", optopt: c, message: this.#message("invalid option", c) };
    }
    if (this.#optstring[at + 1] !== ":") return { opt: c };

    if (this.#optstring[at + 2] === ":") { // optional argument: only attached
      const attached = this.#nextchar;
      if (attached !== "") this.#optind++;
      this.#nextchar = "";
      return attached === "" ? { opt: c } : { opt: c, arg: attached };
    }
    if (this.#nextchar !== "") {
      const attached = this.#nextchar;
      this.#optind++;
      this.#nextchar = "";
      return { opt: c, arg: attached };
    }
    const separate = args[this.#optind];
    if (separate === undefined) {
      return {
        opt: this.#printErrors ? "?" : ":",
        optopt: c,
        message: this.#message("option requires an argument", c),
      };
    }
    this.#optind++;
    return { opt: c, arg: separate };
  }

  #isNonOption(arg: string): boolean {
    return isNonOption(arg) || this.#isOperand?.(arg) === true;
  }

  /**
   * `arg` (at optind, starting with `--`) as a declared long option, an error in
   * `getopt_long()`'s words, or `undefined` to read it as short options.
   */
  #long(arg: string): GetoptResult | undefined {
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const takesArg = this.#longOptions.get(name);
    if (takesArg === undefined || (!takesArg && inline !== undefined)) {
      if (this.#unrecognizedLong === "short-options") return undefined;
      this.#optind++;
      const what = takesArg === undefined
        ? `unrecognized option '${arg}'`
        : `option '${name}' doesn't allow an argument`;
      return { opt: "?", optopt: name, message: this.#line(what) };
    }
    this.#optind++;
    if (!takesArg) return { opt: name };
    if (inline !== undefined) return { opt: name, arg: inline };
    const separate = this.#args[this.#optind];
    if (separate === undefined) {
      return {
        opt: this.#printErrors ? "?" : ":",
        optopt: name,
        message: this.#line(`option '${name}' requires an argument`),
      };
    }
    this.#optind++;
    return { opt: name, arg: separate };
  }

  #finish(): undefined {
    this.#operands.push(...this.#args.slice(this.#optind));
    this.#optind = this.#args.length;
    this.#done = true;
    return undefined;
  }

  #message(what: string, c: string): string | undefined {
    return this.#line(`${what} -- '${c}'`);
  }

  #line(text: string): string | undefined {
    return this.#printErrors ? `${this.#programName}: ${text}\n` : undefined;
  }
}

/** Where parsing ends instead of giving options: what to print, and the exit code. */
export interface ArgsStop {
  readonly exitCode: number;
  /** Printed on stdout (after stderr: the C tools print getopt's message, then the usage). */
  readonly stdout?: string;
  readonly stderr?: string;
}

/**
 * The one result shape of every tool's command line: the options to run with, or what to
 * print and the exit code to return. The caller prints `stderr`, then `stdout`.
 */
export type ArgsResult<T> =
  | {
    readonly ok: true;
    readonly options: T;
    /** Non-option arguments, in order. */
    readonly operands: readonly string[];
    /** Warnings already due on stderr (possibly ""). */
    readonly stderr: string;
  }
  | {
    readonly ok: false;
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
  };

/** The keys of `T` whose values may be a string: targets of {@link OptionDecl.store}. */
export type StringField<T> = { [K in keyof T]-?: string extends T[K] ? K : never }[keyof T];

/**
 * One option, declared once. Its effects are applied in this order: `set`, `store`, then
 * `stop` or `apply` (whose {@link ArgsStop} ends parsing).
 */
export interface OptionDecl<T> {
  /** `"p"` for `-p`, or `"--json"` for a long option of our own. */
  readonly flag: string;
  /** The argument's name, for the reader (`"path"`): the option takes an argument. */
  readonly arg?: string;
  /** Fields the option sets, as data (`{ operation: "list" }`). */
  readonly set?: Partial<T>;
  /** The field that receives the argument as given. */
  readonly store?: StringField<T>;
  /** The option ends parsing with this (`-h`: the usage and an exit code). */
  readonly stop?: ArgsStop;
  /**
   * Anything else: checks or converts the argument (empty for an option without one) into
   * `options`; returns an {@link ArgsStop} to end parsing. `warn` adds a line to stderr.
   */
  readonly apply?: (options: T, arg: string, warn: (line: string) => void) => ArgsStop | void;
}

/** A tool's command line: its options as data, and what it does where getopt gives up. */
export interface ArgsSpec<T> {
  /** argv[0] as glibc prints it in messages. */
  readonly programName: string;
  /** The options; the optstring is derived from them ({@link optstringOf}). */
  readonly options: readonly OptionDecl<T>[];
  /** The options before any argument is read: a fresh object for each parse. */
  readonly defaults: () => T;
  /** `"require-order"` (optstring `+`, POSIX getopts): stop at the first non-option. */
  readonly order?: "permute" | "require-order";
  /** Optstring `:`: getopt composes no message, and reports a missing argument as `":"`. */
  readonly silent?: boolean;
  /** As {@link GetoptOptions.posixlyCorrect}. */
  readonly posixlyCorrect?: boolean;
  /** As {@link GetoptOptions.unrecognizedLong}. */
  readonly unrecognizedLong?: "short-options" | "error";
  /** As {@link GetoptOptions.isOperand}. */
  readonly isOperand?: (arg: string) => boolean;
  /** What a bad option (getopt's `?` or `:`) ends with. */
  readonly onError: (error: GetoptError) => ArgsStop;
  /** Checks once every option is read (e.g. that an operation was chosen). */
  readonly check?: (options: T, operands: readonly string[]) => ArgsStop | void;
}

/** The glibc optstring of `spec`'s short options (`"+:Hhc:"`), in declaration order. */
export function optstringOf<T>(spec: Pick<ArgsSpec<T>, "options" | "order" | "silent">): string {
  let optstring = spec.order === "require-order" ? "+" : "";
  if (spec.silent === true) optstring += ":";
  for (const option of spec.options) {
    if (option.flag.startsWith("--")) continue;
    optstring += option.arg === undefined ? option.flag : `${option.flag}:`;
  }
  return optstring;
}

/**
 * Parses `args` (without argv[0]) as `spec` declares: options act in order, later ones
 * override earlier ones, and the first error or stop ends parsing, as the C tools exit there.
 */
export function parseOptions<T>(args: readonly string[], spec: ArgsSpec<T>): ArgsResult<T> {
  const byFlag = new Map(spec.options.map((option) => [option.flag, option]));
  const longOptions = new Map(
    spec.options.filter((option) => option.flag.startsWith("--"))
      .map((option) => [option.flag, option.arg !== undefined]),
  );
  const getopt = new Getopt(args, optstringOf(spec), {
    programName: spec.programName,
    posixlyCorrect: spec.posixlyCorrect === true,
    longOptions,
    ...(spec.unrecognizedLong === undefined ? {} : { unrecognizedLong: spec.unrecognizedLong }),
    ...(spec.isOperand === undefined ? {} : { isOperand: spec.isOperand }),
  });
  const options = spec.defaults();
  let warnings = "";
  const warn = (line: string): void => {
    warnings += line;
  };
  const stopWith = (stop: ArgsStop): ArgsResult<T> => ({
    ok: false,
    exitCode: stop.exitCode,
    stdout: stop.stdout ?? "",
    stderr: warnings + (stop.stderr ?? ""),
  });
  for (let step = getopt.next(); step !== undefined; step = getopt.next()) {
    if (isGetoptError(step)) return stopWith(spec.onError(step));
    const option = byFlag.get(step.opt);
    if (option === undefined) continue; // a non-option in "return-in-order" mode
    const arg = step.arg ?? "";
    if (option.set !== undefined) Object.assign(options as object, option.set);
    if (option.store !== undefined) (options as Record<PropertyKey, unknown>)[option.store] = arg;
    const stop = option.stop ?? option.apply?.(options, arg, warn);
    if (stop !== undefined) return stopWith(stop);
  }
  const operands = [...getopt.operands];
  const stop = spec.check?.(options, operands);
  if (stop !== undefined) return stopWith(stop);
  return { ok: true, options, operands, stderr: warnings };
}
