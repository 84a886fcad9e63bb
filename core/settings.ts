/**
 * The daemon's advanced settings (`-S name=value,...`): their defaults, their parsers and
 * limits, and the quirky `-S` tokenizer. Port of qdevices/qnetd-advanced-settings.c,
 * dynar-getopt-lex.c and the QNETD_* defaults in qnet-config.h (corosync-qdevice v3.0.3).
 *
 * @module
 */
import { asciiLower, parseBoolStr, strtod, strtonum } from "./c_parse.ts";
import { parseMetricsListen } from "./metrics/listen_address.ts";
import { DEFAULT_HISTORY_LIMITS } from "./arbiter/history.ts";

/** Every advanced setting, typed. Sizes and counts are plain numbers (see `settingsTable`). */
export interface QnetdSettings {
  listenBacklog: number;
  maxClientSendBuffers: number;
  /** Sent to clients as SERVER_MAXIMUM_REPLY_SIZE. */
  maxClientSendSize: number;
  /** Sent to clients as SERVER_MAXIMUM_REQUEST_SIZE; longer messages are skipped. */
  maxClientReceiveSize: number;
  nssDbDir: string;
  certNickname: string;
  heartbeatIntervalMin: number;
  heartbeatIntervalMax: number;
  dpdEnabled: boolean;
  dpdIntervalCoefficient: number;
  lockFile: string;
  localSocketFile: string;
  localSocketBacklog: number;
  /** 0 means unlimited. */
  ipcMaxClients: number;
  ipcMaxReceiveSize: number;
  ipcMaxSendSize: number;
  keepActivePartitionTieBreaker: boolean;
  /** `ADDR:PORT` of the Prometheus metrics endpoint (`GET /metrics`); empty: none (qnet only). */
  metricsListen: string;
  /** Decision-history events kept per cluster (`qnetd-tool --events`); 0 = no history. */
  historyEventsPerCluster: number;
  /** Bytes the decision history may use over every cluster (oldest events go first). */
  historyMaxMemory: number;
  /** `text`: the C daemon's log lines; `json`: one JSON object per line (structured fields). */
  logFormat: LogFormat;
}

/** The log formats of `log_format`. */
export type LogFormat = "text" | "json";

/** Port of qnetd_advanced_settings_init(): the built-in defaults (Debian paths). */
export const DEFAULT_QNETD_SETTINGS: Readonly<QnetdSettings> = Object.freeze({
  listenBacklog: 10,
  maxClientSendBuffers: 32,
  maxClientSendSize: 1 << 15,
  maxClientReceiveSize: 1 << 15,
  nssDbDir: "/etc/corosync/qnetd/nssdb",
  certNickname: "QNetd Cert",
  heartbeatIntervalMin: 1000,
  heartbeatIntervalMax: 2 * 60 * 1000,
  dpdEnabled: true,
  dpdIntervalCoefficient: 1.5,
  lockFile: "/var/run/corosync-qnetd/corosync-qnetd.pid",
  localSocketFile: "/var/run/corosync-qnetd/corosync-qnetd.sock",
  localSocketBacklog: 10,
  ipcMaxClients: 10,
  ipcMaxReceiveSize: 4 * 1024,
  ipcMaxSendSize: 10 * 1024 * 1024,
  keepActivePartitionTieBreaker: false,
  metricsListen: "",
  historyEventsPerCluster: DEFAULT_HISTORY_LIMITS.historyEventsPerCluster,
  historyMaxMemory: DEFAULT_HISTORY_LIMITS.historyMaxMemory,
  logFormat: "text",
});

/** A fresh, mutable copy of the defaults. */
export function defaultQnetdSettings(): QnetdSettings {
  return { ...DEFAULT_QNETD_SETTINGS };
}

const INT_MAX = 2n ** 31n - 1n;
const LLONG_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;
/** More events per cluster than anyone reads; keeps a typo from meaning "unbounded". */
const HISTORY_EVENTS_MAX = 1_000_000n;

/** One row of the settings table: the `-S` name, the field it sets and how to parse it. */
export interface SettingSpec {
  /** Name as documented (lower case); matched case-insensitively. */
  readonly name: string;
  /** The field of `QnetdSettings` it sets, or `undefined` for a deprecated no-op. */
  readonly key: keyof QnetdSettings | undefined;
  /** Parses a value; `undefined` means "Invalid value". */
  readonly parse: (value: string) => QnetdSettings[keyof QnetdSettings] | undefined;
}

/**
 * An integer in `min..max`, parsed like utils_strtonum(). Limits up to LLONG_MAX are kept as
 * in C; values above 2^53 lose precision when stored as a number (harmless for sizes/counts).
 */
const integer = (min: bigint, max: bigint) => (value: string): number | undefined => {
  const parsed = strtonum(value, min, max);
  return parsed === undefined ? undefined : Number(parsed);
};
const text = (value: string): string => value;
const bool = (value: string): boolean | undefined => parseBoolStr(value);
const logFormat = (value: string): LogFormat | undefined => {
  const lower = asciiLower(value);
  return lower === "text" || lower === "json" ? lower : undefined;
};

/** The table behind qnetd_advanced_settings_set(), in the C order. Minimums from qnet-config.h. */
const SETTING_SPECS: readonly SettingSpec[] = [
  { name: "listen_backlog", key: "listenBacklog", parse: integer(1n, INT_MAX) },
  { name: "max_client_send_buffers", key: "maxClientSendBuffers", parse: integer(2n, LLONG_MAX) },
  { name: "max_client_send_size", key: "maxClientSendSize", parse: integer(16n, LLONG_MAX) },
  { name: "max_client_receive_size", key: "maxClientReceiveSize", parse: integer(16n, LLONG_MAX) },
  { name: "nss_db_dir", key: "nssDbDir", parse: text },
  { name: "cert_nickname", key: "certNickname", parse: text },
  { name: "heartbeat_interval_min", key: "heartbeatIntervalMin", parse: integer(1n, UINT32_MAX) },
  { name: "heartbeat_interval_max", key: "heartbeatIntervalMax", parse: integer(1n, UINT32_MAX) },
  { name: "dpd_enabled", key: "dpdEnabled", parse: bool },
  { name: "dpd_interval", key: undefined, parse: text },
  {
    name: "dpd_interval_coefficient",
    key: "dpdIntervalCoefficient",
    parse: (value) => strtod(value, 1, 1000),
  },
  { name: "lock_file", key: "lockFile", parse: text },
  { name: "local_socket_file", key: "localSocketFile", parse: text },
  { name: "local_socket_backlog", key: "localSocketBacklog", parse: integer(1n, INT_MAX) },
  { name: "ipc_max_clients", key: "ipcMaxClients", parse: integer(0n, LLONG_MAX) },
  { name: "ipc_max_receive_size", key: "ipcMaxReceiveSize", parse: integer(1024n, LLONG_MAX) },
  { name: "ipc_max_send_size", key: "ipcMaxSendSize", parse: integer(1024n, LLONG_MAX) },
  {
    name: "keep_active_partition_tie_breaker",
    key: "keepActivePartitionTieBreaker",
    parse: bool,
  },
  // qnet's own settings, after the C table.
  {
    name: "metrics_listen",
    key: "metricsListen",
    parse: (value) => value === "" || parseMetricsListen(value) !== undefined ? value : undefined,
  },
  // Ours (not in corosync-qnetd):
  {
    name: "history_events_per_cluster",
    key: "historyEventsPerCluster",
    parse: integer(0n, HISTORY_EVENTS_MAX),
  },
  { name: "history_max_memory", key: "historyMaxMemory", parse: integer(0n, LLONG_MAX) },
  { name: "log_format", key: "logFormat", parse: logFormat },
];

/** The settings table keyed by lower-case name. */
export const SETTINGS_TABLE: ReadonlyMap<string, SettingSpec> = new Map(
  SETTING_SPECS.map((spec) => [spec.name, spec]),
);

/** Outcome of setting one option, as qnetd_advanced_settings_set() returns it (0, -1, -2, -3). */
export type SetSettingResult = "ok" | "unknown" | "invalid" | "deprecated";

/**
 * Port of qnetd_advanced_settings_set(): sets `name` (case-insensitive) to `value` in
 * `settings`. On "invalid" the settings are left unchanged.
 */
export function setSetting(settings: QnetdSettings, name: string, value: string): SetSettingResult {
  const spec = SETTINGS_TABLE.get(asciiLower(name));
  if (spec === undefined) return "unknown";
  if (spec.key === undefined) return "deprecated";
  const parsed = spec.parse(value);
  if (parsed === undefined) return "invalid";
  (settings as unknown as Record<string, unknown>)[spec.key] = parsed;
  return "ok";
}

/**
 * Port of dynar_getopt_lex_token_next() as driven by cli_parse_long_opt() in corosync-qnetd.c:
 * splits `a=1,b=2` into name/value pairs. The value is everything after the first `=` up to the
 * next `,` (no trimming, no quoting, more `=` are kept); a token without `=` has an empty value;
 * an empty name (e.g. a leading or doubled `,`, or `=x`) ends the list, ignoring the rest.
 */
export function tokenizeSettings(input: string): Array<[name: string, value: string]> {
  const pairs: Array<[string, string]> = [];
  for (const token of input.split(",")) {
    const eq = token.indexOf("=");
    const name = eq < 0 ? token : token.slice(0, eq);
    if (name === "") break;
    pairs.push([name, eq < 0 ? "" : token.slice(eq + 1)]);
  }
  return pairs;
}

/** Result of applying a whole `-S` argument: warnings so far, and the error that stopped it. */
export interface ApplySettingsResult {
  /** Messages for stderr (without program prefix), e.g. the dpd_interval deprecation. */
  readonly warnings: string[];
  /** The message that makes the C daemon exit 1, or `undefined` if every token applied. */
  readonly error: string | undefined;
}

/**
 * Port of cli_parse_long_opt() in corosync-qnetd.c: applies every `name=value` of one `-S`
 * argument in order, stopping at the first unknown name or invalid value. Tokens before the
 * error stay applied (the C daemon exits anyway). Messages use the name and value as typed.
 */
export function applySettings(settings: QnetdSettings, input: string): ApplySettingsResult {
  const warnings: string[] = [];
  for (const [name, value] of tokenizeSettings(input)) {
    switch (setSetting(settings, name, value)) {
      case "unknown":
        return { warnings, error: `Unknown option '${name}'` };
      case "invalid":
        return { warnings, error: `Invalid value '${value}' for option '${name}'` };
      case "deprecated":
        warnings.push(`Option '${name}' is deprecated and has no effect anymore`);
        break;
      case "ok":
        break;
    }
  }
  return { warnings, error: undefined };
}
