/**
 * The daemon's life cycle against ours and the real corosync-qnetd with the same test body: a
 * port already taken fails the start, an IPC `shutdown` and SIGINT end it cleanly, and `-4`
 * decides which address family the listening socket takes (seen on the wire: which of
 * 127.0.0.1 and ::1 accept a connection). Ports 18500..18529.
 */
import assert from "node:assert/strict";
import {
  ARBITER_KINDS,
  type ArbiterKind,
  joinFfsplit,
  needKind,
  pathExists,
  settle,
  startArbiter,
  testNeeding,
} from "../support/mod.ts";

const PORTS: Record<ArbiterKind, { bind: number; ipc: number; sigint: number; family: number }> = {
  qnet: { bind: 18500, ipc: 18501, sigint: 18502, family: 18503 },
  c: { bind: 18510, ipc: 18511, sigint: 18512, family: 18513 },
};
const ROOT = new URL("../../", import.meta.url).pathname;
const text = new TextDecoder();

function command(kind: ArbiterKind): string[] {
  return kind === "c"
    ? ["/usr/bin/corosync-qnetd"]
    : [Deno.execPath(), "run", "--quiet", "-A", `${ROOT}mod.ts`, "qnetd"];
}

/** Whether a TCP connection to `hostname:port` is accepted. */
async function accepts(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
}

/** Sends one IPC request line on the daemon's local socket; returns the whole answer. */
async function ipc(socketPath: string, line: string): Promise<string> {
  using conn = await Deno.connect({ transport: "unix", path: socketPath });
  await conn.write(new TextEncoder().encode(line));
  let answer = "";
  const buffer = new Uint8Array(4096);
  const deadline = AbortSignal.timeout(10_000);
  for (;;) {
    const n = await Promise.race([
      conn.read(buffer),
      new Promise<never>((_, reject) =>
        deadline.addEventListener("abort", () => reject(new Error("no IPC answer in 10 s")))
      ),
    ]);
    if (n === null) return answer;
    answer += text.decode(buffer.subarray(0, n));
  }
}

/** Waits (bounded) for the process to exit; the status. */
async function exitOf(process: Deno.ChildProcess, ms = 10_000): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([process.status, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

for (const kind of ARBITER_KINDS) {
  testNeeding(needKind(kind), {
    name: `lifecycle (${kind}): a listening port already taken fails the start with exit 1`,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: `qnet-bind-${kind}-` });
      using taken = Deno.listen({ hostname: "127.0.0.1", port: PORTS[kind].bind });
      try {
        const out = await new Deno.Command(command(kind)[0]!, {
          args: [
            ...command(kind).slice(1),
            ...["-f", "-s", "off", "-l", "127.0.0.1", "-p", String(taken.addr.port)],
            ...["-S", `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock`],
          ],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(20_000),
        }).output();
        const log = text.decode(out.stderr);
        assert.equal(out.code, 1, log);
        // One critical line naming the failure (the C daemon's is NSS's text for EADDRINUSE).
        const lines = log.trimEnd().split("\n");
        assert.equal(lines.length, 1, log);
        assert.match(
          lines[0]!,
          kind === "c"
            ? /^\w{3} \d\d \d\d:\d\d:\d\d crit {4}NSS error \(-\d+\): .*in use/
            : /^\w{3} \d\d \d\d:\d\d:\d\d crit {4}Can't create listening socket on 127\.0\.0\.1:\d+: Address already in use/,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  testNeeding(needKind(kind), {
    name: `lifecycle (${kind}): IPC shutdown answers OK, ends the daemon with 0, clients see EOF`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind].ipc,
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      using one = await joinFfsplit(daemon.port, "ipc-shutdown", 1, [1, 2]);
      await settle([one]);
      assert.equal(await ipc(daemon.socketPath, "shutdown\n"), "OK\n");
      const status = await exitOf(daemon.process);
      assert.deepEqual([status.code, status.signal], [0, null], daemon.stderr());
      assert.ok(await one.conn.expectEof(), "a client kept its connection");
      assert.equal(await accepts("127.0.0.1", daemon.port), false, "still listening");
    },
  });

  testNeeding(needKind(kind), {
    name: `lifecycle (${kind}): SIGINT ends the daemon with 0 and removes its local socket`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind].sigint,
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      using one = await joinFfsplit(daemon.port, "sigint", 1, [1, 2]);
      await settle([one]);
      daemon.process.kill("SIGINT");
      const status = await exitOf(daemon.process);
      assert.deepEqual([status.code, status.signal], [0, null], daemon.stderr());
      assert.ok(await one.conn.expectEof(), "a client kept its connection");
      assert.equal(pathExists(daemon.socketPath), false, "the local socket is left behind");
    },
  });

  testNeeding(needKind(kind), {
    name: `lifecycle (${kind}): -4 listens on IPv4 only; the default and -6 on both families`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const port = PORTS[kind].family;
      for (
        const [flags, v4, v6] of [
          [["-4"], true, false],
          [["-6"], true, true],
          [[], true, true],
          [["-4", "-l", "127.0.0.1"], true, false],
          [["-l", "::1"], false, true],
        ] as const
      ) {
        await t.step(`${flags.join(" ") || "(no flag)"}`, async () => {
          await using _daemon = await startArbiter(kind, {
            port,
            args: ["-s", "off", ...flags],
            hostname: v4 ? "127.0.0.1" : "::1",
          });
          assert.deepEqual(
            [await accepts("127.0.0.1", port), await accepts("::1", port)],
            [v4, v6],
            "[127.0.0.1 accepts, ::1 accepts]",
          );
        });
      }
    },
  });
}

Deno.test({
  // KNOWN DIFFERENCE (cli/qnetd.ts listenHostname()): corosync-qnetd resolves -l in the
  // family -4/-6 forces and fails the start when the address is of the other family
  // (`-6 -l 127.0.0.1`: "NSS error (-5987): Invalid function argument", exit 1;
  // `-4 -l ::1`: "NSS error (-5973)", exit 1). Ours ignores -4/-6 when -l is given and listens
  // on the address as written. Ignored until -l is resolved in the forced family.
  name: "lifecycle: -6 with an IPv4 -l address (and -4 with IPv6) fails the start as in C",
  ignore: true,
  async fn() {
    for (const flags of [["-6", "-l", "127.0.0.1"], ["-4", "-l", "::1"]]) {
      const dir = await Deno.makeTempDir({ prefix: "qnet-family-" });
      try {
        const out = await new Deno.Command(command("qnet")[0]!, {
          args: [
            ...command("qnet").slice(1),
            ...["-f", "-s", "off", "-p", "18520", ...flags],
            ...["-S", `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock`],
          ],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(5_000),
        }).output();
        assert.equal(out.code, 1, flags.join(" "));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
