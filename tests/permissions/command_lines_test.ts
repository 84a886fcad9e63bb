/**
 * The C command lines of issue 18 work unchanged through the launcher, as the binary runs
 * them (tests/support/qnet_command.ts): the daemon on another address and port with its lock
 * file and socket elsewhere, read by our tool, the real corosync-qnetd-tool and our cmapctl;
 * the tool on /run/... and /var/run/... of a daemon on the default paths (in a private mount
 * and PID namespace with a tmpfs over /run); certutil with a key directory elsewhere signing
 * a real node's request from /tmp, as pcs does. Ports 47050..47059.
 */
import assert from "node:assert/strict";
import {
  freePort,
  needAll,
  needProgram,
  needRealTools,
  needRoot,
  pathExists,
  QNET_ARGV,
  runToEnd,
  Scratch,
  testNeeding,
} from "../support/mod.ts";

const text = new TextDecoder();
const C_TOOL = "/usr/bin/corosync-qnetd-tool";

async function waitFor(path: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answers on ${path} within 20 s`);
}

testNeeding(needProgram(C_TOOL, "corosync-qnetd"), {
  name: "qnetd -l ADDR -p PORT with lock and socket elsewhere; qnetd-tool, the C tool, cmapctl -P",
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "qnet-cmdline-" });
    Deno.mkdirSync(`${dir}/lock`);
    Deno.mkdirSync(`${dir}/sock`);
    const socket = `${dir}/sock/qnetd.sock`;
    const port = freePort(47050, 47054);
    const daemon = new Deno.Command(QNET_ARGV[0]!, {
      args: [
        ...QNET_ARGV.slice(1),
        "qnetd",
        "-f",
        "-s",
        "off",
        "-l",
        "127.0.0.1",
        "-p",
        String(port),
        "-S",
        `lock_file=${dir}/lock/qnetd.pid,local_socket_file=${socket}`,
      ],
      env: { QNETD_CONFIG_FILE: "/nonexistent/qnetd.toml" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitFor(socket);
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      for (const tool of [[...QNET_ARGV, "qnetd-tool"], [C_TOOL]]) {
        const status = await runToEnd([...tool, "-s", "-p", socket]);
        assert.equal(status.code, 0, `${tool.at(-1)}: ${status.stderr}`);
        assert.match(status.stdout, new RegExp(`QNetd address:\\s+127\\.0\\.0\\.1:${port}\n`));
      }
      const cmap = await runToEnd([...QNET_ARGV, "cmapctl", "-P", socket, "qnetd."]);
      assert.equal(cmap.code, 0, cmap.stderr);
      assert.match(cmap.stdout, /^qnetd\.dpd_enabled \(u8\) = 1$/m);
    } finally {
      daemon.kill("SIGTERM");
      const out = await daemon.output();
      assert.equal(out.code, 0, text.decode(out.stderr));
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

const NEED_NS = needAll(
  needRoot(),
  needProgram("unshare", "util-linux"),
  needProgram(C_TOOL, "corosync-qnetd"),
);

testNeeding(NEED_NS, {
  name: "the default paths: qnetd-tool -p /run/... and /var/run/..., and the C tool on /run/...",
  async fn() {
    const qnet = QNET_ARGV.map((w) => `'${w}'`).join(" ");
    const port = freePort(47055, 47059);
    const sock = "corosync-qnetd/corosync-qnetd.sock";
    const scenario = `
set -u
mount -t tmpfs tmpfs /run
mkdir /run/corosync-qnetd
${qnet} qnetd -f -s off -p ${port} 2>/dev/null &
for i in $(seq 200); do [ -S /run/${sock} ] && break; sleep 0.1; done
for p in /run/${sock} /var/run/${sock}; do
  ${qnet} qnetd-tool -s -p "$p" | grep -c ':${port}' | sed "s|^|ours $p=|"
done
${qnet} qnetd-tool -s | grep -c ':${port}' | sed 's|^|ours default=|'
${C_TOOL} -s -p /run/${sock} | grep -c ':${port}' | sed 's|^|c /run=|'
kill -TERM $!; wait $!; echo "daemon=$?"
`;
    const result = await runToEnd(
      ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "bash", "-c", scenario],
    );
    const report = Object.fromEntries(
      result.stdout.trim().split("\n").filter((l) => l.includes("=")).map((l) => l.split("=")),
    );
    assert.deepEqual(report, {
      [`ours /run/${sock}`]: "1",
      [`ours /var/run/${sock}`]: "1",
      "ours default": "1",
      "c /run": "1",
      daemon: "0",
    }, `${result.stdout}\n${result.stderr}`);
  },
});

testNeeding(needRealTools(), {
  name: "certutil -d DIR elsewhere -i, then -s -c /tmp/REQ -n CLUSTER on a real node's request",
  async fn() {
    await using s = await Scratch.create();
    const keys = `${s.root}/elsewhere/keys`;
    const init = await runToEnd([...QNET_ARGV, "certutil", "-i", "-d", keys]);
    assert.equal(init.code, 0, init.stderr);
    const node = await s.node("-i", "-c", `${keys}/qnetd-cacert.crt`);
    assert.equal(node.code, 0, node.stderr);
    const request = await s.node("-r", "-n", "Cluster1");
    assert.equal(request.code, 0, request.stderr);
    // pcs copies the request to a temporary file in /tmp first.
    const tmp = Deno.makeTempFileSync({ dir: "/tmp", prefix: "qnet-perm-req-" });
    try {
      Deno.copyFileSync(`${s.nodeDb}/qdevice-net-node.crq`, tmp);
      const sign = await runToEnd([
        ...QNET_ARGV,
        "certutil",
        "-d",
        keys,
        "-s",
        "-c",
        tmp,
        "-n",
        "Cluster1",
      ]);
      assert.equal(sign.code, 0, sign.stderr);
      assert.ok(pathExists(`${keys}/cluster-Cluster1.crt`), sign.stdout);
    } finally {
      Deno.removeSync(tmp);
    }
  },
});

testNeeding(needProgram(C_TOOL, "corosync-qnetd"), {
  name: "relative paths: lock and socket in the working directory, qnetd-tool -p and certutil -d",
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "qnet-relative-" });
    const port = freePort(47050, 47054);
    const inDir = (argv: readonly string[]) =>
      new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        cwd: dir,
        env: { QNETD_CONFIG_FILE: "qnetd.toml" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    const daemon = inDir([
      ...QNET_ARGV,
      "qnetd",
      "-f",
      "-d",
      "-s",
      "off",
      "-p",
      String(port),
      "-S",
      "lock_file=q.pid,local_socket_file=q.sock",
    ]).spawn();
    try {
      await waitFor(`${dir}/q.sock`);
      for (const tool of [[...QNET_ARGV, "qnetd-tool"], [C_TOOL]]) {
        const out = await inDir([...tool, "-s", "-p", "q.sock"]).output();
        assert.equal(out.code, 0, text.decode(out.stderr));
        assert.match(text.decode(out.stdout), new RegExp(`QNetd address:\\s+\\*:${port}\n`));
      }
      const init = await inDir([...QNET_ARGV, "certutil", "-i", "-d", "keys"]).output();
      assert.equal(init.code, 0, text.decode(init.stderr));
      assert.ok(pathExists(`${dir}/keys/qnetd-cacert.crt`));
    } finally {
      daemon.kill("SIGTERM");
      const out = await daemon.output();
      const stderr = text.decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      // The start-up grants were given back under their absolute names.
      assert.match(stderr, new RegExp(`Dropped permissions: .*net unix:${dir}/q\\.sock`));
      assert.equal(pathExists(`${dir}/q.sock`), false);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
