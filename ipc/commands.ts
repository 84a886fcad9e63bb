/**
 * The qnetd IPC commands (`status`, `list`, `shutdown`, and our `json` prefix) as a handler
 * table for {@link IpcServer}. The daemon hands in how to read its state and how to stop;
 * more commands (e.g. cmap) can be added to the returned map.
 *
 * @module
 */
import type { ServerSnapshot } from "../core/arbiter/snapshot.ts";
import { type Log, nullLog, Priority } from "../core/log.ts";
import { formatList, formatStatus } from "../core/status_format.ts";
import { jsonBody, type JsonMeta, listJson, statusJson } from "../core/status_json.ts";
import { QNET_VERSION } from "../core/version.ts";
import { parseQnetdCommand } from "./line_lexer.ts";
import type { IpcHandler, IpcReply } from "./server.ts";

/** What the commands need from the daemon. */
export interface QnetdIpcHost {
  /** The daemon's state now. */
  snapshot(): ServerSnapshot;
  /** Stops the daemon; called after the `shutdown` reply was written. */
  shutdown(): void;
  readonly log?: Log;
  /** When the daemon started (ms since the epoch), for the JSON replies' uptime. */
  readonly startedAtMs?: number;
  /** The wall clock, ms since the epoch (default Date.now). */
  readonly now?: () => number;
}

/** The C reply texts when a body does not fit `ipc_max_send_size` (qnetd_ipc_parse_line()). */
const TOO_LARGE = {
  status: "Can't get QNetd status",
  list: "Can't get QNetd cluster list",
} as const;

/**
 * Handlers for `status`, `list`, `shutdown` and `json`, keyed by command word. Port of the
 * command half of qnetd_ipc_parse_line() in qdevices/qnetd-ipc.c.
 */
export function qnetdIpcHandlers(host: QnetdIpcHost): Map<string, IpcHandler> {
  const log = host.log ?? nullLog;
  const now = host.now ?? Date.now;
  const startedAtMs = host.startedAtMs ?? now();
  const meta = (): JsonMeta => ({ version: QNET_VERSION, startedAtMs, nowMs: now() });
  const handle: IpcHandler = ({ tokens }): IpcReply => {
    const parsed = parseQnetdCommand(tokens);
    if (!parsed.ok) return { ok: false, message: parsed.message };
    const command = parsed.command;
    switch (command.name) {
      case "shutdown":
        log(Priority.Debug, "IPC client requested shutdown");
        return { ok: true, body: new Uint8Array(), afterSend: () => host.shutdown() };
      case "status": {
        const snapshot = host.snapshot();
        const body = command.json
          ? jsonBody(statusJson(snapshot, meta()))
          : formatStatus(snapshot, command.verbose);
        return { ok: true, body, tooLargeError: TOO_LARGE.status };
      }
      case "list": {
        const snapshot = host.snapshot();
        const body = command.json
          ? jsonBody(listJson(snapshot, meta(), command.cluster))
          : formatList(
            snapshot,
            command.cluster === undefined
              ? { verbose: command.verbose }
              : { verbose: command.verbose, cluster: command.cluster },
          );
        return { ok: true, body, tooLargeError: TOO_LARGE.list };
      }
    }
  };
  return new Map([["status", handle], ["list", handle], ["shutdown", handle], ["json", handle]]);
}
