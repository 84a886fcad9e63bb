/**
 * A configuration file that exists but cannot be read stops the daemon at start, exit 1, with
 * the path and the reason (it used to be skipped without a word): no read access for the
 * daemon's user, a directory, a file outside the daemon's permission set. An absent file, the
 * default one or one named by QNETD_CONFIG_FILE, is fine: the daemon runs on its defaults.
 */
import assert from "node:assert/strict";
import {
  freePort,
  needAll,
  needProgram,
  needRoot,
  prepareUnprivileged,
  QNET_ARGV,
  startArbiter,
  testNeeding,
  unprivilegedQnetdArgv,
} from "../support/mod.ts";

/** Daemons that fail at start never bind it; the one that serves gets a free port. */
const PORT = 46301;

/** Runs `argv` to its exit (SIGKILL after 30 s): exit code and stderr. */
async function runToExit(argv: readonly string[], env?: Record<string, string>) {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    ...(env === undefined ? {} : { env }),
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(timer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The daemon's arguments with its files in `dir`. */
function daemonArgs(dir: string): string[] {
  return [
    "-f",
    "-s",
    "off",
    "-p",
    String(PORT),
    "-S",
    `lock_file=${dir}/qnetd.pid,local_socket_file=${dir}/qnetd.sock`,
  ];
}

Deno.test({
  name: "config file: a directory named by QNETD_CONFIG_FILE is an error at start",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-conf-dir-" });
    try {
      const r = await runToExit(
        [...QNET_ARGV, "qnetd", ...daemonArgs(dir)],
        { QNETD_CONFIG_FILE: dir },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^corosync-qnetd: Can't load configuration file ${dir}: .*Is a directory`),
      );
      // Refused before the lock file is taken.
      assert.throws(() => Deno.lstatSync(`${dir}/qnetd.pid`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "config file: one named by QNETD_CONFIG_FILE anywhere is read, never skipped",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-conf-set-" });
    try {
      // A file outside every default path, with a value the daemon must refuse: reading it is
      // the only way to fail. The launcher grants the worker exactly this file.
      const file = `${dir}/elsewhere.toml`;
      await Deno.writeTextFile(file, "max_client_send_buffers = 0\n");
      const r = await runToExit([...QNET_ARGV, "qnetd", ...daemonArgs(dir)], {
        QNETD_CONFIG_FILE: file,
        LC_ALL: "C",
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`Can't load configuration file ${file}: `));
      assert.doesNotMatch(r.stderr, /NotCapable|--allow-/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

testNeeding(needAll(needRoot(), needProgram("setpriv", "util-linux")), {
  name: "config file: one the daemon's user cannot read is an error at start (as uid 65534)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-conf-perm-" });
    try {
      prepareUnprivileged(dir);
      // Made after prepareUnprivileged(), so it stays root's, mode 0600.
      const file = `${dir}/qnetd.toml`;
      await Deno.writeTextFile(file, "max_client_send_buffers = 16\n", { mode: 0o600 });
      await Deno.chmod(file, 0o600);
      const r = await runToExit(
        unprivilegedQnetdArgv(dir, daemonArgs(dir), { configFile: file }),
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^corosync-qnetd: Can't load configuration file ${file}: .*Permission denied`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "config file: an absent one named by QNETD_CONFIG_FILE is fine, as an absent default",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using daemon = await startArbiter("qnet", {
      port: freePort(46302, 46349),
      args: ["-s", "off"],
      env: { QNETD_CONFIG_FILE: "/nonexistent/qnetd.toml" },
    });
    await daemon.assertServing();
    assert.doesNotMatch(daemon.stderr(), /configuration file/);
  },
});
