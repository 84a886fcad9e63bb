/**
 * `qnet qnetd-tool`: corosync-qnetd-tool. Asks a running daemon over its local socket for
 * its status (-s), its clusters (-l) or to shut down (-H).
 *
 * Port of qdevices/corosync-qnetd-tool.c (3.0.3): the same options (GNU getopt rules), the
 * same request bytes, exit codes ({@link ToolExit}: 1 usage, 2 internal, 3 socket or bad reply, 4 the daemon
 * answered Error) and messages. Our extensions, which only qnet's daemon serves: `--json`
 * with -s or -l asks for the JSON form; `--events` prints the decision history; `--metrics`
 * prints the Prometheus exposition (docs/monitoring.md), e.g. for node_exporter's textfile
 * collector.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import { type ArgsSpec, type OptionDecl, parseOptions } from "./getopt.ts";
import { runEvents } from "./qnetd_tool_events.ts";
import { ToolExit } from "./qnetd_tool_exit.ts";
import { connectTool, quoteName, TOOL_PROGRAM as PROGRAM, writeBytes } from "./qnetd_tool_ipc.ts";

/** QNETD_DEFAULT_LOCAL_SOCKET_FILE. */
export const DEFAULT_SOCKET_PATH = "/var/run/corosync-qnetd/corosync-qnetd.sock";
/** The C tool builds its request in a buffer of QNETD_DEFAULT_IPC_MAX_RECEIVE_SIZE bytes. */
const REQUEST_MAX = 4096;
/** The C tool's status-line buffer (IPC_READ_BUF_SIZE), NUL included. */
const STATUS_LINE_MAX = 512;

const USAGE = `usage: ${PROGRAM} [-Hhlsv] [-c cluster_name] [-p qnetd_ipc_socket_path]\n`;

const HELP = `${USAGE}
  -H        shut the daemon down
  -l        list the clusters and their nodes
  -s        show the daemon's status
  -v        verbose (-s: limits; -l: heartbeat, ring id, heuristics, TLS)
  -c NAME   with -l or --events: only the cluster NAME
  -p PATH   the daemon's IPC socket (default ${DEFAULT_SOCKET_PATH})
  --json    with -s or -l: print the same facts as one JSON object. Only qnet's daemon
            serves this; corosync-qnetd answers "Unknown command 'json'" (exit 4).
            With --events: one JSON object per event and line.
  --events  the decision history (connections, lists received, every vote with its
            reason, DPD, disconnections), oldest first; -c NAME: one cluster only.
            Only qnet's daemon serves this (see docs/decision-history.md).
  --follow  with --events: go on printing new events until interrupted (Ctrl-C)
  --metrics print the daemon's Prometheus metrics (text format 0.0.4), as its
            -S metrics_listen endpoint serves them. Only qnet's daemon serves this.
  --help    this help
`;

export { ToolExit } from "./qnetd_tool_exit.ts";

type Operation = "none" | "shutdown" | "status" | "list" | "events" | "metrics";

interface ToolOptions {
  operation: Operation;
  verbose: boolean;
  json: boolean;
  follow: boolean;
  cluster?: string;
  socketPath: string;
}

/** The C tool's optstring, "Hhlsvc:p:" (tests check it), plus our long options. */
const OPTIONS: readonly OptionDecl<ToolOptions>[] = [
  { flag: "H", set: { operation: "shutdown" } },
  { flag: "h", stop: { exitCode: ToolExit.Usage, stdout: USAGE } },
  { flag: "l", set: { operation: "list" } },
  { flag: "s", set: { operation: "status" } },
  { flag: "v", set: { verbose: true } },
  { flag: "c", arg: "cluster_name", store: "cluster" },
  { flag: "p", arg: "qnetd_ipc_socket_path", store: "socketPath" },
  { flag: "--json", set: { json: true } },
  { flag: "--events", set: { operation: "events" } },
  { flag: "--follow", set: { follow: true } },
  { flag: "--metrics", set: { operation: "metrics" } },
  { flag: "--help", stop: { exitCode: ToolExit.Ok, stdout: HELP } },
];

/** cli_parse() of the C tool, with GNU getopt rules. */
export const TOOL_ARGS: ArgsSpec<ToolOptions> = {
  programName: PROGRAM,
  options: OPTIONS,
  defaults: () => ({
    operation: "none",
    verbose: false,
    json: false,
    follow: false,
    socketPath: DEFAULT_SOCKET_PATH,
  }),
  onError: (error) => ({ exitCode: ToolExit.Usage, stderr: error.message ?? "", stdout: USAGE }),
  check(options) {
    if (options.operation === "none") return { exitCode: ToolExit.Usage, stdout: USAGE };
    if (options.json && (options.operation === "shutdown" || options.operation === "metrics")) {
      return {
        exitCode: ToolExit.Usage,
        stderr: `${PROGRAM}: --json needs -s, -l or --events\n`,
        stdout: USAGE,
      };
    }
    if (options.follow && options.operation !== "events") {
      return {
        exitCode: ToolExit.Usage,
        stderr: `${PROGRAM}: --follow needs --events\n`,
        stdout: USAGE,
      };
    }
    return undefined;
  },
};

/**
 * The request line, exactly as store_command() builds it (`list verbose cluster "x" \n`);
 * with `json`, prefixed by `json ` (a request corosync-qnetd rejects).
 */
export function buildRequest(
  operation: Exclude<Operation, "none" | "events">,
  options: { verbose: boolean; cluster?: string; json?: boolean },
): string {
  let line = options.json ? "json " : "";
  line += `${operation} `;
  if (options.verbose) line += "verbose ";
  if (options.cluster !== undefined) line += `cluster ${quoteName(options.cluster)} `;
  return line + "\n";
}

/**
 * read_ipc_reply(): the status line (CRs dropped, compared case-insensitively up to a NUL)
 * decides where the rest goes. No newline at all (the daemon closed without a reply) is
 * success with no output, as in C.
 */
function printReply(reply: Uint8Array, io: CliIo): number {
  const newline = reply.indexOf(0x0a);
  if (newline < 0) {
    if (reply.filter((byte) => byte !== 0x0d).length > STATUS_LINE_MAX) {
      io.err(`${PROGRAM}: Internal error during IPC status line read\n`);
      return ToolExit.InternalError;
    }
    return ToolExit.Ok;
  }
  const statusBytes = reply.subarray(0, newline).filter((byte) => byte !== 0x0d);
  if (statusBytes.length + 1 > STATUS_LINE_MAX) {
    io.err(`${PROGRAM}: Internal error during IPC status line read\n`);
    return ToolExit.InternalError;
  }
  const nul = statusBytes.indexOf(0);
  const status = String.fromCharCode(...(nul < 0 ? statusBytes : statusBytes.subarray(0, nul)))
    .toLowerCase();
  const rest = reply.subarray(newline + 1);
  if (status === "ok") {
    writeBytes(io, "out", rest);
    return ToolExit.Ok;
  }
  if (status === "error") {
    io.err("Error: ");
    writeBytes(io, "err", rest);
    return ToolExit.QnetdReturnedError;
  }
  io.err(`${PROGRAM}: Unknown status line returned by IPC server\n`);
  return ToolExit.SocketConnect;
}

/**
 * `qnet qnetd-tool [-Hhlsv] [-c cluster_name] [-p socket] [--json]`,
 * `--events [-c cluster_name] [--json] [--follow]` (cli/qnetd_tool_events.ts) and `--metrics`.
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  const parsed = parseOptions(args, TOOL_ARGS);
  if (!parsed.ok) {
    io.err(parsed.stderr);
    io.out(parsed.stdout);
    return parsed.exitCode;
  }
  const options = parsed.options;
  if (options.operation === "none") return ToolExit.Usage;
  if (options.operation === "events") {
    return await runEvents({
      socketPath: options.socketPath,
      json: options.json,
      follow: options.follow,
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    }, io);
  }
  const connection = await connectTool(options.socketPath, io);
  if (connection === undefined) return ToolExit.SocketConnect;
  let reply: Uint8Array;
  try {
    const request = new TextEncoder().encode(buildRequest(options.operation, options));
    if (request.length + 1 > REQUEST_MAX) {
      io.err(`${PROGRAM}: Can't store command\n`);
      return ToolExit.InternalError;
    }
    reply = await connection.exchange(request);
  } finally {
    connection.close();
  }
  return printReply(reply, io);
}
