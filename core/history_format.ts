/**
 * How `qnet qnetd-tool --events` shows the decision history: one line of text per event,
 * or (with `--json`) one JSON object per line (JSON Lines, so `--follow --json` streams
 * into `jq` or a log shipper). Pure.
 *
 * Text: `TIME CLUSTER node N TEXT[: REASON][ (xCOUNT)]`, the time in ISO 8601 UTC. The
 * cluster name is data: control characters and backslashes in it are escaped (`\xNN`,
 * `\\`), so a name can never start a new line or move the cursor.
 *
 * @module
 */
import type { HistoryEvent } from "./arbiter/history.ts";

/** Raise on any change a consumer of the JSON lines could misread. */
export const EVENTS_JSON_SCHEMA_VERSION = 1;

/** Control characters (C0, DEL, C1) and the backslash. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\]/g;

/** `text` with control characters and backslashes escaped for a terminal. */
export function escapeForTerminal(text: string): string {
  return text.replace(
    UNSAFE,
    (c) => c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** One event as a text line (with its newline). */
export function formatEventLine(event: HistoryEvent): string {
  const node = event.nodeId === undefined ? "" : ` node ${event.nodeId >>> 0}`;
  const reason = event.reason === undefined ? "" : `: ${event.reason}`;
  const repeated = event.repeated > 1 ? ` (x${event.repeated})` : "";
  return `${new Date(event.time).toISOString()} ${escapeForTerminal(event.cluster)}${node} ${
    escapeForTerminal(event.text)
  }${escapeForTerminal(reason)}${repeated}\n`;
}

/** One event as a JSON line (with its newline); absent fields are left out. */
export function formatEventJson(event: HistoryEvent): string {
  const json: Record<string, unknown> = {
    schemaVersion: EVENTS_JSON_SCHEMA_VERSION,
    id: event.id,
    time: new Date(event.time).toISOString(),
    cluster: event.cluster,
    kind: event.kind,
  };
  if (event.nodeId !== undefined) json.nodeId = event.nodeId >>> 0;
  if (event.address !== undefined) json.address = event.address;
  json.text = event.text;
  if (event.vote !== undefined) json.vote = event.vote;
  if (event.reason !== undefined) json.reason = event.reason;
  json.repeated = event.repeated;
  return `${JSON.stringify(json)}\n`;
}
