/**
 * A TOML configuration file for the daemon, as an alternative to its command line. Keys are
 * the `-S` advanced-setting names (`listen_backlog = 10`, `dpd_enabled = true`, validated by
 * the same table as `-S`, core/settings.ts) and the daemon options `port`, `listen_address`,
 * `tls`, `client_cert_required`, `max_clients`, `debug`, either at top level or in a `[daemon]`
 * table. Names match case-insensitively, like `-S`.
 *
 * TOML values are converted to the `-S` text form before validation: booleans become `on` /
 * `off`, numbers their decimal text; strings are taken as typed (so `dpd_enabled = "yes"` works
 * too). Errors name the key and, where it can be found, its line.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { asciiLower, parseBoolStr, strtonum } from "../c_parse.ts";
import { type QnetdSettings, SETTINGS_TABLE } from "../settings.ts";

/** The daemon options a config file may set (the -l, -p, -s, -c, -m and -d options). */
export interface DaemonOptions {
  listenAddress: string;
  port: number;
  tls: "on" | "off" | "req";
  clientCertRequired: boolean;
  maxClients: number;
  /** How many times `-d` was given (0..2). */
  debug: number;
}

/** What a config file sets: only the keys it names. */
export interface QnetdConfig {
  readonly daemon: Partial<DaemonOptions>;
  readonly settings: Partial<QnetdSettings>;
  /** Messages about deprecated keys (`dpd_interval`). */
  readonly warnings: string[];
}

/** A config file that cannot be used. `line` is 1-based when known. */
export class ConfigFileError extends SyntaxError {
  override name = "ConfigFileError";
  readonly line: number | undefined;
  constructor(message: string, line?: number, options?: ErrorOptions) {
    super(line === undefined ? message : `Line ${line}: ${message}`, options);
    this.line = line;
  }
}

type DaemonParser = (value: string) => DaemonOptions[keyof DaemonOptions] | undefined;

/** Validation of the daemon options, as corosync-qnetd.c's getopt loop does it. */
const DAEMON_OPTIONS: ReadonlyMap<string, [keyof DaemonOptions, DaemonParser]> = new Map<
  string,
  [keyof DaemonOptions, DaemonParser]
>([
  ["listen_address", ["listenAddress", (v) => v]],
  ["port", ["port", (v) => {
    const n = strtonum(v, 1n, 65535n);
    return n === undefined ? undefined : Number(n);
  }]],
  ["tls", ["tls", (v) => {
    const lower = asciiLower(v);
    return lower === "on" || lower === "off" || lower === "req" ? lower : undefined;
  }]],
  ["client_cert_required", ["clientCertRequired", parseBoolStr]],
  ["max_clients", ["maxClients", (v) => {
    const n = strtonum(v, 0n, 2n ** 63n - 1n);
    return n === undefined ? undefined : Number(n);
  }]],
  ["debug", ["debug", (v) => {
    const asBool = parseBoolStr(v);
    if (asBool !== undefined) return asBool ? 1 : 0;
    const n = strtonum(v, 0n, 2n);
    return n === undefined ? undefined : Number(n);
  }]],
]);

/** The `-S` text of a TOML value, or undefined for tables, arrays and dates. */
function asOptionText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  return undefined;
}

/** The line where `key` is assigned (first or last match), if it can be found. */
function lineOf(text: string, key: string, last = false): number | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^\\s*["']?${escaped}["']?\\s*=`, "i");
  const lines = text.split("\n");
  const index = last
    ? lines.findLastIndex((l) => pattern.test(l))
    : lines.findIndex((l) => pattern.test(l));
  return index < 0 ? undefined : index + 1;
}

/** Parses a config file's text. Throws {@link ConfigFileError}. */
export function parseConfigToml(text: string): QnetdConfig {
  let table: Record<string, unknown>;
  try {
    table = parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new ConfigFileError(error.message.split("\n")[0]!, error.line, { cause: error });
    }
    throw error;
  }
  const daemon: Partial<DaemonOptions> = {};
  const settings: Partial<QnetdSettings> = {};
  const warnings: string[] = [];
  const seen = new Set<string>();

  const apply = (rawName: string, value: unknown, inDaemonTable: boolean) => {
    const name = asciiLower(rawName);
    const shown = inDaemonTable ? `daemon.${rawName}` : rawName;
    const line = lineOf(text, rawName);
    if (seen.has(name)) {
      throw new ConfigFileError(`Option '${shown}' is set twice`, lineOf(text, rawName, true));
    }
    seen.add(name);
    const optionText = asOptionText(value);
    const daemonOption = DAEMON_OPTIONS.get(name);
    const setting = inDaemonTable ? undefined : SETTINGS_TABLE.get(name);
    if (daemonOption === undefined && setting === undefined) {
      throw new ConfigFileError(`Unknown option '${shown}'`, line);
    }
    const invalid = () =>
      new ConfigFileError(
        `Invalid value ${JSON.stringify(describeValue(value))} for option '${shown}'`,
        line,
      );
    if (optionText === undefined) throw invalid();
    if (daemonOption !== undefined) {
      const [field, parseValue] = daemonOption;
      const parsed = parseValue(optionText);
      if (parsed === undefined) throw invalid();
      (daemon as Record<string, unknown>)[field] = parsed;
      return;
    }
    if (setting!.key === undefined) {
      warnings.push(`Option '${rawName}' is deprecated and has no effect anymore`);
      return;
    }
    const parsed = setting!.parse(optionText);
    if (parsed === undefined) throw invalid();
    (settings as Record<string, unknown>)[setting!.key] = parsed;
  };

  for (const [name, value] of Object.entries(table)) {
    if (
      asciiLower(name) === "daemon" && typeof value === "object" && value !== null &&
      !Array.isArray(value)
    ) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        apply(inner, innerValue, true);
      }
    } else apply(name, value, false);
  }
  return { daemon, settings, warnings };
}

/**
 * Text for a rejected value. smol-toml's tables have no prototype, so `String()` of one throws;
 * the fuzzer found that (tests/fuzz/regressions/config_toml).
 */
function describeValue(value: unknown): string {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return "<table>";
  return String(value);
}
