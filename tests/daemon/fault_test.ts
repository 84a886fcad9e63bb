/**
 * Faults, against our daemon and the real corosync-qnetd with the same test body: the daemon
 * killed with SIGKILL under load and restarted on the same port and files (every client
 * reconnects and votes again); a node whose network goes silent is dropped by dead-peer
 * detection and ffsplit re-decides for the rest of its cluster; and start-up with an
 * unwritable lock or socket directory, or a lock held by another daemon, fails with the C
 * daemon's message and exit code. Permission cases run as uid 65534 (root would bypass them).
 *
 * Outcomes are asserted, never durations; every wait has a bound.
 */
import assert from "node:assert/strict";
import {
  ARBITER_KINDS,
  type ArbiterKind,
  C_QNETD,
  joinFfsplit,
  needAll,
  needCQnetd,
  needKind,
  needRoot,
  QdeviceClient,
  QNET_ARGV,
  settle,
  startArbiter,
  testNeeding,
  type WireConn,
} from "../support/mod.ts";

const KINDS = ARBITER_KINDS;
/** Ports per kind: [kill/restart, dead-peer detection, start-up failures]. */
const PORTS: Record<ArbiterKind, [number, number, number]> = {
  qnet: [16420, 16421, 16422],
  c: [16425, 16426, 16427],
};
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * True once the daemon closes `conn`; what arrives before is read and ignored (a late
 * VOTE_INFO may still be on its way). False when `timeoutMs` passes first.
 */
async function closedByPeer(conn: WireConn, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return false;
    const r = await conn.readExactly(1, left);
    if (r.kind !== "data") return r.kind === "eof";
  }
}

/** The client side of reconnecting: retries `join` every 100 ms, at most 100 times. */
async function rejoin(
  port: number,
  cluster: string,
  nodeId: number,
  config: readonly number[],
): Promise<QdeviceClient> {
  let last: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return await joinFfsplit(port, cluster, nodeId, config);
    } catch (error) {
      last = error;
      await sleep(100);
    }
  }
  throw new Error(`${cluster}/${nodeId} could not reconnect`, { cause: last });
}

/** The clusters held during the kill: three clusters of two nodes each. */
const NODES = ["alpha", "beta", "gamma"].flatMap((cluster) =>
  [1, 2].map((nodeId) => ({ cluster, nodeId }))
);

for (const kind of KINDS) {
  testNeeding(needKind(kind), {
    name: `fault (${kind}): SIGKILL under load, restart on the same port, every client votes`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const files = await Deno.makeTempDir({ prefix: "qnet-fault-" });
      // The same lock file across the restart: the killed daemon leaves it behind.
      const options = {
        port: PORTS[kind][0],
        args: ["-s", "off"],
        settings: {
          dpd_enabled: "off",
          lock_file: `${files}/qnetd.pid`,
        },
      };
      const clients: QdeviceClient[] = [];
      try {
        {
          await using first = await startArbiter(kind, options);
          for (const n of NODES) {
            clients.push(await joinFfsplit(first.port, n.cluster, n.nodeId, [1, 2]));
          }
          await settle(clients);
          assert.ok(clients.every((c) => c.lastAckNack === "ACK"));
          const status = await first.stop("SIGKILL");
          assert.equal(status.signal, "SIGKILL");
        }
        // Every client sees its connection end.
        for (const c of clients) assert.ok(await closedByPeer(c.conn), `${c.name} still connected`);
        for (const c of clients.splice(0)) c[Symbol.dispose]();

        await using second = await startArbiter(kind, options);
        for (const n of NODES) clients.push(await rejoin(second.port, n.cluster, n.nodeId, [1, 2]));
        await settle(clients);
        assert.deepEqual(clients.map((c) => c.lastAckNack), NODES.map(() => "ACK"));
      } finally {
        for (const c of clients) c[Symbol.dispose]();
        await Deno.remove(files, { recursive: true });
      }
    },
  });

  testNeeding(needKind(kind), {
    name: `fault (${kind}): a silent node is dropped by DPD and ffsplit re-decides`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind][1],
        args: ["-s", "off"],
        settings: { dpd_enabled: "on" },
      });
      // A split: node 1 and node 2 each see only themselves. Tie-breaker lowest: 1 wins.
      const split = { heartbeat: 1000 };
      using one = await joinFfsplit(daemon.port, "dpd", 1, [1, 2], { ...split, membership: [1] });
      using two = await joinFfsplit(daemon.port, "dpd", 2, [1, 2], { ...split, membership: [2] });
      await settle([one, two]);
      assert.deepEqual([one.lastAckNack, two.lastAckNack], ["ACK", "NACK"]);
      // Node 1's network goes silent: it sends nothing more, not even echo requests. Node 2
      // keeps its heartbeat (an echo every 300 ms) until it holds ACK; at most 15 s.
      const silentGone = closedByPeer(one.conn, 15_000);
      for (let i = 0; i < 50 && two.lastAckNack !== "ACK"; i++) {
        await sleep(300);
        await two.sync();
      }
      assert.ok(await silentGone, "the silent node was not disconnected");
      assert.equal(two.lastAckNack, "ACK", "the surviving partition was not re-decided");
      // The node that kept its heartbeat is still connected and served.
      await two.sync();
    },
  });
}

/** What a daemon that fails at start printed (timestamps removed) and its exit code. */
interface StartFailure {
  readonly code: number;
  readonly log: string;
}

/** Runs `kind` in the foreground with `args` until it exits (at most 20 s). */
async function runToExit(
  kind: ArbiterKind,
  args: readonly string[],
  opts: { asNobody?: boolean; denoDir?: string } = {},
): Promise<StartFailure> {
  const daemon = kind === "c" ? [C_QNETD] : [...QNET_ARGV, "qnetd"];
  const argv = [...(opts.asNobody ? NOBODY : []), ...daemon, "-f", ...args];
  const env: Record<string, string> = { LC_ALL: "C" };
  if (opts.denoDir !== undefined) env.DENO_DIR = opts.denoDir;
  const child = new Deno.Command(opts.asNobody ? "setpriv" : argv.shift()!, {
    args: argv,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const log = new TextDecoder().decode(out.stderr)
    .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /gm, "");
  return { code: out.code, log };
}

/**
 * A DENO_DIR that uid 65534 can read: a copy of the npm packages of the root's cache (the
 * root's own cache directory is not reachable for other users).
 */
async function nobodyDenoDir(parent: string): Promise<string> {
  const dir = `${parent}/deno-dir`;
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const cache = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  await Deno.mkdir(dir);
  const cp = await new Deno.Command("cp", { args: ["-r", `${cache}/npm`, dir] }).output();
  assert.ok(cp.success, "cannot copy the npm cache");
  const chown = await new Deno.Command("chown", { args: ["-R", "65534:65534", dir] }).output();
  assert.ok(chown.success);
  return dir;
}

testNeeding(needAll(needCQnetd(), needRoot()), {
  name:
    "fault: unwritable lock or socket directory, a full disk and a held lock fail as corosync-qnetd",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const top = await Deno.makeTempDir({ prefix: "qnet-fault-start-" });
    try {
      await Deno.chmod(top, 0o755);
      const denoDir = await nobodyDenoDir(top);
      // Owned by root, 0755: not writable for uid 65534.
      const ro = `${top}/ro`;
      await Deno.mkdir(ro, { mode: 0o755 });
      const rw = `${top}/rw`;
      await Deno.mkdir(rw);
      await Deno.chown(rw, 65534, 65534);
      const both = async (args: string[]) => {
        const port = ["-s", "off", "-p", String(PORTS.qnet[2])];
        const ours = await runToExit("qnet", [...port, ...args], { asNobody: true, denoDir });
        const c = await runToExit("c", [...port, ...args], { asNobody: true });
        return { ours, c };
      };

      await t.step("lock file in an unwritable directory", async () => {
        const { ours, c } = await both([
          "-S",
          `lock_file=${ro}/qnetd.pid,local_socket_file=${rw}/a.sock`,
        ]);
        assert.equal(c.code, 1);
        assert.match(c.log, /^error {3}Can't acquire lock \(13\): Permission denied$/m);
        assert.deepEqual(ours, c);
      });

      await t.step("local socket in an unwritable directory", async () => {
        const { ours, c } = await both([
          "-S",
          `lock_file=${rw}/b.pid,local_socket_file=${ro}/b.sock`,
        ]);
        assert.equal(c.code, 1);
        assert.match(c.log, /^error {3}Can't create unix socket \(13\): Permission denied$/m);
        assert.deepEqual(ours, c);
      });

      await t.step("lock file on a full file system", async () => {
        const full = `${top}/full`;
        await Deno.mkdir(full);
        const mount = await new Deno.Command("mount", {
          args: ["-t", "tmpfs", "-o", "size=12k,mode=1777", "tmpfs", full],
        }).output();
        assert.ok(mount.success, "cannot mount a small tmpfs");
        try {
          // Fill it: the write of the pid then fails with ENOSPC.
          await new Deno.Command("dd", {
            args: ["if=/dev/zero", `of=${full}/fill`, "bs=1k", "count=64"],
            stderr: "null",
          }).output();
          const args = ["-S", `lock_file=${full}/q.pid,local_socket_file=${rw}/full.sock`];
          const c = await runToExit("c", ["-s", "off", "-p", String(PORTS.c[2]), ...args]);
          const ours = await runToExit("qnet", ["-s", "off", "-p", String(PORTS.qnet[2]), ...args]);
          assert.equal(c.code, 1);
          assert.match(c.log, /^error {3}Can't acquire lock \(28\): No space left on device$/m);
          assert.deepEqual(ours, c);
        } finally {
          await new Deno.Command("umount", { args: [full] }).output();
        }
      });

      for (const kind of KINDS) {
        await t.step(`lock file held by a running ${kind} daemon`, async () => {
          const lockFile = `${top}/held-${kind}.pid`;
          await using holder = await startArbiter(kind, {
            port: PORTS[kind][2],
            args: ["-s", "off"],
            settings: { lock_file: lockFile },
          });
          const pid = Deno.readTextFileSync(lockFile);
          const second = await runToExit(kind, [
            "-s",
            "off",
            "-p",
            String(PORTS[kind][2] + 1),
            "-S",
            `lock_file=${lockFile},local_socket_file=${top}/second-${kind}.sock`,
          ]);
          assert.equal(second.code, 1);
          assert.equal(second.log, "error   Another instance is running\n");
          // The running daemon keeps its lock file untouched.
          assert.equal(Deno.readTextFileSync(lockFile), pid);
          assert.equal(pid, `${holder.process.pid}\n`);
        });
      }
    } finally {
      await Deno.remove(top, { recursive: true });
    }
  },
});

// A lock file held by the other daemon (C's fcntl lock, both ways): tests/daemon/lock_test.ts.
