/** deno.json's permission sets are what cli/permission_sets.ts computes for the defaults. */
import assert from "node:assert/strict";
import { declaredSets, qnetdPermissions, toFlags, unionOf } from "../../cli/permission_sets.ts";
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
    env: ["QNETD_CONFIG_FILE"],
  });
  assert.deepEqual(qnetdPermissions(["-l", "::1"]).net?.[0], "[::1]:5403");
  assert.throws(() => qnetdPermissions(["-p", "0"]), /Invalid qnetd command line/);
});

Deno.test("no shipped set has run, and only certutil-import may run programs", () => {
  for (const [name, set] of declaredSets()) {
    if (name !== "certutil-import") assert.equal(set.run, undefined, name);
  }
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
  // `start` runs scripts/start, which picks the per-user directory first.
  assert.equal(config.tasks.start, "scripts/start");
  const start = await Deno.readTextFile(`${ROOT}scripts/start`);
  assert.ok(start.split(/\s+/).includes(V8_FLAGS), "scripts/start lacks the V8 flags");
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
  assert.equal(off.ffi, undefined);
  assert.ok(!off.read?.includes("/etc/corosync/qnetd/nssdb"));
});
