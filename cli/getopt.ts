/**
 * A port of glibc's `getopt()` (short options only), driven by the C tools' own optstrings so
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
 * @module
 */

/** One step of option parsing: an option, or an error (`opt` is `"?"` or `":"`). */
export type GetoptResult =
  | { readonly opt: string; readonly arg?: string }
  | {
    readonly opt: "?" | ":";
    /** The offending option character (C `optopt`). */
    readonly optopt: string;
    /** The line glibc prints on stderr (with newline); `undefined` when silenced by `:`. */
    readonly message: string | undefined;
  };

/** Options for `Getopt`. */
export interface GetoptOptions {
  /** argv[0] as glibc prints it in messages (the path as invoked, not the basename). */
  readonly programName: string;
  /** Behave as with POSIXLY_CORRECT set in the environment: stop at the first non-option. */
  readonly posixlyCorrect?: boolean;
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
  /** Index of the next argument to look at (C `optind`, minus one: we get args without argv[0]). */
  #optind = 0;
  /** Rest of the current option group (C `__nextchar`); "" when a new argument is needed. */
  #nextchar = "";
  readonly #operands: string[] = [];
  #done = false;

  constructor(args: readonly string[], optstring: string, options: GetoptOptions) {
    this.#args = args;
    this.#programName = options.programName;
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
        while (this.#optind < args.length && isNonOption(args[this.#optind]!)) {
          this.#operands.push(args[this.#optind++]!);
        }
      }
      if (args[this.#optind] === "--") {
        this.#optind++;
        return this.#finish();
      }
      const arg = args[this.#optind];
      if (arg === undefined) return this.#finish();
      if (isNonOption(arg)) {
        if (this.#ordering === "require-order") return this.#finish();
        this.#optind++;
        this.#operands.push(arg);
        return { opt: "\x01", arg };
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

  #finish(): undefined {
    this.#operands.push(...this.#args.slice(this.#optind));
    this.#optind = this.#args.length;
    this.#done = true;
    return undefined;
  }

  #message(what: string, c: string): string | undefined {
    return this.#printErrors ? `${this.#programName}: ${what} -- '${c}'\n` : undefined;
  }
}
