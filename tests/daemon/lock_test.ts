/**
 * The lock file is the C daemon's fcntl(2) record lock, so each daemon sees the other's:
 * starting either while the other runs on the same lock file fails at the lock, exit 1, with
 * C's "Another instance is running", before the pid file or the local socket is touched (the
 * running daemon keeps its pid in the file and keeps serving on its socket). Both ways, and
 * each against itself, with corosync-qnetd. Beyond C: a symlink at the lock path is refused
 * by ours (the C daemon follows it and overwrites its target with the pid).
 *
 * Outcomes are asserted, never durations; every wait has a bound.
 */
import assert from "node:assert/strict";
import {
  type ArbiterKind,
  C_QNETD,
  needAll,
  needKind,
  QNET_ARGV,
  startArbiterOnFreePort,
  testNeeding,
} from "../support/mod.ts";

/** The port of the second daemon, which must never get as far as binding it. */
const SECOND_PORT = 46299;
/** The first daemon's ports. */
const HOLDER_PORTS = [46200, 46298] as const;

/** Runs a daemon in the foreground to its exit (SIGKILL after 20 s); its log without dates. */
async function runToExit(kind: ArbiterKind, args: readonly string[]) {
  const argv = kind === "c" ? [C_QNETD] : [...QNET_ARGV, "qnetd"];
  const child = new Deno.Command(argv[0]!, {
    args: [...argv.slice(1), "-f", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const log = new TextDecoder().decode(out.stderr)
    .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /gm, "");
  return { code: out.code, log };
}

/** True if something accepts connections on the unix socket `path`. */
async function socketServes(path: string): Promise<boolean> {
  try {
    (await Deno.connect({ transport: "unix", path })).close();
    return true;
  } catch {
    return false;
  }
}

const PAIRS: ReadonlyArray<[holder: ArbiterKind, second: ArbiterKind]> = [
  ["c", "qnet"],
  ["qnet", "c"],
  ["qnet", "qnet"],
  ["c", "c"],
];

for (const [holderKind, secondKind] of PAIRS) {
  testNeeding(needAll(needKind(holderKind), needKind(secondKind)), {
    name: `lock: ${secondKind} refuses to start while ${holderKind} holds the lock file`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using holder = await startArbiterOnFreePort(holderKind, HOLDER_PORTS, {
        args: ["-s", "off"],
      });
      const lockFile = `${holder.dir}/qnetd.pid`;
      const pid = `${holder.process.pid}\n`;
      assert.equal(Deno.readTextFileSync(lockFile), pid);
      const socketBefore = Deno.lstatSync(holder.socketPath);
      const second = await runToExit(secondKind, [
        "-s",
        "off",
        "-p",
        String(SECOND_PORT),
        "-S",
        `lock_file=${lockFile},local_socket_file=${holder.socketPath}`,
      ]);
      assert.equal(second.code, 1, second.log);
      assert.equal(second.log, "error   Another instance is running\n");
      // Nothing of the running daemon's was touched: its pid, its socket (the same inode,
      // still accepting), its port.
      assert.equal(Deno.readTextFileSync(lockFile), pid);
      assert.equal(Deno.lstatSync(holder.socketPath).ino, socketBefore.ino);
      assert.ok(await socketServes(holder.socketPath), "the holder's socket stopped serving");
      await holder.assertServing();
    },
  });
}

Deno.test({
  name: "lock: a symlink at the lock path is refused and its target left alone",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-lock-link-" });
    try {
      const target = `${dir}/precious`;
      await Deno.writeTextFile(target, "keep me\n");
      await Deno.symlink(target, `${dir}/qnetd.pid`);
      const r = await runToExit("qnet", [
        "-s",
        "off",
        "-p",
        String(SECOND_PORT),
        "-S",
        `lock_file=${dir}/qnetd.pid,local_socket_file=${dir}/qnetd.sock`,
      ]);
      assert.equal(r.code, 1, r.log);
      assert.equal(r.log, "error   Can't acquire lock (40): Too many levels of symbolic links\n");
      assert.equal(await Deno.readTextFile(target), "keep me\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
