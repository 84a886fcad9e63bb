/**
 * Least privilege, proven on a running daemon: `qnet qnetd` runs as a subprocess with only
 * its declared permission set (never -A) and DENO_AUDIT_PERMISSIONS, serves a full session
 * of a scripted client plus `qnet qnetd-tool` (itself run with only its own set), stops
 * cleanly, and then the audit log must show every access inside the declared set and every
 * declared grant used.
 */
import assert from "node:assert/strict";
import {
  LIBSSL_PATHS,
  type PermissionSet,
  socketClientPermissions,
  toFlags,
} from "../../cli/permission_sets.ts";
import {
  daemonArgs,
  daemonPaths,
  fullSession,
  grants,
  makeKeyDir,
  readAudit,
  ROOT,
  startSandboxed,
} from "../support/mod.ts";

const PORT = 17210;

/** `qnet qnetd-tool -s` with only the qnetd-tool set for this socket. */
async function toolStatus(socketFile: string, set: PermissionSet): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...toFlags(set),
      `${ROOT}mod.ts`,
      "qnetd-tool",
      "-s",
      "-p",
      socketFile,
    ],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("qnetd with its declared set serves a full session and uses nothing else", async () => {
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
        const status = await toolStatus(socketFile, socketClientPermissions(socketFile));
        assert.match(status, /Connected clients:\s+2/);
      });
    } finally {
      stopped = await daemon.stop();
    }
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, new RegExp(`Dropped permissions: read ${keyDir}, `));

    const audit = readAudit(auditFile);
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
        assert.ok(used(kind, value), `declared ${kind} ${value} was never used`);
      }
    }
    assert.ok(LIBSSL_PATHS.some((p) => used("ffi", p)), "libssl was not loaded");
    assert.ok(!audit.some((e) => ["run", "sys"].includes(e.permission)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qnetd -s off needs and uses no ffi and no key directory", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-" });
  try {
    Deno.mkdirSync(`${dir}/run`);
    const { auditFile } = daemonPaths(dir);
    const args = daemonArgs(dir, `${dir}/no-keys`, PORT + 1, ["-s", "off"]);
    const daemon = await startSandboxed(args, auditFile);
    assert.equal(daemon.declared.ffi, undefined);
    const { code, stderr } = await daemon.stop();
    assert.equal(code, 0, stderr);
    const audit = readAudit(auditFile);
    assert.ok(!audit.some((e) => e.permission === "ffi"));
    assert.ok(!audit.some((e) => e.value?.startsWith(`${dir}/no-keys`)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
