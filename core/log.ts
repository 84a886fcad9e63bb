/**
 * The logging interface the core owns. The core logs the C daemon's messages verbatim, at
 * the C daemon's syslog priorities, so operators' greps and alerts keep working; where the
 * lines go (stderr, syslog, LogTape) is decided at the edge (cli/).
 *
 * @module
 */

/** Syslog priorities, numerically as in <syslog.h>. */
export const Priority = {
  Emerg: 0,
  Alert: 1,
  Crit: 2,
  Err: 3,
  Warning: 4,
  Notice: 5,
  Info: 6,
  Debug: 7,
} as const;
export type Priority = typeof Priority[keyof typeof Priority];

/** Level names as the C daemon prints them on stderr (`%-7s`). */
export const PRIORITY_NAMES: Readonly<Record<Priority, string>> = {
  [Priority.Emerg]: "emerg",
  [Priority.Alert]: "alert",
  [Priority.Crit]: "crit",
  [Priority.Err]: "error",
  [Priority.Warning]: "warning",
  [Priority.Notice]: "notice",
  [Priority.Info]: "info",
  [Priority.Debug]: "debug",
};

/**
 * What a log line is about, for structured logs (`-S log_format=json`): the text format
 * ignores them, so the C daemon's lines stay byte for byte.
 */
export interface LogFields {
  /** The cluster name, as the logs print it. */
  readonly cluster?: string;
  readonly nodeId?: number;
  /** The client's "addr:port". */
  readonly clientAddress?: string;
  /** The REPLY_ERROR_CODE sent with the line's error reply. */
  readonly errorCode?: number;
}

/**
 * A log sink. Debug filtering happens in the sink, so the core can always call it. `fields`
 * says what the line is about (see {@link LogFields}).
 */
export type Log = (priority: Priority, message: string, fields?: LogFields) => void;

/** A sink that drops everything. */
export const nullLog: Log = () => {};

/** One recorded line, for tests. */
export interface LogLine {
  readonly priority: Priority;
  readonly message: string;
  /** Present only when the line came with fields. */
  readonly fields?: LogFields;
}

/** A sink that keeps every line in memory, for tests. */
export function recordingLog(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    log: (priority, message, fields) =>
      lines.push(fields === undefined ? { priority, message } : { priority, message, fields }),
    lines,
  };
}
