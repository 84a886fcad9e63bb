/**
 * `qnet cmapctl`: corosync-cmapctl (corosync `tools/corosync-cmapctl.c`, v3.1.7) against the
 * daemon's cmap, through a {@link CmapBackend}. Same options, output bytes, messages and exit
 * statuses as the C tool, except where the C tool is a trap:
 *
 * - a negative number operand (`-s k i8 -128`) is an operand here; getopt made it an option
 *   cluster (`invalid option -- '1'`). Tokens `-<digit>...`, `-.<digit>...`, `-inf`,
 *   `-infinity` and `-nan` count as operands; `--` still works;
 * - number parsing is strict (`12abc`, `0x10`, `1,5`, out-of-range i64/u64 and negative u64
 *   are rejected; see core/cmap/parse_value.ts);
 * - `-p FILE` is all-or-nothing and rejects over-long lines and bare `^`/`^^` (see
 *   core/cmap/load_file.ts), and a file that cannot be opened exits 1 (C: 0);
 * - `-s KEY bin FILE` with an empty file stores an empty binary (C sends a NULL pointer and
 *   fails with CS_ERR_INVALID_PARAM).
 *
 * Added: `-P SOCKET` names the daemon's local socket (default: the daemon's default
 * `local_socket_file`); the C tool has no such option (libcmap finds corosync by name), and
 * `-p` is taken by load files. Not in the help text, which stays the C tool's.
 *
 * Kept on purpose, for scripts that parse the output: `\xFFFFFF80` escapes of high bytes and
 * the `bin)` lines of `-q` (core/cmap/format.ts).
 *
 * @module
 */
import type { CmapBackend, CmapConnect, CmapMapName, LoadOp } from "../core/cmap/backend.ts";
import { CmapError, CmapLoadError, CsError, csStrerror } from "../core/cmap/errors.ts";
import { formatKeyLine, type PrintOptions } from "../core/cmap/format.ts";
import { parseLoadFile } from "../core/cmap/load_file.ts";
import { parseValue } from "../core/cmap/parse_value.ts";
import { TrackFlag } from "../core/cmap/track.ts";
import type { CmapValue } from "../core/cmap/value.ts";
import type { CliIo } from "./io.ts";
import { ipcCmapConnect } from "../ipc/cmap_client.ts";
import { DEFAULT_QNETD_SETTINGS } from "../core/settings.ts";
import { strerrorText } from "../core/error_text.ts";
import { ExitStatus } from "./exit_status.ts";
import { type ArgsSpec, type ArgsStop, type OptionDecl, parseOptions } from "./getopt.ts";

/** The name getopt messages carry, as the C tool's argv[0]. */
const PROGRAM = "corosync-cmapctl";

/** Standard input, as the tool uses it: `bin -` values, and `q` while tracking. */
export interface CmapctlInput {
  /** The next line without its newline, or null at end of input. */
  readLine(): Promise<string | null>;
  /** Everything left. */
  readAll(): Promise<Uint8Array>;
  /** Drops a pending read, so that a read nobody waits for does not keep the process alive. */
  cancel?(): void;
}

/** What the tool needs from its surroundings; tests pass in-memory versions. */
export interface CmapctlDeps {
  readonly connect: CmapConnect;
  /** The connection for `-P SOCKET`; without it, `-P` is accepted and `connect` used. */
  readonly connectSocket?: (path: string) => CmapConnect;
  /** Reads a whole file; rejects with an error whose message starts with the OS error text. */
  readonly readFile: (path: string) => Promise<Uint8Array>;
  readonly stdin: CmapctlInput;
}

type Action = "get" | "set" | "delete" | "deletePrefix" | "print" | "track" | "load" | "clear";

const CLEAR_TARGETS = new Set(["knet", "totem", "ipc", "schedmiss", "all"]);
const NEGATIVE_NUMBER = /^-([0-9]|\.[0-9]|inf$|infinity$|nan$)/i;

const HELP = `
usage:  corosync-cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]

    -b show binary values

    -m select map to use
          The  default  map is 'icmap' which contains configuration information and some runtime variables used by corosync. 
          A 'stats' map is also available which displays network statistics - in great detail when knet is used as the transport.
Set key:
    corosync-cmapctl -s key_name type value

    where type is one of ([i|u][8|16|32|64] | flt | dbl | str | bin)
    for bin, value is file name (or - for stdin)

    map can be either 'icmap' (the default) which contains corosync
    configuration information, or 'stats' which contains statistics
    about the networking and IPC traffic in some detail.

Clear stats:
    corosync-cmapctl -C [knet|ipc|totem|schedmiss|all]
    The 'stats' map is implied

Load settings from a file:
    corosync-cmapctl -p filename

    the format of the file is:
    [^[^]]<key_name>[ <type> <value>]
    Keys prefixed with single caret ('^') are deleted (see -d).
    Keys (actually prefixes) prefixed with double caret ('^^') are deleted by prefix (see -D).
    <type> and <value> are optional (not checked) in above cases.
    Other keys are set (see -s) so both <type> and <value> are required.

Delete key:
    corosync-cmapctl -d key_name...

Delete multiple keys with prefix:
    corosync-cmapctl -D key_prefix...

Get key:
    corosync-cmapctl [-b] -g key_name...

Quiet mode:
    corosync-cmapctl [-b] -q -g key_name...

Display all keys:
    corosync-cmapctl [-b]

Display keys with prefix key_name:
    corosync-cmapctl [-b] key_name...

Track changes on keys with key_name:
    corosync-cmapctl [-b] -t key_name

Track changes on keys with key prefix:
    corosync-cmapctl [-b] -T key_prefix

`;

/** Parsed command line. */
interface Invocation extends PrintOptions {
  action: Action;
  map: CmapMapName;
  trackPrefix: boolean;
  settingsFile: string;
  clearTarget: string;
  /** `-P`: the daemon's socket. */
  socketPath: string | undefined;
  /** Keys, prefixes or set's `key type value`. */
  operands: readonly string[];
}

const stopWith = (message: string): ArgsStop => ({
  exitCode: ExitStatus.Failure,
  stderr: `${message}\n`,
});

/** The C tool's optstring, "m:hqgsdDtTbp:C:" (tests check it), plus `-P`. */
const OPTIONS: readonly OptionDecl<Invocation>[] = [
  {
    flag: "m",
    arg: "map",
    apply(inv, name) {
      if (name === "icmap" || name === "default") inv.map = "icmap";
      else if (name === "stats") inv.map = "stats";
      else return stopWith("invalid map name, must be 'default', 'icmap' or 'stats'");
      return undefined;
    },
  },
  { flag: "h", stop: { exitCode: ExitStatus.Success, stdout: HELP } },
  { flag: "q", set: { quiet: true } },
  { flag: "g", set: { action: "get" } },
  { flag: "s", set: { action: "set" } },
  { flag: "d", set: { action: "delete" } },
  { flag: "D", set: { action: "deletePrefix" } },
  { flag: "t", set: { action: "track", trackPrefix: false } },
  { flag: "T", set: { action: "track" } },
  { flag: "b", set: { showBinary: true } },
  { flag: "p", arg: "filename", set: { action: "load" }, store: "settingsFile" },
  {
    flag: "C",
    arg: "target",
    apply(inv, target) {
      if (!CLEAR_TARGETS.has(target)) {
        return stopWith("argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'");
      }
      inv.action = "clear";
      inv.clearTarget = target;
      inv.map = "stats";
      return undefined;
    },
  },
  { flag: "P", arg: "socket", store: "socketPath" },
];

/**
 * The C tool's getopt loop (GNU permutation): options act in order, the last action wins,
 * `-h` prints help and ends at once, errors end at once.
 */
export const CMAPCTL_ARGS: ArgsSpec<Invocation> = {
  programName: PROGRAM,
  options: OPTIONS,
  defaults: () => ({
    action: "print",
    map: "icmap",
    trackPrefix: true,
    showBinary: false,
    quiet: false,
    settingsFile: "",
    socketPath: undefined,
    clearTarget: "",
    operands: [],
  }),
  isOperand: (arg) => NEGATIVE_NUMBER.test(arg),
  onError: (error) => ({ exitCode: ExitStatus.Failure, stderr: error.message ?? "" }),
  check({ action }, operands) {
    if (operands.length === 0 && action !== "load" && action !== "clear" && action !== "print") {
      return stopWith("Expected key after options");
    }
    return undefined;
  },
};

/** The C tool's report of a backend failure: `<what>. Error CS_ERR_...`. */
function csErrorLine(what: string, code: CsError): string {
  return `${what}. Error ${csStrerror(code)}`;
}

/** The cs_error_t of a backend failure; anything else is a bug and propagates. */
function codeOf(error: unknown): CsError {
  if (error instanceof CmapError) return error.code;
  throw error;
}

/** A failure that ends the tool: its message goes to stderr, the tool exits with `status`. */
export class CmapctlFailure extends Error {
  override name = "CmapctlFailure";
  constructor(message: string, readonly status: number, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The C tool's `fprintf(stderr, ...); exit(EXIT_FAILURE);`, as an error to throw. */
function failure(message: string, cause?: unknown): CmapctlFailure {
  return new CmapctlFailure(
    message,
    ExitStatus.Failure,
    cause === undefined ? undefined : { cause },
  );
}

/** Runs corosync-cmapctl with `deps`; returns the exit status. */
export async function run(args: string[], io: CliIo, deps: CmapctlDeps): Promise<number> {
  const parsed = parseOptions(args, CMAPCTL_ARGS);
  if (!parsed.ok) {
    io.err(parsed.stderr);
    io.out(parsed.stdout);
    return parsed.exitCode;
  }
  const inv: Invocation = { ...parsed.options, operands: parsed.operands };
  let backend: CmapBackend;
  try {
    const connect = inv.socketPath !== undefined && deps.connectSocket !== undefined
      ? deps.connectSocket(inv.socketPath)
      : deps.connect;
    backend = await connect(inv.map);
  } catch (error) {
    io.err(`${csErrorLine("Failed to initialize the cmap API", codeOf(error))}\n`);
    return ExitStatus.Failure;
  }
  let status: number;
  try {
    status = await ACTIONS[inv.action](inv, backend, io, deps);
  } catch (error) {
    if (!(error instanceof CmapctlFailure)) throw error;
    io.err(`${error.message}\n`);
    // The C tool exit()s here without finalizing; closing is harmless and frees the socket.
    await backend.close().catch(() => {});
    return error.status;
  }
  try {
    await backend.close();
  } catch (error) {
    io.err(`${csErrorLine("Failed to finalize the cmap API", codeOf(error))}\n`);
    return ExitStatus.Failure;
  }
  return status;
}

type ActionFn = (
  inv: Invocation,
  backend: CmapBackend,
  io: CliIo,
  deps: CmapctlDeps,
) => Promise<number>;

/** cmap_iter_init() and the iteration: the entries under `prefix`, or the tool's failure. */
async function iterate(backend: CmapBackend, prefix: string) {
  try {
    return await backend.iter(prefix);
  } catch (error) {
    throw failure(csErrorLine("Failed to initialize iteration", codeOf(error)), error);
  }
}

/** print_iter(): the entries under `prefix`; true if there were none. */
async function printPrefix(
  backend: CmapBackend,
  prefix: string,
  io: CliIo,
  print: PrintOptions,
): Promise<boolean> {
  const entries = await iterate(backend, prefix);
  for (const { key, value } of entries) io.out(formatKeyLine(key, value, print));
  return entries.length === 0;
}

/** delete_with_prefix(): deletes each key under `prefix`, reporting failures and going on. */
async function deletePrefix(
  backend: CmapBackend,
  prefix: string,
  io: CliIo,
): Promise<void> {
  const entries = await iterate(backend, prefix);
  for (const { key } of entries) {
    try {
      await backend.delete(key);
    } catch (error) {
      io.err(`${csErrorLine(`Can't delete key ${key}`, codeOf(error))}\n`);
    }
  }
}

/**
 * set_key()'s parsing: the value for `-s`/load, or an Exit after the C tool's message. A bin
 * value names a file (`-` is standard input).
 */
async function valueFor(type: string, text: string, deps: CmapctlDeps) {
  if (type === "bin") {
    try {
      const bytes = text === "-" ? await deps.stdin.readAll() : await deps.readFile(text);
      return { type: "bin", value: bytes } satisfies CmapValue;
    } catch (error) {
      throw failure(`Can't open input file: ${strerrorText(error)}`, error);
    }
  }
  const parsed = parseValue(type, text);
  if (!parsed.ok) throw failure(parsed.message);
  return parsed.value;
}

/** track_changes(): prints notifications until `q`, end of input, or a dispatch error. */
async function track(inv: Invocation, backend: CmapBackend, io: CliIo, deps: CmapctlDeps) {
  const flags = TrackFlag.Add | TrackFlag.Delete | TrackFlag.Modify |
    (inv.trackPrefix ? TrackFlag.Prefix : 0);
  let tracker;
  try {
    tracker = await backend.track(inv.operands, flags);
  } catch (error) {
    io.err(`${csErrorLine("Failed to add tracking function", codeOf(error))}\n`);
    return ExitStatus.Failure;
  }
  await using _tracker = tracker;
  io.out('Type "q" to finish\n');
  const quit = (async () => {
    for (;;) {
      const line = await deps.stdin.readLine();
      if (line === null || line.startsWith("q")) return "quit" as const;
    }
  })();
  const events = tracker.events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([quit, events.next()]);
      if (next === "quit") break;
      if (next.done) throw new CmapError(CsError.Library, "Tracking ended");
      const { event, key, newValue, oldValue } = next.value;
      const shown = event === TrackFlag.Delete ? oldValue : newValue;
      const label = event === TrackFlag.Add
        ? "create> "
        : event === TrackFlag.Delete
        ? "delete> "
        : "modify> ";
      io.out(
        shown === undefined ? "unknown change> " : label + formatKeyLine(key, shown, inv),
      );
    }
  } catch (error) {
    io.err(`Dispatch error ${csStrerror(codeOf(error))}\n`);
  } finally {
    deps.stdin.cancel?.();
  }
  return ExitStatus.Success;
}

const ACTIONS: Readonly<Record<Action, ActionFn>> = {
  async print(inv, backend, io, _deps) {
    const prefixes = inv.operands.length === 0 ? [""] : inv.operands;
    let empty = 0;
    for (const prefix of prefixes) {
      if (await printPrefix(backend, prefix, io, inv)) empty++;
    }
    return empty > 0 && empty >= inv.operands.length ? ExitStatus.Failure : ExitStatus.Success;
  },

  async get(inv, backend, io, _deps) {
    for (const key of inv.operands) {
      try {
        io.out(formatKeyLine(key, await backend.get(key), inv));
      } catch (error) {
        throw failure(csErrorLine(`Can't get key ${key}`, codeOf(error)), error);
      }
    }
    return ExitStatus.Success;
  },

  async delete(inv, backend, _io, _deps) {
    for (const key of inv.operands) {
      try {
        await backend.delete(key);
      } catch (error) {
        throw failure(csErrorLine(`Can't delete key ${key}`, codeOf(error)), error);
      }
    }
    return ExitStatus.Success;
  },

  async deletePrefix(inv, backend, io, _deps) {
    for (const prefix of inv.operands) await deletePrefix(backend, prefix, io);
    return ExitStatus.Success;
  },

  async set(inv, backend, _io, deps) {
    const [key, type, text] = inv.operands;
    if (key === undefined || type === undefined || text === undefined) {
      throw failure("At least 3 parameters are expected for set");
    }
    const value = await valueFor(type, text, deps);
    try {
      await backend.set(key, value);
    } catch (error) {
      throw failure(csErrorLine(`Failed to set key ${key}`, codeOf(error)), error);
    }
    return ExitStatus.Success;
  },

  async load(inv, backend, io, deps) {
    let bytes;
    try {
      bytes = await deps.readFile(inv.settingsFile);
    } catch (error) {
      throw failure(`Couldn't open file.: ${strerrorText(error)}`, error);
    }
    const parsed = parseLoadFile(bytes);
    if (!parsed.ok) throw failure(parsed.message);
    const ops: LoadOp[] = [];
    for (const line of parsed.lines) {
      if (line.kind === "set") {
        ops.push({
          op: "set",
          key: line.key,
          value: await valueFor(line.type, line.value, deps),
        });
      } else if (line.kind === "delete") ops.push({ op: "delete", key: line.key });
      else ops.push({ op: "deletePrefix", prefix: line.prefix });
    }
    try {
      for (const { key, error } of await backend.load(ops)) {
        io.err(`${csErrorLine(`Can't delete key ${key}`, error.code)}\n`);
      }
    } catch (error) {
      const code = codeOf(error);
      const op = error instanceof CmapLoadError ? ops[error.index] : undefined;
      throw failure(
        op?.op === "set"
          ? csErrorLine(`Failed to set key ${op.key}`, code)
          : op?.op === "deletePrefix"
          ? csErrorLine("Failed to initialize iteration", code)
          : csErrorLine(`Failed to load ${inv.settingsFile}`, code),
        error,
      );
    }
    return ExitStatus.Success;
  },

  async track(inv, backend, io, deps) {
    return await track(inv, backend, io, deps);
  },

  async clear(inv, backend) {
    // clear_stats(): the result of the set is ignored, as in C.
    await backend.set(`stats.clear.${inv.clearTarget}`, { type: "u32", value: 1 }).catch(() => {});
    return ExitStatus.Success;
  },
};

/** Reads standard input in lines or whole, sharing one buffer. */
class StdinReader implements CmapctlInput {
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buffer = new Uint8Array(0);
  #eof = false;

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    this.#reader ??= Deno.stdin.readable.getReader();
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#eof = true;
      return false;
    }
    const merged = new Uint8Array(this.#buffer.length + value.length);
    merged.set(this.#buffer);
    merged.set(value, this.#buffer.length);
    this.#buffer = merged;
    return true;
  }

  async readLine(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.#buffer.subarray(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return new TextDecoder().decode(line);
      }
      if (!(await this.#fill())) {
        if (this.#buffer.length === 0) return null;
        const rest = this.#buffer;
        this.#buffer = new Uint8Array(0);
        return new TextDecoder().decode(rest);
      }
    }
  }

  cancel(): void {
    this.#eof = true;
    this.#reader?.cancel().catch(() => {});
  }

  async readAll(): Promise<Uint8Array> {
    while (await this.#fill()) { /* keep reading */ }
    const all = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return all;
  }
}

/** Entry point of `qnet cmapctl` / `corosync-cmapctl`. */
export function main(args: string[], io: CliIo): Promise<number> {
  return run(args, io, {
    connect: ipcCmapConnect(DEFAULT_QNETD_SETTINGS.localSocketFile),
    connectSocket: ipcCmapConnect,
    readFile: (path) => Deno.readFile(path),
    stdin: new StdinReader(),
  });
}
