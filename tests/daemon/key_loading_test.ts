/**
 * The daemon's start with key directories it cannot use: a damaged NSS database, a legacy
 * cert8.db one, a missing nickname. Each gives one line naming the file and what to do, exit 1,
 * and the same exit code as corosync-qnetd on the same directory.
 */
import assert from "node:assert/strict";
import { C_QNETD, needCQnetd, QNET_ARGV, testNeeding } from "../support/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const OURS = [...QNET_ARGV, "qnetd"];
/** A database as the real corosync-qnetd-certutil -i made it (tests/fixtures/README.md). */
const C_DB = `${ROOT}tests/fixtures/nssdb/c-qnetd-certutil`;

/** Runs a daemon with TLS on `keys` to its exit; returns its exit code and stderr. */
async function start(cmd: readonly string[], dir: string, keys: string, extra: string[] = []) {
  const out = await new Deno.Command(cmd[0]!, {
    args: [
      ...cmd.slice(1),
      "-f",
      "-p",
      "42501",
      "-s",
      "on",
      "-S",
      `nss_db_dir=${keys},lock_file=${dir}/qnetd.pid,local_socket_file=${dir}/qnetd.sock`,
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Key directories the daemon cannot use, each made in `dir`, and what the line must name. */
async function badDirectories(dir: string) {
  const copy = async (name: string) => {
    const keys = `${dir}/${name}`;
    await Deno.mkdir(keys);
    for (const f of ["cert9.db", "key4.db", "pkcs11.txt"]) {
      await Deno.copyFile(`${C_DB}/${f}`, `${keys}/${f}`);
    }
    return keys;
  };
  const truncated = await copy("truncated");
  const head = (await Deno.readFile(`${truncated}/cert9.db`)).subarray(0, 2048);
  await Deno.writeFile(`${truncated}/cert9.db`, head);
  const noKey = await copy("no-key4");
  await Deno.remove(`${noKey}/key4.db`);
  const legacy = `${dir}/legacy`;
  await Deno.mkdir(legacy);
  await Deno.writeFile(`${legacy}/cert8.db`, new Uint8Array(16384));
  return [
    { keys: truncated, names: /truncated\/cert9\.db/, extra: [] },
    { keys: noKey, names: /no-key4\/key4\.db/, extra: [] },
    { keys: legacy, names: /legacy\/cert8\.db is a legacy \(DBM\) NSS database/, extra: [] },
    {
      keys: await copy("nickname"),
      names: /No Such Cert/,
      extra: ["-S", "cert_nickname=No Such Cert"],
    },
  ];
}

Deno.test("qnetd -s on with an unusable NSS database: one line naming the file, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssops-badkeys-" });
  try {
    for (const bad of await badDirectories(dir)) {
      const ours = await start(OURS, dir, bad.keys, bad.extra);
      assert.equal(ours.code, 1, ours.stderr);
      const lines = ours.stderr.trim().split("\n");
      assert.equal(lines.length, 1, ours.stderr);
      assert.match(lines[0]!, /crit\s+Can't load TLS key material: /);
      assert.match(lines[0]!, bad.names);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testNeeding(needCQnetd(), {
  name: "qnetd -s on with an unusable NSS database exits as corosync-qnetd does",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nssops-badkeys-c-" });
    try {
      for (const bad of await badDirectories(dir)) {
        const ours = await start(OURS, dir, bad.keys, bad.extra);
        const c = await start([C_QNETD], dir, bad.keys, bad.extra);
        assert.equal(ours.code, c.code, `${bad.keys}: C said ${c.stderr}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
