/**
 * What the parts of corosync-qnetd-tool (cli/qnetd_tool.ts, cli/qnetd_tool_events.ts) share on
 * the daemon's local socket: the connection with the C tool's failure message, cluster names
 * quoted as the C tool quotes them, and reply bytes written unchanged.
 *
 * @module
 */
import { IpcClientConnection, IpcConnectError } from "../ipc/client.ts";
import type { CliIo } from "./io.ts";

/** The name the tool's messages carry, as the C tool's. */
export const TOOL_PROGRAM = "corosync-qnetd-tool";

/** dynar_str_quote_cat(): the name in double quotes, `"` and `\` escaped. */
export function quoteName(name: string): string {
  return `"${name.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

/**
 * Connects to the daemon's local socket; undefined after printing the C tool's message when
 * it cannot (the caller exits with `ToolExit.SocketConnect`).
 */
export async function connectTool(
  socketPath: string,
  io: CliIo,
): Promise<IpcClientConnection | undefined> {
  try {
    return await IpcClientConnection.connect(socketPath);
  } catch (error) {
    if (!(error instanceof IpcConnectError)) throw error;
    io.err(`${TOOL_PROGRAM}: Can't connect to qnetd socket (is QNetd running?): ${error.reason}\n`);
    return undefined;
  }
}

/** Writes reply bytes; a CliIo with `outBytes`/`errBytes` gets them unchanged. */
export function writeBytes(io: CliIo, stream: "out" | "err", bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  const raw = (io as Partial<Record<"outBytes" | "errBytes", (b: Uint8Array) => void>>)[
    stream === "out" ? "outBytes" : "errBytes"
  ];
  if (raw !== undefined) raw(bytes);
  else io[stream](new TextDecoder().decode(bytes));
}
