import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  applySettings,
  DEFAULT_QNETD_SETTINGS,
  defaultQnetdSettings,
  type QnetdSettings,
  setSetting,
  SETTINGS_TABLE,
  tokenizeSettings,
} from "../../core/settings.ts";

Deno.test("defaultQnetdSettings() returns the qnet-config.h defaults", () => {
  deepStrictEqual(defaultQnetdSettings(), {
    listenBacklog: 10,
    maxClientSendBuffers: 32,
    maxClientSendSize: 32768,
    maxClientReceiveSize: 32768,
    nssDbDir: "/etc/corosync/qnetd/nssdb",
    certNickname: "QNetd Cert",
    heartbeatIntervalMin: 1000,
    heartbeatIntervalMax: 120000,
    dpdEnabled: true,
    dpdIntervalCoefficient: 1.5,
    lockFile: "/var/run/corosync-qnetd/corosync-qnetd.pid",
    localSocketFile: "/var/run/corosync-qnetd/corosync-qnetd.sock",
    localSocketBacklog: 10,
    ipcMaxClients: 10,
    ipcMaxReceiveSize: 4096,
    ipcMaxSendSize: 10485760,
    keepActivePartitionTieBreaker: false,
    metricsListen: "",
    historyEventsPerCluster: 200,
    historyMaxMemory: 4 * 1024 * 1024,
    logFormat: "text",
  });
});

Deno.test("defaultQnetdSettings() returns a fresh copy each time", () => {
  const a = defaultQnetdSettings();
  a.listenBacklog = 99;
  strictEqual(defaultQnetdSettings().listenBacklog, 10);
  strictEqual(DEFAULT_QNETD_SETTINGS.listenBacklog, 10);
});

/** [name, field, lowest accepted, below it, highest accepted, above it] for integer settings. */
const INTEGER_BOUNDS: Array<[string, keyof QnetdSettings, string, string, string, string]> = [
  ["listen_backlog", "listenBacklog", "1", "0", "2147483647", "2147483648"],
  [
    "max_client_send_buffers",
    "maxClientSendBuffers",
    "2",
    "1",
    "9223372036854775807",
    "9223372036854775808",
  ],
  [
    "max_client_send_size",
    "maxClientSendSize",
    "16",
    "15",
    "9223372036854775807",
    "9223372036854775808",
  ],
  [
    "max_client_receive_size",
    "maxClientReceiveSize",
    "16",
    "15",
    "9223372036854775807",
    "9223372036854775808",
  ],
  ["heartbeat_interval_min", "heartbeatIntervalMin", "1", "0", "4294967295", "4294967296"],
  ["heartbeat_interval_max", "heartbeatIntervalMax", "1", "0", "4294967295", "4294967296"],
  ["local_socket_backlog", "localSocketBacklog", "1", "0", "2147483647", "2147483648"],
  ["ipc_max_clients", "ipcMaxClients", "0", "-1", "9223372036854775807", "9223372036854775808"],
  [
    "ipc_max_receive_size",
    "ipcMaxReceiveSize",
    "1024",
    "1023",
    "9223372036854775807",
    "9223372036854775808",
  ],
  [
    "ipc_max_send_size",
    "ipcMaxSendSize",
    "1024",
    "1023",
    "9223372036854775807",
    "9223372036854775808",
  ],
];

for (const [name, key, low, belowLow, high, aboveHigh] of INTEGER_BOUNDS) {
  Deno.test(`setSetting() checks the bounds of ${name}`, () => {
    const s = defaultQnetdSettings();
    strictEqual(setSetting(s, name, low), "ok");
    strictEqual(s[key], Number(low));
    strictEqual(setSetting(s, name, high), "ok");
    strictEqual(s[key], Number(high));
    for (const bad of [belowLow, aboveHigh, "", "1x", "0x10", " "]) {
      strictEqual(setSetting(s, name, bad), "invalid", `${name}=${bad}`);
    }
    strictEqual(s[key], Number(high), "an invalid value leaves the setting alone");
  });
}

Deno.test("setSetting() takes string settings verbatim", () => {
  const s = defaultQnetdSettings();
  for (
    const [name, key] of [
      ["nss_db_dir", "nssDbDir"],
      ["cert_nickname", "certNickname"],
      ["lock_file", "lockFile"],
      ["local_socket_file", "localSocketFile"],
    ] as const
  ) {
    strictEqual(setSetting(s, name, " a=b "), "ok");
    strictEqual(s[key], " a=b ");
    strictEqual(setSetting(s, name, ""), "ok");
    strictEqual(s[key], "");
  }
});

Deno.test("setSetting() parses boolean settings like utils_parse_bool_str()", () => {
  const s = defaultQnetdSettings();
  strictEqual(setSetting(s, "dpd_enabled", "OFF"), "ok");
  strictEqual(s.dpdEnabled, false);
  strictEqual(setSetting(s, "dpd_enabled", "yes"), "ok");
  strictEqual(s.dpdEnabled, true);
  strictEqual(setSetting(s, "keep_active_partition_tie_breaker", "1"), "ok");
  strictEqual(s.keepActivePartitionTieBreaker, true);
  strictEqual(setSetting(s, "keep_active_partition_tie_breaker", "maybe"), "invalid");
  strictEqual(setSetting(s, "dpd_enabled", ""), "invalid");
});

Deno.test("setSetting() bounds dpd_interval_coefficient to 1..1000 and rejects NaN", () => {
  const s = defaultQnetdSettings();
  for (
    const [value, expected] of [["1", 1], ["1000", 1000], ["2.25", 2.25], ["0x1p3", 8]] as const
  ) {
    strictEqual(setSetting(s, "dpd_interval_coefficient", value), "ok");
    strictEqual(s.dpdIntervalCoefficient, expected);
  }
  for (const bad of ["0.99", "1000.5", "nan", "inf", "", "1.5x"]) {
    strictEqual(setSetting(s, "dpd_interval_coefficient", bad), "invalid", bad);
  }
});

Deno.test("setSetting() reports dpd_interval as deprecated whatever the value", () => {
  const s = defaultQnetdSettings();
  strictEqual(setSetting(s, "dpd_interval", "garbage"), "deprecated");
  deepStrictEqual(s, defaultQnetdSettings());
});

Deno.test("setSetting() matches names case-insensitively and rejects unknown ones", () => {
  const s = defaultQnetdSettings();
  strictEqual(setSetting(s, "LISTEN_Backlog", "7"), "ok");
  strictEqual(s.listenBacklog, 7);
  strictEqual(setSetting(s, "local_socket_umask", "1"), "unknown"); // newer than 3.0.3
  strictEqual(setSetting(s, " listen_backlog", "1"), "unknown");
  strictEqual(setSetting(s, "", "1"), "unknown");
});

Deno.test("SETTINGS_TABLE has one row per setting plus dpd_interval", () => {
  const keys = [...SETTINGS_TABLE.values()].map((s) => s.key).filter((k) => k !== undefined);
  deepStrictEqual(keys.sort(), Object.keys(DEFAULT_QNETD_SETTINGS).sort());
  strictEqual(SETTINGS_TABLE.size, keys.length + 1);
});

const TOKENS: Array<[string, Array<[string, string]>]> = [
  ["a=1,b=2", [["a", "1"], ["b", "2"]]],
  ["a", [["a", ""]]],
  ["a=", [["a", ""]]],
  ["x=a=b", [["x", "a=b"]]],
  ["a=1,", [["a", "1"]]],
  ["a=1,,b=2", [["a", "1"]]], // an empty token ends the list
  [",a=1", []],
  ["=5,a=1", []],
  ["", []],
  [" a = 1 ", [[" a ", " 1 "]]], // no trimming
];

for (const [input, expected] of TOKENS) {
  Deno.test(`tokenizeSettings() splits ${JSON.stringify(input)}`, () => {
    deepStrictEqual(tokenizeSettings(input), expected);
  });
}

Deno.test("applySettings() applies in order and stops at the first error", () => {
  const s = defaultQnetdSettings();
  const r = applySettings(s, "listen_backlog=5,dpd_interval=1,foo=1,ipc_max_clients=3");
  deepStrictEqual(r, {
    warnings: ["Option 'dpd_interval' is deprecated and has no effect anymore"],
    error: "Unknown option 'foo'",
  });
  strictEqual(s.listenBacklog, 5);
  strictEqual(s.ipcMaxClients, 10);
});

Deno.test("applySettings() quotes the name and value as typed", () => {
  const s = defaultQnetdSettings();
  deepStrictEqual(applySettings(s, "DPD_Interval,LISTEN_BACKLOG=0"), {
    warnings: ["Option 'DPD_Interval' is deprecated and has no effect anymore"],
    error: "Invalid value '0' for option 'LISTEN_BACKLOG'",
  });
  deepStrictEqual(applySettings(s, "listen_backlog"), {
    warnings: [],
    error: "Invalid value '' for option 'listen_backlog'",
  });
});
