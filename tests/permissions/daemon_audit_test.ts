/**
 * Least privilege, proven on a running daemon: `qnet qnetd` runs as the binary runs (the
 * launcher with the baked flags, never -A; the daemon in a worker with the set computed for
 * its command line) with DENO_AUDIT_PERMISSIONS, serves a full session of a scripted client
 * plus `qnet qnetd-tool` (itself run the same way), stops cleanly, and then the audit log
 * must show every access of the worker inside the computed set and every grant used.
 */
import assert from "node:assert/strict";
import { LIBC_PATHS, LIBSSL_PATHS } from "../../cli/permission_sets.ts";
import {
  configFileOf,
  daemonArgs,
  daemonPaths,
  fullSession,
  grants,
  launcherEntry,
  makeKeyDir,
  QNET_RUN_ARGS,
  readAudit,
  startSandboxed,
} from "../support/mod.ts";

const PORT = 17210;

/** `qnet qnetd-tool -s -p SOCKET` as the binary runs it (its worker gets only the socket). */
async function toolStatus(socketFile: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...QNET_RUN_ARGS, "qnetd-tool", "-s", "-p", socketFile],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("qnetd in its worker serves a full session and uses nothing outside its computed set", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-" });
  try {
    const keyDir = await makeKeyDir(dir);
    Deno.mkdirSync(`${dir}/run`); // what systemd's RuntimeDirectory= or tmpfiles.d provides
    const { lockFile, socketFile, auditFile } = daemonPaths(dir);
    const args = daemonArgs(dir, keyDir, PORT, ["-s", "on"]);
    const daemon = await startSandboxed(args, auditFile);
    let stopped: { code: number; stderr: string } | undefined;
    try {
      await fullSession(PORT, async () => {
        const status = await toolStatus(socketFile);
        assert.match(status, /Connected clients:\s+2/);
      });
    } finally {
      stopped = await daemon.stop();
    }
    assert.equal(stopped.code, 0, stopped.stderr);
    // With TLS on, read of the key directory stays (SIGHUP rotates the keys).
    assert.match(stopped.stderr, /Dropped permissions: read \S+qnetd\.sock, /);
    assert.doesNotMatch(stopped.stderr, new RegExp(`Dropped permissions: .*read ${keyDir},`));

    const audit = readAudit(auditFile).filter((e) => !launcherEntry(e, configFileOf(auditFile)));
    // The only access outside the set: the lock file's "create the directory as a last
    // resort" mkdir (net/lock_file.ts), refused and ignored since the directory exists.
    const runDir = lockFile.slice(0, lockFile.lastIndexOf("/"));
    const outside = audit.filter((e) => !grants(daemon.declared, e));
    assert.deepEqual(
      [...new Set(outside.map((e) => `${e.permission} ${e.value}`))],
      [`write ${runDir}`],
    );
    // Least: every declared grant was needed (ffi: the one libssl path of this system).
    const used = (kind: string, value: string) =>
      audit.some((e) => e.permission === kind && e.value === value);
    for (const kind of ["read", "write", "net"] as const) {
      for (const value of daemon.declared[kind] ?? []) {
        // The lock file is written through libc (the fcntl lock, net/lock_file.ts) after a
        // permission query, which the audit does not record.
        if (kind === "write" && value === lockFile) continue;
        assert.ok(used(kind, value), `declared ${kind} ${value} was never used`);
      }
    }
    assert.ok(LIBSSL_PATHS.some((p) => used("ffi", p)), "libssl was not loaded");
    assert.ok(LIBC_PATHS.some((p) => used("ffi", p)), "libc (the fcntl lock) was not loaded");
    assert.ok(!audit.some((e) => ["run", "sys"].includes(e.permission)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qnetd -s off needs and uses ffi for libc only (the lock), no key directory", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-" });
  try {
    Deno.mkdirSync(`${dir}/run`);
    const { auditFile } = daemonPaths(dir);
    const args = daemonArgs(dir, `${dir}/no-keys`, PORT + 1, ["-s", "off"]);
    const daemon = await startSandboxed(args, auditFile);
    assert.deepEqual(daemon.declared.ffi, [...LIBC_PATHS]);
    const { code, stderr } = await daemon.stop();
    assert.equal(code, 0, stderr);
    const audit = readAudit(auditFile).filter((e) => !launcherEntry(e, configFileOf(auditFile)));
    const ffi = audit.filter((e) => e.permission === "ffi");
    assert.ok(ffi.length > 0 && ffi.every((e) => LIBC_PATHS.includes(e.value ?? "")), "no libssl");
    assert.ok(!audit.some((e) => e.value?.startsWith(`${dir}/no-keys`)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
