/**
 * What the worker holds is exactly the set computed for its command line, and the launcher
 * holds nothing once the worker runs: `Deno.permissions.query` in both, for every grant of
 * the set, for the same kinds unscoped and for neighbours (another port, another file), on
 * the command lines of issue 18 (another port and address, lock and socket elsewhere, the
 * tool on /run, certutil on a request in /tmp and a key directory elsewhere, cmapctl on a
 * socket elsewhere).
 */
import assert from "node:assert/strict";
import { bakedFlags } from "../../cli/baked_flags.ts";
import {
  LIBC_PATHS,
  PERMISSION_KINDS,
  type PermissionKind,
  type PermissionSet,
} from "../../cli/permission_sets.ts";
import { ROOT } from "../support/mod.ts";

/** A query descriptor of `kind` for `value` (undefined: unscoped). */
function descriptor(kind: PermissionKind, value?: string): Deno.PermissionDescriptor {
  switch (kind) {
    case "read":
    case "write":
    case "ffi":
      return value === undefined ? { name: kind } : { name: kind, path: value };
    case "net":
      return value === undefined ? { name: kind } : { name: kind, host: value };
    case "run":
      return value === undefined ? { name: kind } : { name: kind, command: value };
    case "env":
      return value === undefined ? { name: kind } : { name: kind, variable: value };
    case "sys":
      return value === undefined ? { name: kind } : { name: kind, kind: value as "hostname" };
  }
}

/** Neighbours no command line of these tests grants. */
const NEIGHBOURS: Deno.PermissionDescriptor[] = [
  { name: "read", path: "/etc/shadow" },
  { name: "write", path: "/etc/passwd" },
  { name: "net", host: "127.0.0.1:47999" },
  { name: "net", host: "unix:/tmp/not-this.sock" },
  { name: "ffi", path: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3" },
  { name: "run", command: "sh" },
  { name: "env", variable: "HOME" },
  { name: "sys", kind: "hostname" },
];

interface Probe {
  set: PermissionSet;
  worker: Array<Deno.PermissionDescriptor & { state: string }>;
  parent: Array<Deno.PermissionDescriptor & { state: string }>;
}

async function probe(qnetArgs: string[], set: PermissionSet): Promise<Probe> {
  const candidates = [
    ...PERMISSION_KINDS.flatMap((kind) => [
      descriptor(kind),
      ...(set[kind] ?? []).map((v) => descriptor(kind, v)),
    ]),
    ...NEIGHBOURS,
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...bakedFlags(),
      `${ROOT}tests/support/query_probe.ts`,
      JSON.stringify(candidates),
      ...qnetArgs,
    ],
    env: { QNETD_CONFIG_FILE: "/nonexistent/qnetd.toml" },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const { set: computed, parent } = JSON.parse(stdout[1]!);
  return { set: computed, worker: JSON.parse(stdout[0]!), parent };
}

const key = (d: Deno.PermissionDescriptor) => JSON.stringify(Object.entries(d).sort());

const CASES: Array<[string, string[], PermissionSet]> = [
  [
    "qnetd on another address, port, lock and socket",
    [
      "qnetd",
      "-f",
      "-s",
      "off",
      "-l",
      "127.0.0.1",
      "-p",
      "47030",
      "-S",
      "lock_file=/srv/q/q.pid,local_socket_file=/srv/q/q.sock",
    ],
    {
      read: ["/nonexistent/qnetd.toml", "/srv/q/q.sock"],
      write: ["/srv/q/q.pid", "/srv/q/q.sock"],
      net: ["127.0.0.1:47030", "unix:/srv/q/q.sock"],
      ffi: [...LIBC_PATHS],
      env: ["QNETD_CONFIG_FILE", "JOURNAL_STREAM", "NOTIFY_SOCKET"],
    },
  ],
  [
    "qnetd-tool on /run",
    ["qnetd-tool", "-s", "-p", "/run/corosync-qnetd/corosync-qnetd.sock"],
    {
      read: ["/run/corosync-qnetd/corosync-qnetd.sock"],
      write: ["/run/corosync-qnetd/corosync-qnetd.sock"],
      net: ["unix:/run/corosync-qnetd/corosync-qnetd.sock"],
    },
  ],
  [
    "certutil signing a request in /tmp",
    ["certutil", "-s", "-c", "/tmp/REQ", "-n", "CLUSTER"],
    {
      read: ["/etc/corosync/qnetd", "/tmp/REQ"],
      write: ["/etc/corosync/qnetd/nssdb"],
      sys: ["uid"],
    },
  ],
  [
    "certutil with a key directory elsewhere",
    ["certutil", "-i", "-d", "/srv/keys"],
    { read: ["/srv"], write: ["/srv/keys"], sys: ["uid"] },
  ],
  [
    "cmapctl on a socket elsewhere",
    ["cmapctl", "-P", "/srv/q/q.sock"],
    { read: ["/srv/q/q.sock"], write: ["/srv/q/q.sock"], net: ["unix:/srv/q/q.sock"] },
  ],
];

for (const [name, qnetArgs, expected] of CASES) {
  Deno.test(`worker permissions equal the computed set, launcher holds nothing: ${name}`, async () => {
    const result = await probe(qnetArgs, expected);
    assert.deepEqual(result.set, expected);
    const wanted = new Set(
      PERMISSION_KINDS.flatMap((kind) =>
        (expected[kind] ?? []).map((v) => key(descriptor(kind, v)))
      ),
    );
    const granted = result.worker.filter((r) => r.state === "granted").map(({ state: _, ...d }) =>
      key(d)
    );
    assert.deepEqual(new Set(granted), wanted, JSON.stringify(result.worker));
    assert.deepEqual(result.parent.filter((r) => r.state === "granted"), []);
  });
}
