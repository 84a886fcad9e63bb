/** deno.json's permission sets are what cli/permission_sets.ts computes for the defaults. */
import assert from "node:assert/strict";
import {
  declaredSets,
  LIBC_PATHS,
  qnetdPermissions,
  toFlags,
  unionOf,
} from "../../cli/permission_sets.ts";
import { ROOT } from "../support/mod.ts";

Deno.test("declaredSets() equal deno.json's permission sets", () => {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  for (const [name, set] of declaredSets()) {
    assert.deepEqual(config.permissions[name], set, `set "${name}"`);
  }
});

Deno.test("qnetdPermissions() follows -4, -l, -p, -s off and -S paths", () => {
  const set = qnetdPermissions([
    "-4",
    "-p",
    "5404",
    "-s",
    "off",
    "-S",
    "lock_file=/r/q.pid,local_socket_file=/r/q.sock,nss_db_dir=/k",
  ], "/c.toml");
  assert.deepEqual(set, {
    read: ["/c.toml", "/r/q.sock"],
    write: ["/r/q.pid", "/r/q.sock"],
    net: ["0.0.0.0:5404", "unix:/r/q.sock"],
    // libc only, for the fcntl lock: no libssl with -s off.
    ffi: [...LIBC_PATHS],
    env: ["QNETD_CONFIG_FILE", "JOURNAL_STREAM", "NOTIFY_SOCKET"],
  });
  assert.deepEqual(qnetdPermissions(["-l", "::1"]).net?.[0], "[::1]:5403");
  assert.throws(() => qnetdPermissions(["-p", "0"]), /Invalid qnetd command line/);
});

Deno.test("no subcommand's set may run programs (only the launcher starts its own copy)", () => {
  for (const [name, set] of declaredSets()) assert.equal(set.run, undefined, name);
});

Deno.test("toFlags() and unionOf() merge sets into --allow-* flags", () => {
  const union = unionOf([{ read: ["/a"], net: ["x:1"] }, { read: ["/a", "/b"], sys: ["uid"] }]);
  assert.deepEqual(toFlags(union), ["--allow-read=/a,/b", "--allow-net=x:1", "--allow-sys=uid"]);
});

Deno.test("the daemon's deno.json tasks run with the V8 flags the compiled binary gets", async () => {
  const { V8_FLAGS } = await import("../../scripts/compile.ts");
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words: string[] = config.tasks.qnetd.split(" ");
  assert.ok(words.includes(V8_FLAGS), `task qnetd: ${config.tasks.qnetd}`);
  // `start` runs scripts/start, which takes the baked flags (V8's among them) from compile.ts.
  assert.equal(config.tasks.start, "scripts/start");
  const start = await Deno.readTextFile(`${ROOT}scripts/start`);
  assert.ok(start.includes('scripts/compile.ts" --print-flags'), "scripts/start: other flags");
  const { bakedFlags } = await import("../../scripts/compile.ts");
  assert.ok(bakedFlags().includes(V8_FLAGS));
});

Deno.test("every rule row names its option and why, and adds a grant when it applies", async () => {
  const { QNETD_RULES, SOCKET_CLIENT_RULES, CERTUTIL_RULES } = await import(
    "../../cli/permission_sets.ts"
  );
  for (const rule of [...QNETD_RULES, ...SOCKET_CLIENT_RULES, ...CERTUTIL_RULES]) {
    assert.notEqual(rule.option.trim(), "", rule.why);
    assert.notEqual(rule.why.trim(), "", rule.option);
  }
  // -s off leaves out exactly the rows with a `when` that TLS decides.
  const off = qnetdPermissions(["-s", "off"]);
  assert.deepEqual(off.ffi, [...LIBC_PATHS]); // the lock's libc, no libssl
  assert.ok(!off.read?.includes("/etc/corosync/qnetd/nssdb"));
});

Deno.test("deno.json's \"qnet\" set is the launcher's widest set (the baked flags)", async () => {
  const { widestSet } = await import("../../cli/permission_sets.ts");
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  assert.deepEqual(
    config.permissions.qnet,
    widestSet(),
    "a rule row with a new ffi, env or sys value widens the binary: copy widestSet() into " +
      'deno.json\'s "qnet" set',
  );
  assert.match(config.tasks.qnetd, /--unstable-worker-options .*-P=qnet mod\.ts qnetd$/);
});

Deno.test("commandLinePermissions() computes the C command lines of issue 18", async () => {
  const { commandLinePermissions } = await import("../../cli/permission_sets.ts");
  const set = async (sub: string, args: string[], config = "/none/qnetd.toml") =>
    (await commandLinePermissions(sub, args, config)).set;
  assert.deepEqual((await set("qnetd", ["-f", "-l", "127.0.0.1", "-s", "off"])).net, [
    "127.0.0.1:5403",
    "unix:/var/run/corosync-qnetd/corosync-qnetd.sock",
  ]);
  for (const socket of ["/run/corosync-qnetd/corosync-qnetd.sock", "/var/run/x/y.sock"]) {
    assert.deepEqual(await set("qnetd-tool", ["-s", "-p", socket]), {
      read: [socket],
      write: [socket],
      net: [`unix:${socket}`],
    });
  }
  assert.deepEqual(await set("certutil", ["-s", "-c", "/tmp/REQ", "-n", "CLUSTER"]), {
    read: ["/etc/corosync/qnetd", "/tmp/REQ"],
    write: ["/etc/corosync/qnetd/nssdb"],
    sys: ["uid"],
  });
  assert.deepEqual(await set("certutil", ["-i", "-d", "/srv/q/keys"]), {
    read: ["/srv/q"],
    write: ["/srv/q/keys"],
    sys: ["uid"],
  });
  assert.deepEqual(await set("cmapctl", ["-P", "/srv/q.sock", "-p", "/srv/load"]), {
    read: ["/srv/q.sock", "/srv/load"],
    write: ["/srv/q.sock"],
    net: ["unix:/srv/q.sock"],
  });
  // Invalid command lines and help get nothing: the subcommand only prints its usage.
  assert.deepEqual(await set("qnetd", ["-x"]), {});
  assert.deepEqual(await set("qnetd-tool", ["-h"]), {});
  assert.deepEqual(await set(undefined as unknown as string, ["--version"]), {});
  // The configuration file's settings count as the command line's.
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-conf-" });
  try {
    Deno.writeTextFileSync(`${dir}/q.toml`, "[daemon]\nport = 47020\n");
    assert.ok((await set("qnetd", ["-s", "off"], `${dir}/q.toml`)).net?.includes("[::]:47020"));
    // A file that cannot be used: only what the daemon needs to say so.
    Deno.writeTextFileSync(`${dir}/bad.toml`, "[daemon\n");
    assert.deepEqual(await set("qnetd", [], `${dir}/bad.toml`), {
      read: [`${dir}/bad.toml`],
      env: ["QNETD_CONFIG_FILE"],
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every computed set fits in the widest set the binary is built with", async () => {
  const { commandLinePermissions, widestSet, PERMISSION_KINDS } = await import(
    "../../cli/permission_sets.ts"
  );
  const widest = widestSet();
  const lines: Array<[string, string[]]> = [
    ["qnetd", []],
    ["qnetd", ["-s", "off", "-4", "-p", "1234"]],
    ["qnetd", ["-s", "req", "-S", "nss_db_dir=/k,lock_file=/l,local_socket_file=/s"]],
    ["qnetd-tool", ["-l", "-p", "/x"]],
    ["cmapctl", ["-p", "/f"]],
    ["certutil", ["-i"]],
    ["certutil", ["--import-nssdb", "/n", "-d", "/d"]],
  ];
  for (const [sub, args] of lines) {
    const { set } = await commandLinePermissions(sub, args, "/none.toml");
    for (const kind of PERMISSION_KINDS) {
      const allowed = widest[kind];
      if (allowed === true) continue;
      for (const value of set[kind] ?? []) {
        assert.ok(allowed.includes(value), `${sub} ${args.join(" ")}: ${kind} ${value}`);
      }
    }
  }
});

Deno.test("commandLinePermissions() grants relative paths as absolute ones under the cwd", async () => {
  const { commandLinePermissions, LIBC_PATHS } = await import("../../cli/permission_sets.ts");
  const { set } = await commandLinePermissions(
    "qnetd",
    ["-s", "off", "-S", "lock_file=run/q.pid,local_socket_file=q.sock"],
    "c.toml",
    "/w",
  );
  assert.deepEqual(set, {
    read: ["/w/c.toml", "/w/q.sock"],
    write: ["/w/run/q.pid", "/w/q.sock"],
    net: ["[::]:5403", "unix:/w/q.sock"],
    ffi: [...LIBC_PATHS],
    env: ["QNETD_CONFIG_FILE", "JOURNAL_STREAM", "NOTIFY_SOCKET"],
  });
  const tool = await commandLinePermissions("qnetd-tool", ["-s", "-p", "s.sock"], undefined, "/w");
  assert.deepEqual(tool.set.net, ["unix:/w/s.sock"]);
});

Deno.test("the tools' default socket is the daemon's default socket", async () => {
  const { DEFAULT_SOCKET_PATH } = await import("../../cli/qnetd_tool.ts");
  const { socketClientPermissions } = await import("../../cli/permission_sets.ts");
  assert.deepEqual(socketClientPermissions().net, [`unix:${DEFAULT_SOCKET_PATH}`]);
});
