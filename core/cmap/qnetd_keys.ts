/**
 * The qnetd key schema of the daemon's cmap (documented in docs/cmap.md): which keys hold the
 * settings and which of those a client may change live, how a written value is checked and
 * applied, and how the runtime keys (`runtime.connections.*`, `runtime.clusters.*`,
 * `runtime.services.qnetd.*`) are computed from the daemon's state. Pure: the daemon glue
 * (cli/daemon_cmap.ts) feeds it state and writes the result into a {@link CmapStore}.
 *
 * The settings are the `-S` advanced settings (core/settings.ts) and the command-line options
 * under `qnetd.<name>`, plus `logging.debug` as corosync spells it (cmap_keys(7)).
 *
 * @module
 */
import { type ArbiterSettings } from "../arbiter/settings.ts";
import type { ClientSnapshot, ServerSnapshot } from "../arbiter/snapshot.ts";
import { parseBoolStr, strtonum } from "../c_parse.ts";
import {
  DECISION_ALGORITHM_NAMES,
  HEURISTICS_NAMES,
  MSG_TYPE_NAMES,
  type MsgType,
  TieBreakerMode,
  TLS_SUPPORTED_NAMES,
  voteName,
} from "../protocol/constants.ts";
import type { NodeInfo, TieBreaker } from "../protocol/types.ts";
import { type QnetdSettings, SETTINGS_TABLE } from "../settings.ts";
import { CmapError, CsError } from "./errors.ts";
import type { ReadOnlyEntry } from "./read_only.ts";
import type { CmapStore } from "./store.ts";
import type { CmapValue } from "./value.ts";

/** Every live setting: the arbiter, the TCP server and cmap share one such object. */
export type QnetdLiveSettings = QnetdSettings & ArbiterSettings;

/** Debug level: 0 off, 1 `-d`, 2 `-dd`. */
export type QnetdDebugLevel = 0 | 1 | 2;

/** What the settings keys read and write. `debugLevel` is an accessor onto the logger. */
export interface QnetdConfigState {
  readonly settings: QnetdLiveSettings;
  /** `-l` verbatim, or `*` for the wildcard. */
  readonly listenAddress: string;
  readonly port: number;
  debugLevel: QnetdDebugLevel;
}

/** Prefix of the settings keys. */
export const SETTINGS_PREFIX = "qnetd.";
/** Prefix of the runtime keys, all computed and read-only. */
export const RUNTIME_PREFIX = "runtime.";
/** 1 while the configuration file is being re-read (SIGHUP), else 0. */
export const RELOAD_KEY = "config.reload_in_progress";
/** Debug logging, as corosync names it: `off`, `on` or `trace`. */
export const DEBUG_KEY = "logging.debug";

type ValueType = CmapValue["type"];

/** One key that mirrors a setting. */
export interface SettingKey {
  /** The cmap key. */
  readonly key: string;
  readonly type: ValueType;
  /** True if a client may change it while the daemon runs (takes effect at once). */
  readonly writable: boolean;
  /** The current value. */
  read(state: QnetdConfigState): CmapValue;
  /**
   * The value a client's `value` stands for, as typed text parsed by the `-S` rules; throws
   * CS_ERR_INVALID_PARAM. Checks against the other settings in `state` too.
   */
  check(value: CmapValue, state: QnetdConfigState): CmapValue;
  /** Stores a checked value into `state`. */
  apply(value: CmapValue, state: QnetdConfigState): void;
}

/** The text a client's value stands for (what `-S name=TEXT` would say), or undefined. */
function valueText(value: CmapValue): string | undefined {
  switch (value.type) {
    case "bin":
      return undefined;
    case "str":
      return value.value;
    default:
      return String(value.value);
  }
}

function invalid(key: string, value: CmapValue): CmapError {
  return new CmapError(CsError.InvalidParam, `Invalid value ${valueText(value)} for ${key}`);
}

/** A typed value of `type` for a plain setting value. */
function typed(type: ValueType, raw: unknown): CmapValue {
  switch (type) {
    case "u8":
      return { type, value: raw === true ? 1 : raw === false ? 0 : Number(raw) };
    case "u64":
      return { type, value: BigInt(raw as number) };
    case "str":
      return { type, value: String(raw) };
    case "dbl":
      return { type, value: Number(raw) };
    default:
      return { type: "u32", value: Number(raw) };
  }
}

/** The raw setting of a checked typed value. */
function untyped(value: CmapValue, boolean: boolean): unknown {
  if (boolean) return value.value === 1;
  return typeof value.value === "bigint" ? Number(value.value) : value.value;
}

/** cmap type per `-S` setting: sizes up to LLONG_MAX are u64, booleans u8, text str. */
const SETTING_TYPES: ReadonlyMap<keyof QnetdSettings, ValueType> = new Map<
  keyof QnetdSettings,
  ValueType
>([
  ["listenBacklog", "u32"],
  ["maxClientSendBuffers", "u64"],
  ["maxClientSendSize", "u64"],
  ["maxClientReceiveSize", "u64"],
  ["nssDbDir", "str"],
  ["certNickname", "str"],
  ["heartbeatIntervalMin", "u32"],
  ["heartbeatIntervalMax", "u32"],
  ["dpdEnabled", "u8"],
  ["dpdIntervalCoefficient", "dbl"],
  ["lockFile", "str"],
  ["localSocketFile", "str"],
  ["localSocketBacklog", "u32"],
  ["ipcMaxClients", "u64"],
  ["ipcMaxReceiveSize", "u64"],
  ["ipcMaxSendSize", "u64"],
  ["keepActivePartitionTieBreaker", "u8"],
  ["metricsListen", "str"],
  ["historyEventsPerCluster", "u32"],
  ["historyMaxMemory", "u64"],
  ["logFormat", "str"],
]);

/**
 * Settings a client may change live. Each is read by the daemon at its point of use:
 * the DPD timer of a client is computed at connect, INIT and SET_OPTION (so a new
 * coefficient applies from a client's next one), heartbeat bounds at INIT/SET_OPTION,
 * `max_clients` at accept, the send-buffer limit at every send, the keep-active default at
 * INIT, the history limits at the next event, the log format at the next line. Everything else (sockets, TLS, sizes
 * advertised to clients, IPC limits) is read-only: changing it needs a restart.
 */
export const LIVE_SETTINGS: ReadonlySet<string> = new Set([
  "heartbeat_interval_min",
  "heartbeat_interval_max",
  "dpd_enabled",
  "dpd_interval_coefficient",
  "max_clients",
  "keep_active_partition_tie_breaker",
  "max_client_send_buffers",
  "history_events_per_cluster",
  "history_max_memory",
  "log_format",
]);

/** Heartbeat bounds must stay ordered, or every INIT would be refused. */
function checkHeartbeatBounds(settings: QnetdLiveSettings): boolean {
  return settings.heartbeatIntervalMin <= settings.heartbeatIntervalMax;
}

function settingKey(
  name: string,
  type: ValueType,
  get: (state: QnetdConfigState) => unknown,
  parse: (text: string) => unknown,
  set: ((state: QnetdConfigState, raw: unknown) => void) | undefined,
): SettingKey {
  const key = SETTINGS_PREFIX + name;
  const boolean = type === "u8";
  return {
    key,
    type,
    writable: set !== undefined && LIVE_SETTINGS.has(name),
    read: (state) => typed(type, get(state)),
    check(value, state) {
      const text = valueText(value);
      const raw = text === undefined ? undefined : parse(text);
      if (raw === undefined) throw invalid(key, value);
      const canonical = typed(type, raw);
      if (name.startsWith("heartbeat_interval_")) {
        const trial = { ...state.settings };
        set?.({ ...state, settings: trial }, untyped(canonical, boolean));
        if (!checkHeartbeatBounds(trial)) throw invalid(key, value);
      }
      return canonical;
    },
    apply(value, state) {
      set?.(state, untyped(value, boolean));
    },
  };
}

const LLONG_MAX = 2n ** 63n - 1n;
const integerText = (min: bigint, max: bigint) => (text: string) => {
  const n = strtonum(text, min, max);
  return n === undefined ? undefined : Number(n);
};

/** The command-line options as keys (`-l`, `-p`, `-s`, `-c`, `-m`). */
const OPTION_KEYS: readonly SettingKey[] = [
  settingKey("listen_address", "str", (s) => s.listenAddress, () => undefined, undefined),
  settingKey("port", "u32", (s) => s.port, () => undefined, undefined),
  settingKey(
    "tls",
    "str",
    (s) => ["off", "on", "req"][s.settings.tlsSupported],
    () => undefined,
    undefined,
  ),
  settingKey(
    "client_cert_required",
    "u8",
    (s) => s.settings.tlsClientCertRequired,
    () => undefined,
    undefined,
  ),
  settingKey(
    "max_clients",
    "u64",
    (s) => s.settings.maxClients,
    integerText(0n, LLONG_MAX),
    (s, raw) => {
      s.settings.maxClients = raw as number;
    },
  ),
];

/** Every `-S` setting as a key, in the table order. */
const ADVANCED_KEYS: readonly SettingKey[] = [...SETTINGS_TABLE.values()].flatMap((spec) => {
  const field = spec.key;
  if (field === undefined) return [];
  const type = SETTING_TYPES.get(field) ?? "str";
  const parse = (text: string) => {
    // Booleans as numbers: the -S parser takes 0/1 too.
    return spec.parse(text);
  };
  return [
    settingKey(
      spec.name,
      type,
      (s) => s.settings[field],
      parse,
      (s, raw) => {
        (s.settings as unknown as Record<string, unknown>)[field] = raw;
      },
    ),
  ];
});

const DEBUG_NAMES = ["off", "on", "trace"] as const;

/** `logging.debug`: off (0), on (`-d`, 1) or trace (`-dd`, 2); also yes/no/1/0. */
const DEBUG_SETTING: SettingKey = {
  key: DEBUG_KEY,
  type: "str",
  writable: true,
  read: (state) => ({ type: "str", value: DEBUG_NAMES[state.debugLevel] }),
  check(value) {
    const text = valueText(value);
    if (text === undefined) throw invalid(DEBUG_KEY, value);
    const lower = text.toLowerCase();
    let level = DEBUG_NAMES.indexOf(lower as typeof DEBUG_NAMES[number]);
    if (level < 0) {
      const asBool = parseBoolStr(text);
      if (asBool === undefined) throw invalid(DEBUG_KEY, value);
      level = asBool ? 1 : 0;
    }
    return { type: "str", value: DEBUG_NAMES[level]! };
  },
  apply(value, state) {
    state.debugLevel = DEBUG_NAMES.indexOf(value.value as typeof DEBUG_NAMES[number]) as 0;
  },
};

/** Every settings key. */
export const SETTING_KEYS: ReadonlyMap<string, SettingKey> = new Map(
  [...OPTION_KEYS, ...ADVANCED_KEYS, DEBUG_SETTING].map((k) => [k.key, k]),
);

/**
 * The read-only entries of the daemon's store: every settings key (writable ones are
 * written through their {@link SettingKey}, never as plain keys, and none may be deleted),
 * the runtime prefix and the reload flag.
 */
export function qnetdReadOnlyEntries(): ReadOnlyEntry[] {
  return [
    ...[...SETTING_KEYS.keys()].map((name) => ({ name, prefix: false })),
    { name: RUNTIME_PREFIX, prefix: true },
    { name: RELOAD_KEY, prefix: false },
  ];
}

/** Writes every settings key's current value into `store` (notifying trackers of changes). */
export function writeSettingKeys(store: CmapStore, state: QnetdConfigState): void {
  for (const setting of SETTING_KEYS.values()) store.set(setting.key, setting.read(state));
}

// ---------------------------------------------------------------------------------------
// Runtime keys

/** Counters of one connection, TCP or local IPC (fields left out when unknown). */
export interface ConnectionCounters {
  /** `tcp:N` or `ipc:N`: unique for the daemon's lifetime. */
  readonly id: string;
  /** Peer address for TCP, the command for IPC. */
  readonly name: string;
  /** 1 = QNet protocol over TCP, 2 = local IPC socket (our numbering). */
  readonly serviceId: number;
  readonly requests: number;
  readonly responses: number;
  readonly dispatched?: number;
  readonly invalidRequests?: number;
  readonly overload?: number;
  readonly queueSize?: number;
  readonly sendRetries?: number;
}

/** Per message type: received (rx) and sent (tx) since start. Indexed by type number. */
export interface MessageCounters {
  readonly rx: number[];
  readonly tx: number[];
}

/** Fresh zeroed message counters. */
export function newMessageCounters(): MessageCounters {
  const size = Object.keys(MSG_TYPE_NAMES).length;
  return { rx: new Array(size).fill(0), tx: new Array(size).fill(0) };
}

/** What the runtime keys are made from. */
export interface RuntimeState {
  readonly snapshot: ServerSnapshot;
  readonly connections: Iterable<ConnectionCounters>;
  /** Connections closed since start (TCP and IPC). */
  readonly closed: number;
  readonly messages: MessageCounters;
}

/** `Vote info reply` → `vote_info_reply`. */
export function msgKeyName(type: MsgType): string {
  return MSG_TYPE_NAMES[type].toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

const SAFE_KEY_CHAR = /[A-Za-z0-9_-]/;

/**
 * A cluster name as one key component: bytes outside `A-Z a-z 0-9 _ -` become `:XX` (hex),
 * so names with dots, spaces or non-ASCII bytes stay one component and stay distinct.
 */
export function clusterKeyName(name: Uint8Array): string {
  let out = "";
  for (const byte of name) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE_KEY_CHAR.test(c)
      ? c
      : `:${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out === "" ? ":" : out;
}

function nodeList(nodes: readonly NodeInfo[]): string {
  return nodes.map((n) => (n.dataCenterId !== 0 ? `${n.nodeId}/${n.dataCenterId}` : `${n.nodeId}`))
    .join(" ");
}

function tieBreakerText(tb: TieBreaker): string {
  switch (tb.mode) {
    case TieBreakerMode.Lowest:
      return "lowest";
    case TieBreakerMode.Highest:
      return "highest";
    case TieBreakerMode.NodeId:
      return `node_id ${tb.nodeId}`;
    default:
      return "unknown";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A cluster name as str when it is UTF-8 without NUL, else bin. */
function nameValue(name: Uint8Array): CmapValue {
  try {
    const text = decoder.decode(name);
    if (!text.includes("\0")) return { type: "str", value: text };
  } catch {
    // not UTF-8: keep the bytes
  }
  return { type: "bin", value: name.slice() };
}

function clientEntries(out: Map<string, CmapValue>, base: string, c: ClientSnapshot): void {
  const str = (value: string): CmapValue => ({ type: "str", value });
  const u8 = (value: boolean): CmapValue => ({ type: "u8", value: value ? 1 : 0 });
  out.set(`${base}address`, str(c.address));
  out.set(`${base}node_id`, { type: "u32", value: c.nodeId });
  out.set(`${base}heartbeat_interval`, { type: "u32", value: c.heartbeatInterval });
  out.set(`${base}ring_id`, str(`${c.ringId.nodeId.toString(16)}.${c.ringId.seq.toString(16)}`));
  if (c.configVersion !== undefined) {
    out.set(`${base}config_version`, { type: "u64", value: c.configVersion });
  }
  out.set(`${base}config_node_list`, str(nodeList(c.configNodeList)));
  out.set(`${base}membership_node_list`, str(nodeList(c.membershipNodeList)));
  out.set(`${base}quorum_node_list`, str(nodeList(c.quorumNodeList)));
  out.set(`${base}heuristics`, str(HEURISTICS_NAMES[c.lastHeuristics] ?? "unknown"));
  out.set(
    `${base}membership_heuristics`,
    str(HEURISTICS_NAMES[c.lastMembershipHeuristics] ?? "unknown"),
  );
  out.set(`${base}regular_heuristics`, str(HEURISTICS_NAMES[c.lastRegularHeuristics] ?? "unknown"));
  out.set(`${base}vote`, str(c.lastSentVote === 0 ? "none" : voteName(c.lastSentVote)));
  out.set(
    `${base}ack_nack_vote`,
    str(c.lastSentAckNackVote === 0 ? "none" : voteName(c.lastSentAckNackVote)),
  );
  out.set(`${base}tls`, u8(c.tlsStarted));
  out.set(`${base}tls_peer_certificate_verified`, u8(c.tlsPeerCertificateVerified));
  out.set(`${base}keep_active_partition_tie_breaker`, u8(c.keepActivePartitionTieBreaker));
}

/** Every runtime key and value for `state`, in no particular order. */
export function runtimeEntries(state: RuntimeState): Map<string, CmapValue> {
  const out = new Map<string, CmapValue>();
  const u64 = (n: number): CmapValue => ({ type: "u64", value: BigInt(n) });
  const connections = [...state.connections];
  out.set("runtime.connections.active", u64(connections.length));
  out.set("runtime.connections.closed", u64(state.closed));
  for (const c of connections) {
    const base = `runtime.connections.${c.id}.`;
    out.set(`${base}name`, { type: "str", value: c.name });
    out.set(`${base}service_id`, { type: "u32", value: c.serviceId });
    out.set(`${base}requests`, u64(c.requests));
    out.set(`${base}responses`, u64(c.responses));
    if (c.dispatched !== undefined) out.set(`${base}dispatched`, u64(c.dispatched));
    if (c.invalidRequests !== undefined) out.set(`${base}invalid_request`, u64(c.invalidRequests));
    if (c.overload !== undefined) out.set(`${base}overload`, u64(c.overload));
    if (c.queueSize !== undefined) {
      out.set(`${base}queue_size`, { type: "u32", value: c.queueSize });
    }
    if (c.sendRetries !== undefined) out.set(`${base}send_retries`, u64(c.sendRetries));
  }
  const snap = state.snapshot;
  out.set("runtime.clients.connected", { type: "u32", value: snap.connectedClients });
  for (const cluster of snap.clusters) {
    const base = `runtime.clusters.${clusterKeyName(cluster.name)}.`;
    if (base.length > 200) continue; // the node keys would pass the 255-character limit
    out.set(`${base}name`, nameValue(cluster.name));
    out.set(`${base}algorithm`, {
      type: "str",
      value: DECISION_ALGORITHM_NAMES[cluster.decisionAlgorithm] ?? "unknown",
    });
    out.set(`${base}tie_breaker`, { type: "str", value: tieBreakerText(cluster.tieBreaker) });
    out.set(`${base}node_count`, { type: "u32", value: cluster.clients.length });
    for (const client of cluster.clients) {
      clientEntries(out, `${base}nodes.${client.nodeId}.`, client);
    }
  }
  out.set("runtime.services.qnetd.tls", {
    type: "str",
    value: TLS_SUPPORTED_NAMES[snap.tlsSupported] ?? "unknown",
  });
  for (const [type] of Object.entries(MSG_TYPE_NAMES)) {
    const t = Number(type) as MsgType;
    const base = `runtime.services.qnetd.${msgKeyName(t)}.`;
    out.set(`${base}rx`, u64(state.messages.rx[t] ?? 0));
    out.set(`${base}tx`, u64(state.messages.tx[t] ?? 0));
  }
  return out;
}

/**
 * Makes the keys of `store` under `prefix` equal `wanted`: sets what changed (unchanged
 * values notify nobody) and deletes what is gone. Keys of `wanted` outside `prefix` are
 * ignored.
 */
export function syncPrefix(
  store: CmapStore,
  prefix: string,
  wanted: ReadonlyMap<string, CmapValue>,
): void {
  for (const key of store.keys(prefix)) if (!wanted.has(key)) store.delete(key);
  for (const [key, value] of wanted) if (key.startsWith(prefix)) store.set(key, value);
}
