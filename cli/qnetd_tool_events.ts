/**
 * `qnet qnetd-tool --events [-c CLUSTER] [--json] [--follow]`: the daemon's decision history
 * (oldest first), and with `--follow` the new events as they happen, until interrupted
 * (SIGINT ends it with exit 0). Text, or one JSON object per line with `--json`; see
 * docs/decision-history.md. Only qnet's daemon serves `events`: corosync-qnetd answers
 * "Unknown command" (exit 4).
 *
 * @module
 */
import { concatBytes } from "../core/bytes.ts";
import { IpcClientConnection, IpcConnectError } from "../ipc/client.ts";
import type { CliIo } from "./io.ts";
import { ToolExit } from "./qnetd_tool_exit.ts";

const PROGRAM = "corosync-qnetd-tool";

/** What `--events` asks for. */
export interface EventsOptions {
  readonly socketPath: string;
  readonly cluster?: string;
  readonly json: boolean;
  readonly follow: boolean;
}

/** `"name"` with `"` and `\` escaped, as the C tool quotes a cluster name. */
function quote(name: string): string {
  return `"${name.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

/** The request line: `events [cluster "NAME"] [json] [follow]\n`. */
export function buildEventsRequest(options: Omit<EventsOptions, "socketPath">): string {
  let line = "events ";
  if (options.cluster !== undefined) line += `cluster ${quote(options.cluster)} `;
  if (options.json) line += "json ";
  if (options.follow) line += "follow ";
  return line + "\n";
}

function writeOut(io: CliIo, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  const raw = (io as Partial<Record<"outBytes", (b: Uint8Array) => void>>).outBytes;
  if (raw !== undefined) raw(bytes);
  else io.out(new TextDecoder().decode(bytes));
}

/** Runs `--events`; resolves with the exit code. */
export async function runEvents(options: EventsOptions, io: CliIo): Promise<number> {
  let connection: IpcClientConnection;
  try {
    connection = await IpcClientConnection.connect(options.socketPath);
  } catch (error) {
    if (!(error instanceof IpcConnectError)) throw error;
    io.err(`${PROGRAM}: Can't connect to qnetd socket (is QNetd running?): ${error.reason}\n`);
    return ToolExit.SocketConnect;
  }
  const onInterrupt = () => connection.close();
  if (options.follow) Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    const request = new TextEncoder().encode(buildEventsRequest(options));
    let status: "pending" | "ok" | "error" = "pending";
    let head: Uint8Array = new Uint8Array();
    const errorParts: Uint8Array[] = [];
    for await (const chunk of connection.stream(request)) {
      if (status === "ok") {
        writeOut(io, chunk);
        continue;
      }
      if (status === "error") {
        errorParts.push(chunk);
        continue;
      }
      head = concatBytes([head, chunk]);
      const newline = head.indexOf(0x0a);
      if (newline < 0) continue;
      const line = new TextDecoder().decode(head.subarray(0, newline)).replace(/\r/g, "");
      const rest = head.subarray(newline + 1);
      if (line.toLowerCase() === "ok") {
        status = "ok";
        writeOut(io, rest);
      } else if (line.toLowerCase() === "error") {
        status = "error";
        errorParts.push(rest);
      } else {
        io.err(`${PROGRAM}: Unknown status line returned by IPC server\n`);
        return ToolExit.SocketConnect;
      }
    }
    if (status === "error") {
      io.err(`Error: ${new TextDecoder().decode(concatBytes(errorParts))}`);
      return ToolExit.QnetdReturnedError;
    }
    return ToolExit.Ok;
  } finally {
    if (options.follow) Deno.removeSignalListener("SIGINT", onInterrupt);
    connection.close();
  }
}
