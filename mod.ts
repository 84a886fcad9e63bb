/**
 * `qnet`: a drop-in replacement for corosync's QNet arbiter and its tools, in one executable.
 *
 * `qnet <subcommand> [args]`, or the executable installed (or linked) under a C tool's name,
 * in which case it behaves as that tool: `corosync-qnetd`, `corosync-qnetd-tool`,
 * `corosync-qnetd-certutil`, `corosync-cmapctl`.
 *
 * @module
 */
import process from "node:process";
import { type CliIo, processIo, type SubcommandMain } from "./cli/io.ts";
import { ExitStatus } from "./cli/exit_status.ts";
import { permissionErrorLine } from "./cli/permission_error.ts";
import { QNET_VERSION } from "./core/version.ts";

/** Subcommands, loaded lazily so that e.g. `qnetd-tool` never loads the TLS or x509 code. */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<{ main: SubcommandMain }>>> = {
  "qnetd": () => import("./cli/qnetd.ts"),
  "qnetd-tool": () => import("./cli/qnetd_tool.ts"),
  "certutil": () => import("./cli/certutil.ts"),
  "cmapctl": () => import("./cli/cmapctl.ts"),
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

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Runs one subcommand. A permission the sandbox refuses becomes one line naming it and the
 * set to widen (cli/permission_error.ts), exit code 1, instead of a stack trace.
 */
async function runSubcommand(
  name: string,
  args: string[],
  io: CliIo,
  program: string,
): Promise<number> {
  try {
    return await (await SUBCOMMANDS[name]!()).main(args, io);
  } catch (error) {
    const line = permissionErrorLine(error, program, name);
    if (line === undefined) throw error;
    io.err(line);
    return ExitStatus.Failure;
  }
}

/** Runs `qnet` with the given arguments and returns the exit code. */
export async function run(args: string[], io: CliIo, programName = "qnet"): Promise<number> {
  const asTool = PROGRAM_NAMES[basename(programName)];
  if (asTool !== undefined) {
    return await runSubcommand(asTool, args, io, basename(programName));
  }
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "-h" || sub === "--help" || sub === "help") {
    (sub === undefined ? io.err : io.out)(HELP);
    return sub === undefined ? ExitStatus.Failure : ExitStatus.Success;
  }
  if (sub === "--version" || sub === "-V") {
    io.out(`qnet ${QNET_VERSION}\n`);
    return ExitStatus.Success;
  }
  if (SUBCOMMANDS[sub] === undefined) {
    io.err(`qnet: unknown subcommand '${sub}'\n\n${HELP}`);
    return ExitStatus.Failure;
  }
  return await runSubcommand(sub, rest, io, `qnet ${sub}`);
}

if (import.meta.main) {
  Deno.exitCode = await run(Deno.args, processIo, process.argv0);
}
