/**
 * The daemon without -f, as corosync-qnetd: the started process returns once the daemon is
 * ready (exit 0, the socket answers at once, the lock file holds the daemon's pid, not the
 * starter's), or with the start-up error and exit 1; the daemon runs on until SIGTERM. And
 * Debian's SysV init script (/etc/init.d/corosync-qnetd, start-stop-daemon) starts, reports
 * and stops our daemon, run in a private mount namespace AND a private PID namespace, so that
 * start-stop-daemon sees no process of the machine (ports 47040..47049).
 */
import assert from "node:assert/strict";
import { bakedFlags } from "../../cli/baked_flags.ts";
import {
  freePort,
  needAll,
  needProgram,
  needRoot,
  pathExists,
  processAlive,
  procFile,
  QNET_ARGV,
  QNET_MOD,
  runToEnd,
  testNeeding,
} from "../support/mod.ts";

const INIT_SCRIPT = "/etc/init.d/corosync-qnetd";

const alive = processAlive;

/** Waits (bounded) until `pid` is gone. */
async function gone(pid: number, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

Deno.test("qnetd without -f returns 0 once ready; the daemon runs on until SIGTERM", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-detach-" });
  const lock = `${dir}/q.pid`;
  const socket = `${dir}/q.sock`;
  const port = freePort(47040, 47044);
  const args = ["-d", "-s", "off", "-l", "127.0.0.1", "-p", String(port)];
  const settings = ["-S", `lock_file=${lock},local_socket_file=${socket}`];
  let pid = 0;
  try {
    const started = await runToEnd([...QNET_ARGV, "qnetd", ...args, ...settings]);
    assert.equal(started.code, 0, started.stderr);
    // Ready means ready: no waiting here.
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    (await Deno.connect({ transport: "unix", path: socket })).close();
    pid = Number(Deno.readTextFileSync(lock).trim());
    assert.ok(pid > 0 && alive(pid), `pid file: ${pid}`);
    // Its start-up log (-d) came through the starter, up to "ready", nothing after.
    assert.match(started.stderr, /QNetd ready to provide service\n$/);
    assert.ok(!started.stderr.includes("\u0000"), "the ready mark is not relayed");
    // A new session: the starter's terminal or process group cannot stop it.
    const stat = procFile(pid, "stat");
    const [sid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(3, 4);
    assert.equal(Number(sid), pid, "the daemon leads its own session");

    const tool = await runToEnd([...QNET_ARGV, "qnetd-tool", "-s", "-p", socket]);
    assert.equal(tool.code, 0, tool.stderr);
    assert.match(tool.stdout, new RegExp(`QNetd address:\\s+127\\.0\\.0\\.1:${port}`));

    // A second daemon on the same lock fails at start: exit 1 and the reason, on stderr.
    const second = await runToEnd([...QNET_ARGV, "qnetd", ...args, ...settings]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /Another instance is running|lock/i);
    assert.ok(alive(pid), "the first daemon still runs");

    Deno.kill(pid, "SIGTERM");
    assert.ok(await gone(pid), "SIGTERM did not stop the daemon");
    pid = 0;
    assert.equal(pathExists(socket), false, "the socket is removed at exit");
  } finally {
    if (pid !== 0 && alive(pid)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qnetd without -f that cannot start returns its error and exit 1, leaves nothing", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-detach-" });
  try {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the listen fails.
    const started = await runToEnd([
      ...QNET_ARGV,
      "qnetd",
      "-s",
      "off",
      "-l",
      "192.0.2.1",
      "-p",
      "47041",
      "-S",
      `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock`,
    ]);
    assert.equal(started.code, 1, started.stderr);
    // The C daemon's words for a failed bind (NSS error -5986, net/listen_socket.ts).
    assert.match(started.stderr, /Network address not available/);
    assert.ok(!started.stderr.includes("\u0000"), "the ready mark is not relayed");
    assert.equal(pathExists(`${dir}/q.sock`), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const NEED_INIT = needAll(
  needRoot(),
  needProgram("unshare", "util-linux"),
  needProgram("start-stop-daemon", "dpkg"),
  needProgram(INIT_SCRIPT, "corosync-qnetd"),
);

/**
 * The init script's scenario, run by bash inside the namespaces: a tmpfs over /run (so that
 * /run/systemd/system is absent and the LSB functions do not hand over to systemctl, and the
 * machine's /run is untouched), the Deno executable bind-mounted over /usr/bin/corosync-qnetd
 * (the init script's DAEMON, which start-stop-daemon checks with --exec and --name), and an
 * /etc/default/corosync-qnetd whose COROSYNC_QNETD_OPTIONS run mod.ts with the baked flags.
 */
function initScenario(port: number): string {
  const options = ["run", "--quiet", "--no-prompt", ...bakedFlags(), QNET_MOD, "-s", "off"];
  return `
set -u
mount -t tmpfs tmpfs /run
mount --bind "${Deno.execPath()}" /usr/bin/corosync-qnetd
defaults=$(mktemp)
printf '%s\\n' 'COROSYNC_QNETD_OPTIONS="${options.join(" ")} -p ${port}"' \\
  'COROSYNC_QNETD_RUNAS=root' > "$defaults"
mount --bind "$defaults" /etc/default/corosync-qnetd
sock=/run/corosync-qnetd/corosync-qnetd.sock
${INIT_SCRIPT} start >/dev/null; echo "start=$?"
pid=$(cat /run/corosync-qnetd/corosync-qnetd.pid)
echo "comm=$(cat /proc/$pid/comm)"
[ -S "$sock" ] && echo "socket=yes"
/usr/bin/corosync-qnetd-tool -s -p "$sock" | grep -c "QNetd address:.*:${port}" | sed 's/^/tool=/'
${INIT_SCRIPT} status >/dev/null; echo "status=$?"
${INIT_SCRIPT} stop >/dev/null; echo "stop=$?"
for i in $(seq 100); do [ -d /proc/$pid ] || break; sleep 0.1; done
[ -d /proc/$pid ] && echo "after=running" || echo "after=stopped"
[ -e "$sock" ] && echo "socket_after=yes" || echo "socket_after=no"
${INIT_SCRIPT} status >/dev/null; echo "status_after=$?"
`;
}

testNeeding(NEED_INIT, {
  name:
    "Debian's init script starts, reports and stops our daemon (private mount and PID namespace)",
  async fn() {
    const result = await runToEnd(
      [
        "unshare",
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "bash",
        "-c",
        initScenario(freePort(47045, 47049)),
      ],
    );
    const report = Object.fromEntries(
      result.stdout.trim().split("\n").filter((l) => l.includes("=")).map((l) => l.split("=")),
    );
    assert.deepEqual(report, {
      start: "0",
      comm: "corosync-qnetd",
      socket: "yes",
      tool: "1",
      status: "0",
      stop: "0",
      after: "stopped",
      socket_after: "no",
      status_after: "3",
    }, `${result.stdout}\n${result.stderr}`);
  },
});
