/**
 * The NotCapable reporter: unit cases on Deno's messages, then the daemon itself started with
 * one grant of its declared set missing, which must exit 1 with one line naming it.
 */
import assert from "node:assert/strict";
import {
  findNotCapable,
  formatMissingPermission,
  parseNotCapable,
} from "../../cli/permission_error.ts";
import { type PermissionSet, qnetdPermissions } from "../../cli/permission_sets.ts";
import { daemonArgs, makeKeyDir, runToExit } from "../support/mod.ts";

Deno.test("parseNotCapable() reads kind, target and flag from Deno's message", () => {
  const cases: Array<[string, ReturnType<typeof parseNotCapable>]> = [
    [
      'Requires net access to "[::]:5404", run again with the --allow-net flag',
      { kind: "net", target: "[::]:5404", flag: "--allow-net=[::]:5404" },
    ],
    [
      'Requires write access to "/run/q.pid", run again with the --allow-write flag',
      { kind: "write", target: "/run/q.pid", flag: "--allow-write=/run/q.pid" },
    ],
    [
      'Requires sys access to "uid", run again with the --allow-sys flag',
      { kind: "sys", target: "uid", flag: "--allow-sys=uid" },
    ],
    ["Deno.symlinkSync() requires unscoped --allow-read and --allow-write permissions", undefined],
  ];
  for (const [message, expected] of cases) assert.deepEqual(parseNotCapable(message), expected);
});

Deno.test("findNotCapable() finds the error through a chain of causes", () => {
  const inner = new Deno.errors.NotCapable("Requires ffi access");
  assert.equal(findNotCapable(new Error("a", { cause: new Error("b", { cause: inner }) })), inner);
  assert.equal(findNotCapable(new Error("a", { cause: new Deno.errors.NotFound() })), undefined);
  assert.equal(findNotCapable("text"), undefined);
});

Deno.test("formatMissingPermission() prints one line with the flag and the set", () => {
  const error = new Deno.errors.NotCapable(
    'Requires net access to "unix:/x.sock", run again with the --allow-net flag\nmore',
  );
  assert.equal(
    formatMissingPermission("corosync-qnetd", error, "qnetd"),
    'corosync-qnetd: missing permission: net access to "unix:/x.sock"; grant it with ' +
      '--allow-net=unix:/x.sock (widen the "qnetd" permission set, see docs/deployment.md)\n',
  );
  const odd = new Deno.errors.NotCapable("Deno.symlinkSync() requires unscoped\nstack");
  assert.equal(
    formatMissingPermission("qnet x", odd, "x"),
    'qnet x: missing permission: Deno.symlinkSync() requires unscoped (widen the "x" ' +
      "permission set, see docs/deployment.md)\n",
  );
});

/** The declared set without one value of one kind. */
function without(set: PermissionSet, kind: keyof PermissionSet, value: string): PermissionSet {
  const values = (set[kind] ?? []).filter((v) => v !== value);
  return { ...set, [kind]: values.length > 0 ? values : undefined };
}

Deno.test("qnetd started without one needed grant exits 1 naming it, without a stack trace", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-deny-" });
  try {
    const keyDir = await makeKeyDir(dir);
    Deno.mkdirSync(`${dir}/run`);
    const port = 17230;
    const args = daemonArgs(dir, keyDir, port, ["-s", "on"]);
    const declared = qnetdPermissions(args, "/nonexistent/qnetd.toml");
    const cases: Array<[keyof PermissionSet, string]> = [
      ["read", keyDir],
      ["write", `${dir}/run/qnetd.pid`],
      ["net", `unix:${dir}/run/qnetd.sock`],
      ["net", `[::]:${port}`],
      ["ffi", "/usr/lib/x86_64-linux-gnu/libssl.so.3"],
    ];
    for (const [kind, value] of cases) {
      if (kind === "ffi" && !Deno.statSync(value).isFile) continue;
      const { code, stderr } = await runToExit(args, without(declared, kind, value));
      assert.equal(code, 1, stderr);
      const last = stderr.trimEnd().split("\n").at(-1);
      assert.equal(
        last,
        `qnet qnetd: missing permission: ${kind} access to "${value}"; grant it with ` +
          `--allow-${kind}=${value} (widen the "qnetd" permission set, see docs/deployment.md)`,
      );
      assert.doesNotMatch(stderr, /\n\s+at /);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
