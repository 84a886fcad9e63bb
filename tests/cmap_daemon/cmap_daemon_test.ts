/**
 * The daemon's cmap end to end: our daemon on a loopback port (17300–17399) with its socket
 * in a temporary directory, `qnet cmapctl` against it (in process through the IPC client, and
 * once as its own process), scripted QNet clients to observe live settings, and the
 * configuration file with SIGHUP reloads. Every wait is bounded.
 */
import assert from "node:assert/strict";
import { run } from "../../cli/cmapctl.ts";
import { RecordingIo } from "../../cli/io.ts";
import { TrackFlag, type TrackNotification } from "../../core/cmap/track.ts";
import { DecisionAlgorithm, MsgType, TieBreakerMode } from "../../core/protocol/constants.ts";
import { encodeInit, encodePreinit } from "../../core/protocol/encode_client.ts";
import { IpcCmapBackend, ipcCmapConnect } from "../../ipc/cmap_client.ts";
import {
  FakeStdin,
  QdeviceClient,
  QNET_RUN_ARGS,
  type RunningArbiter,
  startArbiter,
} from "../support/mod.ts";

/** Runs `qnet cmapctl -P <socket> args` in this process. */
async function cmapctl(daemon: RunningArbiter, args: string[]) {
  const io = new RecordingIo();
  const exit = await run(["-P", daemon.socketPath, ...args], io, {
    connect: ipcCmapConnect("/nonexistent"),
    connectSocket: ipcCmapConnect,
    readFile: (path) => Deno.readFile(path),
    stdin: new FakeStdin(),
  });
  return { out: io.stdout, err: io.stderr, exit };
}

/** The value text of `-q -g key`. */
async function value(daemon: RunningArbiter, key: string): Promise<string> {
  const r = await cmapctl(daemon, ["-q", "-g", key]);
  assert.equal(r.exit, 0, r.err);
  return r.out.trimEnd();
}

/** Polls `check` every 50 ms for at most `ms`; fails with `what` when it never holds. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A client through PREINIT and INIT (no TLS); returns the INIT reply's error code. */
async function initClient(port: number, name: string, nodeId: number, heartbeat: number) {
  const c = await QdeviceClient.connect(port, name);
  await c.request(
    encodePreinit({ seqNumber: c.nextSeq(), clusterName: "cmaptest" }),
    MsgType.PreinitReply,
  );
  const reply = await c.request(
    encodeInit({
      seqNumber: c.nextSeq(),
      nodeId,
      decisionAlgorithm: DecisionAlgorithm.Ffsplit,
      heartbeatInterval: heartbeat,
      tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
      ringId: { nodeId, seq: 1n },
    }),
    MsgType.InitReply,
  );
  return { client: c, error: reply.replyErrorCode ?? 0 };
}

/** The next notification of a tracker, or a failure after `ms`. */
async function nextEvent(
  events: AsyncIterator<TrackNotification>,
  ms = 5000,
): Promise<TrackNotification> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no notification")), ms);
  });
  try {
    const next = await Promise.race([events.next(), timeout]);
    assert.ok(!next.done, "tracking ended");
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("qnet cmapctl lists, gets and sets the daemon's settings; read-only keys refuse", async () => {
  await using daemon = await startArbiter("qnet", { port: 17301, args: ["-s", "off"] });

  const all = await cmapctl(daemon, []);
  assert.equal(all.exit, 0, all.err);
  assert.match(all.out, /^qnetd\.dpd_interval_coefficient \(dbl\) = 1\.500000$/m);
  assert.match(all.out, /^qnetd\.port \(u32\) = 17301$/m);
  assert.match(all.out, /^qnetd\.tls \(str\) = off$/m);
  assert.match(all.out, /^logging\.debug \(str\) = off$/m);
  assert.match(all.out, /^config\.reload_in_progress \(u8\) = 0$/m);
  assert.match(
    all.out,
    new RegExp(`^qnetd\\.local_socket_file \\(str\\) = ${daemon.socketPath}$`, "m"),
  );
  // The listing request itself is a local IPC connection.
  assert.match(all.out, /^runtime\.connections\.ipc:\d+\.name \(str\) = cmap icmap iter$/m);

  // Read-only settings, the runtime prefix and the reload flag refuse as corosync does.
  for (
    const [key, type, text] of [
      ["qnetd.lock_file", "str", "/tmp/x"],
      ["qnetd.ipc_max_receive_size", "u64", "9000"],
      ["runtime.connections.active", "u64", "5"],
      ["config.reload_in_progress", "u8", "1"],
    ]
  ) {
    const r = await cmapctl(daemon, ["-s", key!, type!, text!]);
    assert.equal(r.exit, 1);
    assert.equal(r.err, `Failed to set key ${key}. Error CS_ERR_ACCESS\n`);
  }
  const del = await cmapctl(daemon, ["-d", "qnetd.max_clients"]);
  assert.equal(del.err, "Can't delete key qnetd.max_clients. Error CS_ERR_ACCESS\n");

  // Writable settings are checked by the -S rules (coefficient 1..1000, bounds ordered).
  const bad = await cmapctl(daemon, ["-s", "qnetd.dpd_interval_coefficient", "dbl", "0.5"]);
  assert.equal(
    bad.err,
    "Failed to set key qnetd.dpd_interval_coefficient. Error CS_ERR_INVALID_PARAM\n",
  );
  const crossed = await cmapctl(daemon, ["-s", "qnetd.heartbeat_interval_min", "u32", "200000"]);
  assert.equal(crossed.exit, 1);
  assert.equal(await value(daemon, "qnetd.heartbeat_interval_min"), "1000");

  // Any numeric type or text is taken and stored in the key's own type.
  assert.equal((await cmapctl(daemon, ["-s", "qnetd.dpd_enabled", "str", "off"])).exit, 0);
  assert.equal(await value(daemon, "qnetd.dpd_enabled"), "0");
  assert.equal((await cmapctl(daemon, ["-s", "qnetd.max_clients", "u32", "4"])).exit, 0);
  assert.equal(
    (await cmapctl(daemon, ["-g", "qnetd.max_clients"])).out,
    "qnetd.max_clients (u64) = 4\n",
  );

  // Plain keys work as in corosync; a long value passes the IPC line limit of 4096.
  const long = "x".repeat(10000);
  assert.equal((await cmapctl(daemon, ["-s", "test.long", "str", long])).exit, 0);
  assert.equal(await value(daemon, "test.long"), long);
  // ... while qnetd-tool's lines keep the 4096-byte limit: the daemon drops an over-long one.
  const conn = await Deno.connect({ transport: "unix", path: daemon.socketPath });
  await conn.write(new TextEncoder().encode(`status ${"v".repeat(5000)}\n`)).catch(() => 0);
  const reply = new Uint8Array(64);
  assert.equal(await conn.read(reply).catch(() => null), null);
  conn.close();
  await waitFor(
    "the overflow log",
    () => daemon.stderr().includes("Can't store message from IPC client"),
  );
});

Deno.test("qnet cmapctl as a process; logging.debug switches the daemon's debug lines live", async () => {
  await using daemon = await startArbiter("qnet", { port: 17302, args: ["-s", "off"] });
  const cmd = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [...QNET_RUN_ARGS, "cmapctl", "-P", daemon.socketPath, ...args],
      stdin: "null",
    }).output();
  const set = await cmd(["-s", "logging.debug", "str", "on"]);
  assert.equal(set.code, 0, new TextDecoder().decode(set.stderr));
  assert.doesNotMatch(daemon.stderr(), / debug /);
  // Any IPC request now logs at debug level.
  await value(daemon, "logging.debug");
  await waitFor(
    "a debug line",
    () => daemon.stderr().includes(" debug   IPC client closed connection"),
  );
  const got = await cmd(["-g", "logging.debug"]);
  assert.equal(new TextDecoder().decode(got.stdout), "logging.debug (str) = on\n");
  const failed = await cmd(["-s", "logging.debug", "str", "loud"]);
  assert.equal(failed.code, 1);
  assert.equal(
    new TextDecoder().decode(failed.stderr),
    "Failed to set key logging.debug. Error CS_ERR_INVALID_PARAM\n",
  );
  const noDaemon = await new Deno.Command(Deno.execPath(), {
    args: [...QNET_RUN_ARGS, "cmapctl", "-P", `${daemon.dir}/none.sock`],
  }).output();
  assert.equal(noDaemon.code, 1);
  assert.equal(
    new TextDecoder().decode(noDaemon.stderr),
    "Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n",
  );
});

Deno.test("cmap settings take effect at once: max clients, heartbeat bounds, dpd coefficient", async () => {
  await using daemon = await startArbiter("qnet", { port: 17303, args: ["-s", "off"] });
  const port = daemon.port;

  // max_clients 1: the second client is refused.
  assert.equal((await cmapctl(daemon, ["-s", "qnetd.max_clients", "u64", "1"])).exit, 0);
  const first = await initClient(port, "first", 1, 10000);
  assert.equal(first.error, 0);
  const second = await QdeviceClient.connect(port, "second");
  assert.ok(await second.conn.expectEof(5000), "second client not refused");
  second[Symbol.dispose]();
  assert.match(daemon.stderr(), /Maximum clients reached. Not accepting connection/);
  first.client[Symbol.dispose]();
  await cmapctl(daemon, ["-s", "qnetd.max_clients", "u64", "0"]);

  // heartbeat_interval_max 5000: INIT with 10000 ms is refused, 1000 ms accepted.
  assert.equal(
    (await cmapctl(daemon, ["-s", "qnetd.heartbeat_interval_max", "u32", "5000"])).exit,
    0,
  );
  const slow = await initClient(port, "slow", 2, 10000);
  assert.notEqual(slow.error, 0);
  slow.client[Symbol.dispose]();

  // dpd coefficient 1.2 with heartbeat 1000: a silent client goes after 1200 ms.
  assert.equal(
    (await cmapctl(daemon, ["-s", "qnetd.dpd_interval_coefficient", "dbl", "1.2"])).exit,
    0,
  );
  const silent = await initClient(port, "silent", 3, 1000);
  assert.equal(silent.error, 0);
  assert.ok(await silent.client.conn.expectEof(5000), "dpd did not disconnect");
  silent.client[Symbol.dispose]();
  assert.match(daemon.stderr(), /doesn't sent any message during 1200ms. Disconnecting/);

  // The runtime keys saw all of it.
  const rt = await cmapctl(daemon, ["runtime."]);
  assert.match(rt.out, /^runtime\.services\.qnetd\.init\.rx \(u64\) = 3$/m);
  assert.match(rt.out, /^runtime\.services\.qnetd\.init_reply\.tx \(u64\) = 3$/m);
  assert.match(rt.out, /^runtime\.connections\.closed \(u64\) = [4-9]\d*$/m);
});

Deno.test("cmap tracking streams setting changes and runtime connections", async () => {
  await using daemon = await startArbiter("qnet", { port: 17304, args: ["-s", "off"] });
  await using backend = new IpcCmapBackend(daemon.socketPath, "icmap");
  const all = TrackFlag.Add | TrackFlag.Modify | TrackFlag.Delete | TrackFlag.Prefix;
  const settings = await backend.track(["qnetd.max_clients", "logging."], all);
  const events = settings.events[Symbol.asyncIterator]();
  await cmapctl(daemon, ["-s", "qnetd.max_clients", "u64", "9"]);
  const modify = await nextEvent(events);
  assert.equal(modify.event, TrackFlag.Modify);
  assert.equal(modify.key, "qnetd.max_clients");
  assert.deepEqual(modify.newValue, { type: "u64", value: 9n });
  assert.deepEqual(modify.oldValue, { type: "u64", value: 0n });
  await cmapctl(daemon, ["-s", "logging.debug", "str", "trace"]);
  assert.deepEqual((await nextEvent(events)).newValue, { type: "str", value: "trace" });

  // A TCP client appears under runtime.clusters within the 1 s refresh of tracked keys.
  const clusters = await backend.track(["runtime.clusters."], all);
  const cevents = clusters.events[Symbol.asyncIterator]();
  const c = await initClient(daemon.port, "tracked", 7, 10000);
  const seen = new Map<string, TrackNotification>();
  while (!seen.has("runtime.clusters.cmaptest.nodes.7.heartbeat_interval")) {
    const n = await nextEvent(cevents);
    seen.set(n.key, n);
  }
  assert.deepEqual(seen.get("runtime.clusters.cmaptest.nodes.7.heartbeat_interval")?.newValue, {
    type: "u32",
    value: 10000,
  });
  c.client[Symbol.dispose]();
  for (;;) {
    const n = await nextEvent(cevents);
    if (n.event === TrackFlag.Delete && n.key.endsWith("nodes.7.address")) break;
  }
  await settings.close();
  await clusters.close();

  // The tracking streams were local IPC connections with dispatched notifications.
  const list = await cmapctl(daemon, ["runtime.connections."]);
  assert.match(list.out, /^runtime\.connections\.active \(u64\) = 1$/m);
});

Deno.test("configuration file: read at start under the command line, reloaded on SIGHUP", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-cmap-conf-" });
  try {
    const file = `${dir}/qnetd.toml`;
    Deno.writeTextFileSync(
      file,
      "dpd_interval_coefficient = 2.5\nlisten_backlog = 20\n[daemon]\nmax_clients = 7\n",
    );
    await using daemon = await startArbiter("qnet", {
      port: 17305,
      args: ["-s", "off", "-m", "3"],
      env: { QNETD_CONFIG_FILE: file },
    });
    assert.equal(await value(daemon, "qnetd.dpd_interval_coefficient"), "2.500000");
    assert.equal(await value(daemon, "qnetd.listen_backlog"), "20");
    assert.equal(await value(daemon, "qnetd.max_clients"), "3"); // -m wins

    // A good file: live settings change, read-only ones are reported and kept.
    Deno.writeTextFileSync(
      file,
      "dpd_interval_coefficient = 4\nlisten_backlog = 30\nheartbeat_interval_max = 9000\n",
    );
    await using backend = new IpcCmapBackend(daemon.socketPath, "icmap");
    const tracker = await backend.track(["config.reload_in_progress"], TrackFlag.Modify);
    const events = tracker.events[Symbol.asyncIterator]();
    daemon.process.kill("SIGHUP");
    assert.deepEqual((await nextEvent(events)).newValue, { type: "u8", value: 1 });
    assert.deepEqual((await nextEvent(events)).newValue, { type: "u8", value: 0 });
    await tracker.close();
    assert.equal(await value(daemon, "qnetd.dpd_interval_coefficient"), "4.000000");
    assert.equal(await value(daemon, "qnetd.heartbeat_interval_max"), "9000");
    assert.equal(await value(daemon, "qnetd.listen_backlog"), "20");
    assert.match(daemon.stderr(), /qnetd\.listen_backlog changed; restart the daemon to apply it/);

    // A bad file: nothing changes, the daemon says why.
    Deno.writeTextFileSync(file, "dpd_interval_coefficient = 4000\n");
    daemon.process.kill("SIGHUP");
    await waitFor("the reload error", () => daemon.stderr().includes("keeping the running"));
    assert.match(daemon.stderr(), /Invalid value "4000" for option 'dpd_interval_coefficient'/);
    assert.equal(await value(daemon, "qnetd.dpd_interval_coefficient"), "4.000000");

    // A bad file at start is an error.
    await assert.rejects(
      startArbiter("qnet", {
        port: 17306,
        args: ["-s", "off"],
        env: { QNETD_CONFIG_FILE: file },
      }),
      /exited with 1 at start:\ncorosync-qnetd: Can't load configuration file .*qnetd\.toml: .*dpd_interval_coefficient/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
