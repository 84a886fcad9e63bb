/**
 * dropStartupPermissions(), checked in a subprocess that holds the daemon's declared set
 * (a revoke cannot be undone, so never in the test runner itself), and the pure helpers.
 */
import assert from "node:assert/strict";
import { listenDescriptor, startupOnlyPermissions } from "../../cli/privilege_drop.ts";
import { qnetdPermissions, toFlags } from "../../cli/permission_sets.ts";
import { makeKeyDir, ROOT } from "../support/mod.ts";

const PORT = 17220;

Deno.test("dropStartupPermissions() leaves only write of the socket file, and FFI calls work", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-drop-" });
  try {
    const keyDir = await makeKeyDir(dir);
    const runDir = `${dir}/run`;
    Deno.mkdirSync(runDir);
    const args = [
      "-p",
      String(PORT),
      "-S",
      `nss_db_dir=${keyDir},lock_file=${runDir}/qnetd.pid,local_socket_file=${runDir}/qnetd.sock`,
    ];
    const flags = toFlags(qnetdPermissions(args, `${dir}/qnetd.toml`));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        ...flags,
        `${ROOT}tests/support/drop_probe.ts`,
        keyDir,
        runDir,
        String(PORT),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("ready\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      out += value;
    }
    (await Deno.connect({ hostname: "127.0.0.1", port: PORT })).close();
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
    clearTimeout(killer);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const report = JSON.parse(out.slice(out.indexOf("ready\n") + 6));
    // With TLS on the key directory stays readable: SIGHUP rotates the keys.
    assert.equal(report.readKey, "ok");
    assert.equal(report.statKeyDir, "ok");
    assert.equal(report.writeLock, "NotCapable");
    // ffi stays granted with TLS on, scoped to libssl by the set: a dlopen of any other
    // library is refused, calls into libssl work, and pointer views are refused (Deno allows
    // them only with unscoped ffi), which is why net/ never uses them.
    assert.equal(report.dlopen, "NotCapable");
    assert.equal(report.ffiCall, "ok");
    assert.equal(report.pointerOf, "NotCapable");
    assert.equal(report.accepted, "ok");
    assert.deepEqual(report.states, {
      readKeyDir: "granted",
      ffi: "granted",
      netTcp: "prompt",
      netUnix: "prompt",
      writeSocket: "granted",
      env: "prompt",
    });
    assert.match(report.summary, /^Dropped permissions: read .*\/qnetd\.sock, /);
    assert.doesNotMatch(report.summary, /read [^,]*\/keys,/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listenDescriptor() names the address as the net permission does", () => {
  const cases: Array<[string | undefined, "any" | "ipv4" | "ipv6", string]> = [
    [undefined, "any", "[::]:5403"],
    [undefined, "ipv6", "[::]:5403"],
    [undefined, "ipv4", "0.0.0.0:5403"],
    ["192.0.2.1", "any", "192.0.2.1:5403"],
    ["fe80::1", "ipv6", "[fe80::1]:5403"],
    ["qnetd.example", "any", "qnetd.example:5403"],
  ];
  for (const [listenAddr, addressFamily, expected] of cases) {
    assert.equal(listenDescriptor({ listenAddr, addressFamily, port: 5403 }), expected);
  }
});

Deno.test("startupOnlyPermissions() never revokes write of the socket file", () => {
  const grants = { keyDir: "/k", lockFile: "/r/q.pid", socketFile: "/r/q.sock", listen: "[::]:1" };
  const revoked = startupOnlyPermissions({ ...grants, tls: false });
  assert.ok(!revoked.some((d) => d.name === "write" && d.path === "/r/q.sock"));
  assert.ok(revoked.some((d) => d.name === "read" && d.path === "/k"));
  assert.ok(revoked.some((d) => d.name === "ffi"));
  // With TLS on, every TLS record needs ffi and SIGHUP re-reads the keys: both are kept.
  const withTls = startupOnlyPermissions({ ...grants, tls: true });
  assert.ok(!withTls.some((d) => d.name === "ffi"));
  assert.ok(!withTls.some((d) => d.name === "read" && d.path === "/k"));
});
