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
import {
  computeWith,
  type PermissionSet,
  QNETD_RULES,
  qnetdPermissions,
} from "../../cli/permission_sets.ts";
import { parseQnetdArgs } from "../../cli/qnetd_args.ts";
import { daemonArgs, makeKeyDir, ROOT, runToExit } from "../support/mod.ts";
import { bakedFlags } from "../../cli/baked_flags.ts";

Deno.test("parseNotCapable() reads kind and target from Deno's message", () => {
  const cases: Array<[string, ReturnType<typeof parseNotCapable>]> = [
    [
      'Requires net access to "[::]:5404", run again with the --allow-net flag',
      { kind: "net", target: "[::]:5404" },
    ],
    [
      'Requires write access to "/run/q.pid", run again with the --allow-write flag',
      { kind: "write", target: "/run/q.pid" },
    ],
    [
      'Requires sys access to "uid", run again with the --allow-sys flag',
      { kind: "sys", target: "uid" },
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

Deno.test("formatMissingPermission() names the access and the option of the nearest grant, no flag", () => {
  const { rows } = computeWith(QNETD_RULES, {
    options: (() => {
      const parsed = parseQnetdArgs(["-p", "5404", "-S", "local_socket_file=/r/q.sock"]);
      if (!parsed.ok) throw new Error(parsed.stderr);
      return parsed.options;
    })(),
    configFile: "/c.toml",
  });
  const refused = (message: string) =>
    formatMissingPermission("corosync-qnetd", new Deno.errors.NotCapable(message), rows);
  assert.equal(
    refused('Requires net access to "[::]:5405", run again with the --allow-net flag\nmore'),
    'corosync-qnetd: access refused: net access to "[::]:5405" (nearest grant: net "[::]:5404", ' +
      "from -l, -p, -4/-6: the TCP listen address)\n",
  );
  assert.equal(
    refused('Requires read access to "/r/other", run again with the --allow-read flag'),
    'corosync-qnetd: access refused: read access to "/r/other" (nearest grant: read "/r/q.sock"; ' +
      'write "/r/q.sock"; net "unix:/r/q.sock", from -S local_socket_file: the local socket is ' +
      "bound at start and removed at exit)\n",
  );
  assert.equal(
    refused('Requires run access to "/bin/sh", run again with the --allow-run flag'),
    'corosync-qnetd: access refused: run access to "/bin/sh" (no option of this command line ' +
      "needs it)\n",
  );
  const odd = new Deno.errors.NotCapable("Deno.symlinkSync() requires unscoped\nstack");
  assert.equal(
    formatMissingPermission("qnet x", odd, rows),
    "qnet x: access refused: Deno.symlinkSync() requires unscoped\n",
  );
  for (const line of [refused('Requires env access to "X", run again with the --allow-env flag')]) {
    assert.doesNotMatch(line, /--allow-/);
  }
});

/** The declared set without one value of one kind. */
function without(set: PermissionSet, kind: keyof PermissionSet, value: string): PermissionSet {
  const values = (set[kind] ?? []).filter((v) => v !== value);
  return { ...set, [kind]: values.length > 0 ? values : undefined };
}

Deno.test("qnetd in a worker without one needed grant exits 1 naming it and its option, no stack", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-deny-" });
  try {
    const keyDir = await makeKeyDir(dir);
    Deno.mkdirSync(`${dir}/run`);
    const port = 17230;
    const args = daemonArgs(dir, keyDir, port, ["-s", "on"]);
    const declared = qnetdPermissions(args, "/nonexistent/qnetd.toml");
    const cases: Array<[keyof PermissionSet, string, string]> = [
      ["read", keyDir, "-S nss_db_dir"],
      ["write", `${dir}/run/qnetd.pid`, "-S lock_file"],
      ["net", `unix:${dir}/run/qnetd.sock`, "-S local_socket_file"],
      ["net", `[::]:${port}`, "-l, -p, -4/-6"],
      ["ffi", "/usr/lib/x86_64-linux-gnu/libssl.so.3", "-s"],
    ];
    for (const [kind, value, option] of cases) {
      if (kind === "ffi" && !Deno.statSync(value).isFile) continue;
      const { code, stderr } = await runToExit(args, without(declared, kind, value));
      assert.equal(code, 1, stderr);
      const last = stderr.trimEnd().split("\n").at(-1) ?? "";
      assert.ok(
        last.startsWith(`qnet qnetd: access refused: ${kind} access to "${value}" (`),
        last,
      );
      assert.ok(last.includes(`, from ${option}: `), `${last}\nshould name ${option}`);
      assert.doesNotMatch(stderr, /--allow-/);
      assert.doesNotMatch(stderr, /\n\s+at /);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("certutil in a worker without write of its directory names it and -d, no --allow", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-deny-" });
  try {
    const keys = `${dir}/keys`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        ...bakedFlags(),
        `${ROOT}tests/support/launch_with.ts`,
        JSON.stringify({ read: [dir], sys: ["uid"] }),
        "certutil",
        "-i",
        "-d",
        keys,
      ],
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^qnet certutil: access refused: write access to "${keys}[^"]*" \\(nearest grant: .*, from -d: `,
        "m",
      ),
    );
    assert.doesNotMatch(stderr, /--allow-/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
