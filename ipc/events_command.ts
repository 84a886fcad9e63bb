/**
 * The IPC `events` command, behind `qnet qnetd-tool --events`: the decision history of
 * every cluster or of one, oldest first, as text or JSON lines, and with `follow` the new
 * events as they happen until the client goes away.
 *
 * Request: `events [cluster NAME] [json] [follow]` (words in any order, case-insensitive;
 * parsing stops at an unknown word, as `list` does). Reply: `OK\n` and the lines. A
 * follower that does not read falls behind; past {@link FOLLOW_QUEUE_MAX} queued events
 * it gets a last line saying so and is disconnected, so it never holds daemon memory.
 *
 * @module
 */
import type { DecisionHistory, HistoryEvent } from "../core/arbiter/history.ts";
import { clusterNameText } from "../core/arbiter/log_debug.ts";
import { formatEventJson, formatEventLine } from "../core/history_format.ts";
import { type Log, nullLog, Priority } from "../core/log.ts";
import { cString, tokenIs } from "./line_lexer.ts";
import type { IpcHandler, IpcReply, IpcRequest } from "./server.ts";

/** Events a follower may have queued before it is dropped. */
export const FOLLOW_QUEUE_MAX = 10_000;

/** The reply when the history does not fit `ipc_max_send_size`. */
const TOO_LARGE = "Can't get QNetd events";

/** A parsed `events` request. */
export interface EventsCommand {
  /** The cluster name as the history keys it; undefined = every cluster. */
  readonly cluster?: string;
  readonly json: boolean;
  readonly follow: boolean;
}

/** Parses the words after `events`. */
export function parseEventsArgs(args: readonly Uint8Array[]): EventsCommand {
  let cluster: string | undefined;
  let json = false;
  let follow = false;
  for (let i = 0; i < args.length; i++) {
    const word = cString(args[i]!);
    if (word.length === 0) break;
    if (tokenIs(word, "json")) json = true;
    else if (tokenIs(word, "follow")) follow = true;
    else if (tokenIs(word, "cluster")) {
      const name = cString(args[++i] ?? new Uint8Array());
      cluster = name.length === 0 ? undefined : clusterNameText(name);
    } else break;
  }
  return cluster === undefined ? { json, follow } : { cluster, json, follow };
}

const encoder = new TextEncoder();

/** The `events` handler for the daemon's IPC server. */
export function eventsIpcHandler(host: { history: DecisionHistory; log?: Log }): IpcHandler {
  const log = host.log ?? nullLog;
  return (request): IpcReply | undefined | Promise<IpcReply | undefined> => {
    const command = parseEventsArgs(request.tokens.slice(1));
    const format = command.json ? formatEventJson : formatEventLine;
    const select = command.cluster === undefined ? {} : { cluster: command.cluster };
    if (!command.follow) {
      const text = host.history.events(select).map(format).join("");
      return { ok: true, body: encoder.encode(text), tooLargeError: TOO_LARGE };
    }
    return follow(host.history, command, format, request, log);
  };
}

async function follow(
  history: DecisionHistory,
  command: EventsCommand,
  format: (event: HistoryEvent) => string,
  ipc: IpcRequest,
  log: Log,
): Promise<undefined> {
  const queue: HistoryEvent[] = [];
  let wake: (() => void) | undefined;
  let overflow = false;
  // Backlog and subscription in one synchronous step: no event falls between them.
  const backlog = history.events(command.cluster === undefined ? {} : { cluster: command.cluster });
  const unsubscribe = history.subscribe((event) => {
    if (command.cluster !== undefined && event.cluster !== command.cluster) return;
    if (queue.length >= FOLLOW_QUEUE_MAX) overflow = true;
    else queue.push(event);
    wake?.();
  });
  const stop = () => wake?.();
  ipc.signal.addEventListener("abort", stop, { once: true });
  try {
    await ipc.write(encoder.encode(`OK\n${backlog.map(format).join("")}`));
    while (!ipc.signal.aborted) {
      if (queue.length === 0 && !overflow) {
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
        continue;
      }
      const batch = queue.splice(0, queue.length);
      if (batch.length > 0) await ipc.write(encoder.encode(batch.map(format).join("")));
      if (overflow) {
        await ipc.write(encoder.encode("Events dropped: this client did not read them in time\n"));
        break;
      }
    }
  } catch (error) {
    // The client went away (write failed or timed out): end quietly.
    log(Priority.Debug, `events follower gone (${String(error)})`);
  } finally {
    ipc.signal.removeEventListener("abort", stop);
    unsubscribe();
  }
  return undefined;
}
