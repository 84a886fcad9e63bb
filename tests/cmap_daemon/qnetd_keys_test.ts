/** The pure parts of the daemon's cmap: key schema, backend, config merge, IPC line limit. */
import assert from "node:assert/strict";
import { defaultArbiterSettings } from "../../core/arbiter/settings.ts";
import { CmapError, CmapLoadError, CsError } from "../../core/cmap/errors.ts";
import { QnetdCmapBackend } from "../../core/cmap/qnetd_backend.ts";
import {
  clusterKeyName,
  newMessageCounters,
  type QnetdConfigState,
  type QnetdLiveSettings,
  qnetdReadOnlyEntries,
  runtimeEntries,
  syncPrefix,
  writeSettingKeys,
} from "../../core/cmap/qnetd_keys.ts";
import { CmapStore } from "../../core/cmap/store.ts";
import { TrackFlag, type TrackNotification } from "../../core/cmap/track.ts";
import { MsgType, TlsSupported } from "../../core/protocol/constants.ts";
import { defaultQnetdSettings } from "../../core/settings.ts";
import { commandLineNames, mergeConfig } from "../../cli/config_file.ts";
import { parseQnetdArgs } from "../../cli/qnetd_args.ts";
import { parseConfigToml } from "../../core/cmap/config_toml.ts";
import { IpcServer } from "../../ipc/server.ts";

function setup() {
  const settings: QnetdLiveSettings = {
    ...defaultArbiterSettings(),
    ...defaultQnetdSettings(),
    tlsSupported: TlsSupported.Unsupported,
  };
  const state: QnetdConfigState = { settings, listenAddress: "*", port: 5403, debugLevel: 0 };
  const store = new CmapStore(qnetdReadOnlyEntries());
  writeSettingKeys(store, state);
  let refreshed = 0;
  const backend = new QnetdCmapBackend({ store, state, refresh: () => void refreshed++ });
  return { settings, state, store, backend, refreshed: () => refreshed };
}

Deno.test("QnetdCmapBackend.set() checks and applies live settings, refuses read-only ones", async () => {
  const { settings, state, backend, refreshed } = setup();
  await backend.set("qnetd.dpd_interval_coefficient", { type: "str", value: "2" });
  assert.equal(settings.dpdIntervalCoefficient, 2);
  assert.deepEqual(await backend.get("qnetd.dpd_interval_coefficient"), { type: "dbl", value: 2 });
  assert.equal(refreshed(), 1);
  await backend.set("qnetd.dpd_enabled", { type: "u8", value: 0 });
  assert.equal(settings.dpdEnabled, false);
  await backend.set("logging.debug", { type: "str", value: "trace" });
  assert.equal(state.debugLevel, 2);
  await backend.set("qnetd.max_clients", { type: "i32", value: 12 });
  assert.equal(settings.maxClients, 12);

  const code = async (p: Promise<unknown>) =>
    await p.then(() => CsError.Ok, (e) => (e instanceof CmapError ? e.code : -1));
  assert.equal(await code(backend.set("qnetd.lock_file", { type: "str", value: "x" })), 11);
  assert.equal(await code(backend.set("runtime.x.y", { type: "u8", value: 1 })), 11);
  assert.equal(await code(backend.delete("logging.debug")), 11);
  assert.equal(await code(backend.set("qnetd.dpd_enabled", { type: "str", value: "maybe" })), 7);
  assert.equal(
    await code(backend.set("qnetd.dpd_enabled", { type: "bin", value: new Uint8Array() })),
    7,
  );
  assert.equal(
    await code(backend.set("qnetd.heartbeat_interval_max", { type: "u32", value: 10 })),
    7,
  );
  assert.equal(settings.heartbeatIntervalMax, 120000);
  assert.equal(await code(backend.set("test.free", { type: "u8", value: 1 })), CsError.Ok);
});

Deno.test("QnetdCmapBackend.set() changes the history limits and the log format live", async () => {
  const { settings, backend } = setup();
  await backend.set("qnetd.history_events_per_cluster", { type: "u32", value: 10 });
  await backend.set("qnetd.history_max_memory", { type: "str", value: "65536" });
  await backend.set("qnetd.log_format", { type: "str", value: "json" });
  assert.deepEqual(
    [settings.historyEventsPerCluster, settings.historyMaxMemory, settings.logFormat],
    [10, 65536, "json"],
  );
  assert.deepEqual(await backend.get("qnetd.history_max_memory"), { type: "u64", value: 65536n });
  const refused = await backend.set("qnetd.log_format", { type: "str", value: "xml" })
    .then(() => CsError.Ok, (e) => (e instanceof CmapError ? e.code : -1));
  assert.equal(refused, CsError.InvalidParam);
  assert.equal(settings.logFormat, "json");
});

Deno.test("QnetdCmapBackend.load() is all-or-nothing across settings and plain keys", async () => {
  const { settings, store, backend } = setup();
  await assert.rejects(
    backend.load([
      { op: "set", key: "qnetd.max_clients", value: { type: "u64", value: 5n } },
      { op: "set", key: "test.a", value: { type: "u8", value: 1 } },
      { op: "set", key: "qnetd.dpd_interval_coefficient", value: { type: "dbl", value: 0 } },
    ]),
    (e) => e instanceof CmapLoadError && e.index === 2 && e.code === CsError.InvalidParam,
  );
  assert.equal(settings.maxClients, 0);
  assert.equal(store.has("test.a"), false);
  const failures = await backend.load([
    { op: "set", key: "qnetd.heartbeat_interval_min", value: { type: "u32", value: 2000 } },
    { op: "delete", key: "qnetd.port" },
  ]);
  assert.equal(settings.heartbeatIntervalMin, 2000);
  assert.deepEqual(failures.map((f) => [f.key, f.error.code]), [["qnetd.port", 11]]);
});

Deno.test("runtimeEntries() and syncPrefix() notify only real changes", () => {
  const store = new CmapStore();
  const seen: TrackNotification[] = [];
  store.track(
    "runtime.",
    TrackFlag.Add | TrackFlag.Modify | TrackFlag.Delete | TrackFlag.Prefix,
    (n) => seen.push(n),
  );
  const messages = newMessageCounters();
  const snapshot = {
    listenAddress: "*",
    listenPort: 5403,
    tlsSupported: TlsSupported.Unsupported,
    tlsClientCertRequired: false,
    connectedClients: 0,
    maxClients: 0,
    maxClientSendSize: 32768,
    maxClientReceiveSize: 32768,
    clusters: [],
  } as const;
  const state = (requests: number) => ({
    snapshot,
    connections: [{ id: "tcp:1", name: "127.0.0.1:4000", serviceId: 1, requests, responses: 0 }],
    closed: 0,
    messages,
  });
  syncPrefix(store, "runtime.", runtimeEntries(state(1)));
  const added = seen.length;
  assert.ok(added > 0 && seen.every((n) => n.event === TrackFlag.Add));
  messages.rx[MsgType.Init] = 3;
  syncPrefix(store, "runtime.", runtimeEntries(state(2)));
  assert.deepEqual(seen.slice(added).map((n) => n.key).sort(), [
    "runtime.connections.tcp:1.requests",
    "runtime.services.qnetd.init.rx",
  ]);
  syncPrefix(store, "runtime.", runtimeEntries({ ...state(2), connections: [] }));
  assert.ok(!store.has("runtime.connections.tcp:1.name"));
  assert.deepEqual(store.get("runtime.connections.active"), { type: "u64", value: 0n });
});

Deno.test("clusterKeyName() keeps one key component per name", () => {
  const enc = (s: string) => clusterKeyName(new TextEncoder().encode(s));
  assert.equal(enc("debian"), "debian");
  assert.equal(enc("lms cluster"), "lms:20cluster");
  assert.equal(enc("a.b"), "a:2Eb");
  assert.equal(enc(""), ":");
});

Deno.test("mergeConfig() lets the command line win over the file", () => {
  const args = ["-f", "-m", "3", "-S", "dpd_enabled=off,LISTEN_BACKLOG=5", "-d"];
  assert.deepEqual(
    [...commandLineNames(args)].sort(),
    ["debug", "dpd_enabled", "listen_backlog", "max_clients"],
  );
  const parsed = parseQnetdArgs(args);
  assert.ok(parsed.ok);
  const config = parseConfigToml(
    "dpd_enabled = true\nlisten_backlog = 9\nheartbeat_interval_max = 7000\n[daemon]\nmax_clients = 8\nport = 6000\ndebug = 0\n",
  );
  mergeConfig(parsed.options, config, commandLineNames(args));
  const o = parsed.options;
  assert.deepEqual(
    [o.maxClients, o.port, o.debugLevel, o.settings.dpdEnabled, o.settings.listenBacklog],
    [3, 6000, 1, false, 5],
  );
  assert.equal(o.settings.heartbeatIntervalMax, 7000);
});

Deno.test("IpcServer.receiveLimit() raises the limit only for the large command's lines", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-cmap-limit-" });
  try {
    await using server = IpcServer.listen({
      path: `${dir}/s.sock`,
      handlers: new Map(),
      maxReceiveSize: 4096,
      largeRequest: { command: "cmap", maxSize: 1 << 20 },
    });
    const b = (s: string) => new TextEncoder().encode(s);
    assert.equal(server.receiveLimit(b("cmap icmap get x")), 1 << 20);
    assert.equal(server.receiveLimit(b("CMAP icmap")), 1 << 20);
    assert.equal(server.receiveLimit(b("cm"), b("ap x")), 1 << 20);
    assert.equal(server.receiveLimit(b("cmapx")), 4096);
    assert.equal(server.receiveLimit(b("status")), 4096);
    assert.equal(server.receiveLimit(b("cm")), 4096);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
