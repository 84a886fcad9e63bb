/**
 * The daemon's logging at the edge: the core's `Log` function goes through LogTape (so other
 * sinks can be attached later) to a sink that writes what C log_vprintf() (qdevices/log.c)
 * writes. On stderr, only in the foreground (`-f`):
 * `%b %02d %02d:%02d:%02d %-7s <message>` in local time with English month names, e.g.
 * `Nov 02 23:23:11 debug   Initializing nss`. Debug messages are dropped unless debug is on.
 * The priority bump of `-dd` applies to syslog only (stderr keeps the real level).
 *
 * With `-S log_format=json` each stderr line is instead one JSON object ({@link formatJsonLine}):
 * time, priority, level, message, and the structured fields the core gives (cluster,
 * node_id, client_address, error_code). When stderr is the systemd journal (`JOURNAL_STREAM`
 * set and naming stderr, see {@link stderrIsJournal}), each line, text or JSON, starts with
 * the `<N>` priority prefix (sd-daemon(3)), so journald stores the real priority and
 * `journalctl -p warning` filters.
 *
 * Syslog, as C: ident `corosync-qnetd`, with the pid, facility daemon, the priority bumped by
 * `-dd`. C always logs there (`log_init(..., LOG_TARGET_SYSLOG | (foreground ? STDERR : 0))`);
 * Debian's unit for it even sends stderr to /dev/null. qnet does too, with one exception:
 * when stderr already is the journal (`JOURNAL_STREAM`, qnet's own unit), the lines would
 * reach the journal twice, so they go to stderr only. The datagrams are written as glibc's
 * syslog(3) writes them (`<PRI>Mmm dd hh:mm:ss ident[pid]: message`, see
 * {@link formatSyslogDatagram}), through a non-blocking socket (net/unix_datagram.ts), so a
 * stalled syslog daemon loses lines instead of stalling the arbiter.
 *
 * @module
 */
import { fstatSync } from "node:fs";
import {
  configureSync,
  getLogger,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import { type Log, type LogFields, Priority, PRIORITY_NAMES } from "../core/log.ts";
import { escapeControlCharacters } from "../core/log_escape.ts";
import type { LogFormat } from "../core/settings.ts";
import { LibcLoadError } from "../net/libc_ffi.ts";
import { UnixDatagramError, UnixDatagramSender } from "../net/unix_datagram.ts";
import { grantedEnv, processIo } from "./io.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad2 = (n: number): string => String(n).padStart(2, "0");

/**
 * One stderr line as log_vprintf() prints it, `date` taken in local time, with control
 * characters in the message escaped (core/log_escape.ts; C prints them raw).
 */
export function formatLogLine(date: Date, priority: Priority, message: string): string {
  const name = PRIORITY_NAMES[priority] ?? "none";
  return `${MONTHS[date.getMonth()]} ${pad2(date.getDate())} ${pad2(date.getHours())}:` +
    `${pad2(date.getMinutes())}:${pad2(date.getSeconds())} ${name.padEnd(7)} ` +
    `${escapeControlCharacters(message)}\n`;
}

/**
 * One stderr line of `log_format=json`: `time` (ISO 8601, UTC), `priority` (syslog number),
 * `level` (its name, as the text format prints it), `message` (the text line's message,
 * unchanged), then `cluster`, `node_id`, `client_address` and `error_code` when known.
 */
export function formatJsonLine(
  date: Date,
  priority: Priority,
  message: string,
  fields?: LogFields,
): string {
  const json: Record<string, unknown> = {
    time: date.toISOString(),
    priority,
    level: PRIORITY_NAMES[priority] ?? "none",
    message,
  };
  if (fields?.cluster !== undefined) json.cluster = fields.cluster;
  if (fields?.nodeId !== undefined) json.node_id = fields.nodeId;
  if (fields?.clientAddress !== undefined) json.client_address = fields.clientAddress;
  if (fields?.errorCode !== undefined) json.error_code = fields.errorCode;
  return `${JSON.stringify(json)}\n`;
}

/** The `<N>` prefix journald reads as the line's priority (sd-daemon(3), SD_WARNING etc.). */
export function journalPrefix(priority: Priority): string {
  return `<${priority}>`;
}

/** The environment variable systemd sets when stderr (or stdout) is the journal. */
export const JOURNAL_STREAM_ENV = "JOURNAL_STREAM";

/** stderr's file descriptor. */
const STDERR_FD = 2;

/**
 * Whether stderr goes to the systemd journal. systemd sets `JOURNAL_STREAM` to the device and
 * inode (`dev:ino`) of the journal stream when stdout *or* stderr is connected to it
 * (systemd.exec(5)); it is stderr only when they match stderr's own (fstat). The difference
 * matters: Debian's unit for corosync-qnetd has stdout on the journal and `StandardError=null`,
 * so `JOURNAL_STREAM` is set while stderr goes nowhere and syslog must still be written.
 * Without the permission to read the variable (a run outside the shipped permission set), false.
 */
export function stderrIsJournal(): boolean {
  const match = /^(\d+):(\d+)$/.exec(grantedEnv(JOURNAL_STREAM_ENV) ?? "");
  if (match === null) return false;
  try {
    const stat = fstatSync(STDERR_FD, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false; // stderr closed
  }
}

/** Where glibc's syslog(3) sends (`_PATH_LOG`). */
export const SYSLOG_PATH = "/dev/log";

/** The syslog facility of the C daemon (`LOG_DAEMON`, already shifted as in <syslog.h>). */
export const LOG_DAEMON = 3 << 3;

/**
 * One syslog datagram as glibc's syslog(3) writes it with `openlog(ident, LOG_PID, facility)`:
 * `<facility|priority>` and the local time as `%h %e %T` (space-padded day), then
 * `ident[pid]: ` and the message, control characters escaped as on stderr. syslog daemons and
 * journald read the identifier and pid from it.
 */
export function formatSyslogDatagram(
  date: Date,
  facility: number,
  priority: Priority,
  ident: string,
  pid: number,
  message: string,
): string {
  return `<${facility | priority}>${MONTHS[date.getMonth()]} ` +
    `${String(date.getDate()).padStart(2, " ")} ${pad2(date.getHours())}:` +
    `${pad2(date.getMinutes())}:${pad2(date.getSeconds())} ${ident}[${pid}]: ` +
    escapeControlCharacters(message);
}

/** Writes one line to syslog, at `priority`, stamped `date`. */
export type SyslogWriter = (priority: Priority, message: string, date: Date) => void;

/**
 * A syslog writer for `ident` (see the module doc), to be closed at exit; undefined when no
 * socket can be made (no libc: the daemon then logs to stderr only, and its lock fails
 * later anyway). A line that cannot be sent (no syslog daemon, its queue full) is lost.
 */
export function openSyslog(
  ident: string,
  path = SYSLOG_PATH,
): (SyslogWriter & Disposable) | undefined {
  let sender: UnixDatagramSender;
  try {
    sender = UnixDatagramSender.open(path);
  } catch (error) {
    if (error instanceof UnixDatagramError || error instanceof LibcLoadError) return undefined;
    throw error;
  }
  const encoder = new TextEncoder();
  const write = (priority: Priority, message: string, date: Date): void => {
    sender.send(
      encoder.encode(formatSyslogDatagram(date, LOG_DAEMON, priority, ident, Deno.pid, message)),
    );
  };
  return Object.assign(write, { [Symbol.dispose]: () => sender.close() });
}

/** The priority a message gets in syslog: with the bump (`-dd`), anything above info is info. */
export function syslogPriority(priority: Priority, bump: boolean): Priority {
  return bump && priority > Priority.Info ? Priority.Info : priority;
}

/** Debug level as on the command line: 0 off, 1 `-d`, 2 `-dd` (debug plus priority bump). */
export type DebugLevel = 0 | 1 | 2;

/** Where and how to log. */
export interface LoggingOptions {
  /** `-f`: also write to stderr. */
  readonly foreground: boolean;
  /** Initial debug level. */
  readonly debugLevel: DebugLevel;
  /** Writes stderr text (default: the process's stderr). */
  readonly writeStderr?: (text: string) => void;
  /** Wall-clock time in ms since the epoch, for timestamps (default `Date.now`). */
  readonly now?: () => number;
  /** A syslog writer ({@link openSyslog}); receives the (possibly bumped) priority. */
  readonly syslog?: SyslogWriter | undefined;
  /** The stderr format, read at every line (a live setting); default text. */
  readonly format?: () => LogFormat;
  /** stderr is the journal: prefix each line with `<N>` (see {@link stderrIsJournal}). */
  readonly journal?: boolean;
}

/** A configured logger: the core `Log`, and the run-time debug switch. */
export interface Logging extends Disposable {
  /** The function to hand to the core. */
  readonly log: Log;
  /** Changes the debug level at run time (the cmap store toggles it live). */
  setDebug(level: DebugLevel): void;
  /** The current debug level. */
  readonly debugLevel: DebugLevel;
}

const CATEGORY = ["qnet", "qnetd"];

/** LogTape level for a syslog priority (the sink uses the exact priority from the record). */
const LEVEL_OF: Readonly<Record<Priority, LogLevel>> = {
  [Priority.Emerg]: "fatal",
  [Priority.Alert]: "fatal",
  [Priority.Crit]: "fatal",
  [Priority.Err]: "error",
  [Priority.Warning]: "warning",
  [Priority.Notice]: "info",
  [Priority.Info]: "info",
  [Priority.Debug]: "debug",
};

/** Syslog priority for records that did not come through `log` (LogTape's own meta logger). */
const PRIORITY_OF: Readonly<Record<LogLevel, Priority>> = {
  trace: Priority.Debug,
  debug: Priority.Debug,
  info: Priority.Info,
  warning: Priority.Warning,
  error: Priority.Err,
  fatal: Priority.Crit,
};

function recordPriority(record: LogRecord): Priority {
  const p = record.properties["priority"];
  return typeof p === "number" && p >= 0 && p <= 7 ? p as Priority : PRIORITY_OF[record.level];
}

function recordFields(record: LogRecord): LogFields | undefined {
  const fields = record.properties["fields"];
  return typeof fields === "object" && fields !== null ? fields as LogFields : undefined;
}

function recordText(record: LogRecord): string {
  return record.message.map((part) => typeof part === "string" ? part : String(part)).join("");
}

/**
 * Configures LogTape (replacing any earlier configuration) and returns the daemon's `Log`.
 * Port of log_init(), log_set_debug() and log_set_priority_bump() in qdevices/log.c.
 * Dispose it (or call LogTape's `resetSync()`) to tear the configuration down.
 */
export function setupLogging(options: LoggingOptions): Logging {
  const writeStderr = options.writeStderr ?? processIo.err;
  const now = options.now ?? Date.now;
  let level: DebugLevel = options.debugLevel;

  const format = options.format ?? (() => "text");
  const prefix = options.journal === true ? journalPrefix : () => "";
  const sink = (record: LogRecord): void => {
    const priority = recordPriority(record);
    const message = recordText(record);
    if (options.foreground) {
      const date = new Date(record.timestamp);
      const line = format() === "json"
        ? formatJsonLine(date, priority, message, recordFields(record))
        : formatLogLine(date, priority, message);
      writeStderr(prefix(priority) + line);
    }
    options.syslog?.(syslogPriority(priority, level === 2), message, new Date(record.timestamp));
  };
  configureSync({
    reset: true,
    sinks: { qnetd: sink },
    loggers: [
      { category: CATEGORY, sinks: ["qnetd"], lowestLevel: "trace" },
      { category: ["logtape", "meta"], sinks: ["qnetd"], lowestLevel: "warning" },
    ],
  });
  const logger = getLogger(CATEGORY);

  const log: Log = (priority, message, fields) => {
    if (priority === Priority.Debug && level === 0) return;
    logger.emit({
      level: LEVEL_OF[priority],
      timestamp: now(),
      message: [message],
      rawMessage: message,
      properties: fields === undefined ? { priority } : { priority, fields },
    });
  };
  return {
    log,
    setDebug: (next) => {
      level = next;
    },
    get debugLevel() {
      return level;
    },
    [Symbol.dispose]: () => resetSync(),
  };
}
