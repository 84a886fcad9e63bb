/**
 * The daemon as an operator runs it: as uid/gid 65534 (not root), as the binary runs (the
 * launcher with the baked flags, the daemon in a worker with exactly the set computed for
 * its command line; tests/support/unprivileged.ts). With TLS on and off it
 * serves a full session to a vote, the real corosync-qnetd-tool (run as root) reads its
 * local socket, /proc shows the process's credentials, and after start-up the daemon cannot
 * read its private key although the operating system would let its user read it.
 */
import assert from "node:assert/strict";
import { qnetdPermissions, toFlags, widestFlags } from "../../cli/permission_sets.ts";
import {
  daemonPaths,
  denoDirOf,
  fullSession,
  launcherEntry,
  makeKeyDir,
  needAll,
  needProgram,
  needRoot,
  prepareUnprivileged,
  procFile,
  procLink,
  readAudit,
  ROOT,
  SESSION_CLUSTER,
  testNeeding,
  UNPRIVILEGED_GID,
  UNPRIVILEGED_UID,
  unprivilegedDenoArgv,
  unprivilegedQnetdArgv,
} from "../support/mod.ts";

const PORT = 16500;
const C_TOOL = "/usr/bin/corosync-qnetd-tool";
/** Switching to uid 65534 needs root and setpriv; the session is read with the real tool. */
const NEED = needAll(
  needRoot(),
  needProgram("setpriv", "util-linux"),
  needProgram(C_TOOL, "corosync-qnetd"),
);

/** A daemon started from an argv, with its stderr collected. */
interface Started {
  readonly child: Deno.ChildProcess;
  /** SIGTERM, SIGKILL after 5 s; the exit code and everything it wrote to stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Spawns `argv` and waits (at most 20 s) until its unix socket and TCP port answer. */
async function startArgv(argv: string[], socketFile: string, port: number): Promise<Started> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  void child.status.then(() => (exited = true));
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    const killer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
    const out = await output;
    clearTimeout(killer);
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      (await Deno.connect({ transport: "unix", path: socketFile })).close();
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { child, stop };
    } catch {
      if (exited || Date.now() > until) {
        const { code, stderr } = await stop();
        throw new Error(`daemon did not start (exit ${code}):\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The real corosync-qnetd-tool with `args` against `socketFile`, as root. */
async function cTool(args: string[], socketFile: string): Promise<string> {
  const out = await new Deno.Command(C_TOOL, {
    args: [...args, "-p", socketFile],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** The `Key:` lines of /proc/PID/status, by key. */
function procStatus(pid: number): Map<string, string> {
  const lines = procFile(pid, "status").split("\n");
  return new Map(lines.map((l) => l.split(":\t") as [string, string]));
}

for (const [tls, port] of [["on", PORT], ["off", PORT + 1]] as const) {
  testNeeding(
    NEED,
    `unprivilegedQnetdArgv() runs qnetd -s ${tls} as uid 65534 through a full session`,
    async () => {
      const dir = Deno.makeTempDirSync({ prefix: "qnet-unpriv-" });
      try {
        const keyDir = tls === "on" ? await makeKeyDir(dir) : `${dir}/no-keys`;
        Deno.mkdirSync(`${dir}/run`);
        prepareUnprivileged(dir);
        const { lockFile, socketFile, auditFile } = daemonPaths(dir);
        const configFile = `${dir}/qnetd.toml`;
        const args = [
          "-f",
          "-d",
          "-l",
          "127.0.0.1",
          "-p",
          String(port),
          "-s",
          tls,
          "-S",
          `nss_db_dir=${keyDir},lock_file=${lockFile},local_socket_file=${socketFile}`,
        ];
        const argv = unprivilegedQnetdArgv(dir, args, {
          configFile,
          env: { DENO_AUDIT_PERMISSIONS: auditFile },
        });
        // The launcher runs with exactly the baked flags (the worker gets the computed set).
        const denoArgs = argv.slice(argv.indexOf(Deno.execPath()) + 1);
        assert.deepEqual(denoArgs.filter((a) => a.startsWith("--allow-")), widestFlags());
        assert.ok(!denoArgs.some((a) => a === "-A" || a === "--allow-all"));
        assert.ok(denoArgs.includes("--no-prompt"));

        const daemon = await startArgv(argv, socketFile, port);
        let stopped: { code: number; stderr: string } | undefined;
        try {
          const status = procStatus(daemon.child.pid);
          assert.equal(status.get("Uid"), Array(4).fill(UNPRIVILEGED_UID).join("\t"));
          assert.equal(status.get("Gid"), Array(4).fill(UNPRIVILEGED_GID).join("\t"));
          assert.equal(status.get("Groups")?.trim(), "");
          assert.equal(status.get("CapEff"), "0000000000000000");
          assert.equal(procLink(daemon.child.pid, "exe"), Deno.execPath());
          // What it created is its user's.
          assert.equal(Deno.statSync(lockFile).uid, UNPRIVILEGED_UID);

          await fullSession(port, async () => {
            const s = await cTool(["-s"], socketFile);
            assert.match(s, /Connected clients:\s+2/);
            assert.match(s, /Connected clusters:\s+1/);
            assert.match(
              s,
              tls === "on"
                ? /TLS:\s+Supported \(client certificate required\)/
                : /TLS:\s+Unsupported/,
            );
            const l = await cTool(["-l"], socketFile);
            assert.match(l, new RegExp(`Cluster "${SESSION_CLUSTER}":`));
            // "Vote: <last change> (<vote in force>)": both nodes hold an ACK.
            assert.equal(l.match(/Vote:.*\(ACK\)$/gm)?.length, 2, l);
          });
        } finally {
          stopped = await daemon.stop();
        }
        assert.equal(stopped.code, 0, stopped.stderr);
        // The socket file is removed at exit: write of it is the one grant kept after start-up.
        assert.throws(() => Deno.statSync(socketFile), Deno.errors.NotFound);
        if (tls === "on") {
          // The key directory stays readable (SIGHUP rotates the keys); the socket's read goes.
          assert.match(stopped.stderr, /Dropped permissions: read \S+qnetd\.sock, /);
          assert.doesNotMatch(stopped.stderr, new RegExp(`Dropped permissions: .*read ${keyDir},`));
        }
        // The audit log (written by the daemon user) shows only grants of the declared set,
        // except the lock file's refused last-resort mkdir of its existing directory.
        const set = qnetdPermissions(args, configFile);
        const worker = readAudit(auditFile).filter((e) => !launcherEntry(e, configFile));
        const outside = worker.filter((e) =>
          !(set[e.permission as keyof typeof set] ?? []).some((v) =>
            e.value === v || e.value?.startsWith(`${v}/`)
          )
        );
        assert.deepEqual(
          [...new Set(outside.map((e) => `${e.permission} ${e.value}`))],
          [`write ${dir}/run`],
        );
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    },
  );
}

testNeeding(
  NEED,
  "unprivilegedDenoArgv(): after start-up uid 65534 keeps read of its key directory (rotation) and loses the rest",
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "qnet-unpriv-" });
    try {
      const keyDir = await makeKeyDir(dir);
      const runDir = `${dir}/run`;
      Deno.mkdirSync(runDir);
      prepareUnprivileged(dir);
      prepareUnprivileged(dir); // again, as a harness that restarts the daemon does: no rebuild
      const denoDir = Deno.statSync(denoDirOf(dir));
      assert.equal(denoDir.uid, 0);
      assert.equal(denoDir.mode! & 0o777, 0o755);
      // The operating system lets the daemon user read the keys it loads: the NSS database
      // (which wins) and the PEM export beside it.
      for (const file of ["key4.db", "cert9.db", "qnetd-key.pem"]) {
        const key = Deno.statSync(`${keyDir}/${file}`);
        assert.equal(key.uid, UNPRIVILEGED_UID, file);
        assert.equal(key.mode! & 0o400, 0o400, file);
        assert.equal(key.mode! & 0o007, 0, `${file} is not readable by others`);
      }

      const port = PORT + 2;
      const args = [
        "-p",
        String(port),
        "-S",
        `nss_db_dir=${keyDir},lock_file=${runDir}/qnetd.pid,local_socket_file=${runDir}/qnetd.sock`,
      ];
      const argv = unprivilegedDenoArgv(dir, [
        "run",
        "--quiet",
        "--no-prompt",
        "--cached-only",
        `--config=${ROOT}deno.json`,
        ...toFlags(qnetdPermissions(args, `${dir}/qnetd.toml`)),
        `${ROOT}tests/support/drop_probe.ts`,
        keyDir,
        runDir,
        String(port),
      ]);
      const child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      try {
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let out = "";
        while (!out.includes("ready\n")) {
          const { done, value } = await reader.read();
          if (done) break;
          out += value;
        }
        assert.ok(out.includes("ready\n"), "the probe did not start");
        assert.equal(procStatus(child.pid).get("Uid"), Array(4).fill(UNPRIVILEGED_UID).join("\t"));
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        (await Deno.connect({ transport: "unix", path: `${runDir}/qnetd.sock` })).close();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          out += value;
        }
        const { code, stderr } = await child.output().catch(async () => ({
          code: (await child.status).code,
          stderr: new Uint8Array(),
        }));
        assert.equal(code, 0, new TextDecoder().decode(stderr));
        const report = JSON.parse(out.slice(out.indexOf("ready\n") + 6));
        // With TLS on the key directory stays readable: SIGHUP rotates the keys.
        assert.equal(report.readKey, "ok");
        assert.equal(report.statKeyDir, "ok");
        assert.equal(report.writeLock, "NotCapable");
        assert.equal(report.ffiCall, "ok");
        assert.equal(report.accepted, "ok");
      } finally {
        clearTimeout(killer);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test("prepareUnprivileged() says which directory keeps uid 65534 out", () => {
  const parent = Deno.makeTempDirSync({ prefix: "qnet-unpriv-" }); // mode 0700
  try {
    Deno.mkdirSync(`${parent}/inner`);
    assert.throws(
      () => prepareUnprivileged(`${parent}/inner`),
      (e: Error) => e.message.startsWith(`${parent} (mode 700) keeps uid 65534 out of `),
    );
    assert.equal(Deno.statSync(`${parent}/inner`).uid, 0); // nothing was changed
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});
