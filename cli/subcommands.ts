/**
 * The subcommands of `qnet` and the dispatch to them: by the name the executable was invoked
 * as (`corosync-qnetd`, ...) or by the first argument. This runs inside the sandbox worker
 * (cli/sandbox_worker.ts) with the permissions computed for the command line, and in-process
 * in tests.
 *
 * @module
 */
import type { CliIo, SubcommandMain } from "./io.ts";
import { ExitStatus } from "./exit_status.ts";
import { permissionErrorLine } from "./permission_error.ts";
import type { AppliedRule } from "./permission_sets.ts";
import { QNET_VERSION } from "../core/version.ts";
import { basename } from "../core/path.ts";

/** Subcommands, loaded lazily so that e.g. `qnetd-tool` never loads the TLS or x509 code. */
export const SUBCOMMANDS: Readonly<Record<string, () => Promise<{ main: SubcommandMain }>>> = {
  "qnetd": () => import("./qnetd.ts"),
  "qnetd-tool": () => import("./qnetd_tool.ts"),
  "certutil": () => import("./certutil.ts"),
  "cmapctl": () => import("./cmapctl.ts"),
};

/** Modules a subcommand may load after start (preloaded by the sandbox worker). */
export const LATE_MODULES: Readonly<Record<string, () => Promise<unknown>>> = {
  "qnetd": () => import("../net/tls_server.ts"),
};

/** The C tools' names, for dispatch on the name the binary was invoked as. */
const PROGRAM_NAMES: Readonly<Record<string, string>> = {
  "corosync-qnetd": "qnetd",
  "corosync-qnetd-tool": "qnetd-tool",
  "corosync-qnetd-certutil": "certutil",
  "corosync-cmapctl": "cmapctl",
};

const HELP = `usage: qnet <subcommand> [options]

A drop-in replacement for corosync's QNet arbiter (corosync-qnetd) and its tools.

Subcommands:
  qnetd        the arbiter daemon (as corosync-qnetd)
  qnetd-tool   status of a running daemon (as corosync-qnetd-tool)
  certutil     the QNet CA and certificates (as corosync-qnetd-certutil)
  cmapctl      the daemon's configuration and statistics map (as corosync-cmapctl)

Options:
  -h, --help     this help
  --version      print the version

Run 'qnet <subcommand> -h' for a subcommand's options. Installed or linked under a C
tool's name (corosync-qnetd, corosync-qnetd-tool, corosync-qnetd-certutil,
corosync-cmapctl), the executable behaves as that tool.
`;

/** Which subcommand a command line runs, with its own arguments and its program name. */
export interface Dispatch {
  /** undefined: `qnet` itself (help, version, an unknown subcommand). */
  readonly subcommand: string | undefined;
  readonly args: string[];
  /** The name messages carry: `corosync-qnetd`, `qnet qnetd`, ... */
  readonly program: string;
}

/** Finds the subcommand of `args` run as `programName`. */
export function dispatchOf(args: string[], programName = "qnet"): Dispatch {
  const asTool = PROGRAM_NAMES[basename(programName)];
  if (asTool !== undefined) return { subcommand: asTool, args, program: basename(programName) };
  const [sub, ...rest] = args;
  if (sub !== undefined && SUBCOMMANDS[sub] !== undefined) {
    return { subcommand: sub, args: rest, program: `qnet ${sub}` };
  }
  return { subcommand: undefined, args, program: "qnet" };
}

/**
 * Runs one subcommand. A permission the sandbox refuses becomes one line naming the access
 * and the option that led to the nearest grant (cli/permission_error.ts), exit code 1,
 * instead of a stack trace.
 */
async function runSubcommand(
  dispatch: Dispatch & { subcommand: string },
  io: CliIo,
  rows: readonly AppliedRule[],
): Promise<number> {
  try {
    return await (await SUBCOMMANDS[dispatch.subcommand]!()).main(dispatch.args, io);
  } catch (error) {
    const line = permissionErrorLine(error, dispatch.program, rows);
    if (line === undefined) throw error;
    io.err(line);
    return ExitStatus.Failure;
  }
}

/**
 * Runs `qnet` with the given arguments and returns the exit code. `rows` are the grants of
 * the command line, for the message about a refused access.
 */
export async function run(
  args: string[],
  io: CliIo,
  programName = "qnet",
  rows: readonly AppliedRule[] = [],
): Promise<number> {
  const dispatch = dispatchOf(args, programName);
  if (dispatch.subcommand !== undefined) {
    return await runSubcommand({ ...dispatch, subcommand: dispatch.subcommand }, io, rows);
  }
  const [sub] = args;
  if (sub === undefined || sub === "-h" || sub === "--help" || sub === "help") {
    (sub === undefined ? io.err : io.out)(HELP);
    return sub === undefined ? ExitStatus.Failure : ExitStatus.Success;
  }
  if (sub === "--version" || sub === "-V") {
    io.out(`qnet ${QNET_VERSION}\n`);
    return ExitStatus.Success;
  }
  io.err(`qnet: unknown subcommand '${sub}'\n\n${HELP}`);
  return ExitStatus.Failure;
}
