import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { ConfigFileError, parseConfigToml } from "../../core/cmap/config_toml.ts";

function throwsConfig(text: string, message: string, line?: number): void {
  throws(() => parseConfigToml(text), (e: unknown) => {
    assertEquals(e instanceof ConfigFileError, true);
    assertEquals((e as ConfigFileError).message, message);
    assertEquals((e as ConfigFileError).line, line);
    return true;
  }, text);
}

Deno.test("parseConfigToml() reads -S settings and daemon options", () => {
  const config = parseConfigToml(`
listen_backlog = 20
dpd_enabled = false
DPD_Interval_Coefficient = 2.5
nss_db_dir = "/tmp/nss"
keep_active_partition_tie_breaker = "yes"
heartbeat_interval_max = 4294967295
dpd_interval = 1000

[daemon]
port = 5403
listen_address = "::1"
tls = "REQ"
client_cert_required = true
max_clients = 0
debug = 2
`);
  assertEquals(config, {
    daemon: {
      port: 5403,
      listenAddress: "::1",
      tls: "req",
      clientCertRequired: true,
      maxClients: 0,
      debug: 2,
    },
    settings: {
      listenBacklog: 20,
      dpdEnabled: false,
      dpdIntervalCoefficient: 2.5,
      nssDbDir: "/tmp/nss",
      keepActivePartitionTieBreaker: true,
      heartbeatIntervalMax: 4294967295,
    },
    warnings: ["Option 'dpd_interval' is deprecated and has no effect anymore"],
  });
  assertEquals(parseConfigToml('port = 1\ntls = "off"\ndebug = true\n').daemon, {
    port: 1,
    tls: "off",
    debug: 1,
  });
  assertEquals(parseConfigToml(""), { daemon: {}, settings: {}, warnings: [] });
});

Deno.test("parseConfigToml() names the key and line of a bad value", () => {
  throwsConfig("listen_backlog = 0\n", `Line 1: Invalid value "0" for option 'listen_backlog'`, 1);
  throwsConfig("# c\nport = 65536\n", `Line 2: Invalid value "65536" for option 'port'`, 2);
  throwsConfig('tls = "required"\n', `Line 1: Invalid value "required" for option 'tls'`, 1);
  throwsConfig(
    "ipc_max_receive_size = 1023\n",
    `Line 1: Invalid value "1023" for option 'ipc_max_receive_size'`,
    1,
  );
  throwsConfig(
    "dpd_interval_coefficient = nan\n",
    `Line 1: Invalid value "NaN" for option 'dpd_interval_coefficient'`,
    1,
  );
  throwsConfig(
    'dpd_enabled = "maybe"\n',
    `Line 1: Invalid value "maybe" for option 'dpd_enabled'`,
    1,
  );
  throwsConfig("lock_file = [1]\n", `Line 1: Invalid value "1" for option 'lock_file'`, 1);
  throwsConfig("max_clients = -1\n", `Line 1: Invalid value "-1" for option 'max_clients'`, 1);
});

Deno.test("parseConfigToml() rejects unknown keys, duplicates and bad TOML", () => {
  throwsConfig("\nbogus = 1\n", "Line 2: Unknown option 'bogus'", 2);
  throwsConfig(
    "[daemon]\nlisten_backlog = 1\n",
    "Line 2: Unknown option 'daemon.listen_backlog'",
    2,
  );
  throwsConfig("[other]\nx = 1\n", "Unknown option 'other'", undefined);
  throwsConfig("port = 1\n[daemon]\nport = 2\n", "Line 3: Option 'daemon.port' is set twice", 3);
  throws(
    () => parseConfigToml("port = \n"),
    (e: unknown) => e instanceof ConfigFileError && e.line === 1,
  );
});

Deno.test("parseConfigToml() reads the history limits and the log format", () => {
  const config = parseConfigToml(`
history_events_per_cluster = 50
history_max_memory = 1048576
log_format = "JSON"
`);
  assertEquals(config.settings, {
    historyEventsPerCluster: 50,
    historyMaxMemory: 1048576,
    logFormat: "json",
  });
  throwsConfig('log_format = "xml"\n', `Line 1: Invalid value "xml" for option 'log_format'`, 1);
});
