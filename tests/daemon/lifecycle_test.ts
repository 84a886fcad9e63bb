/**
 * The daemon's life cycle against ours and the real corosync-qnetd with the same test body: a
 * port already taken fails the start, an IPC `shutdown` and SIGINT end it cleanly, and `-4`
 * decides which address family the listening socket takes (seen on the wire: which of
 * 127.0.0.1 and ::1 accept a connection), and a port in use or a -4/-6 that does not fit -l
 * fails the start with the same NSS error line as C. Ports 18500..18529.
 */
import assert from "node:assert/strict";
import {
  ARBITER_KINDS,
  type ArbiterKind,
  C_QNETD,
  joinFfsplit,
  type Missing,
  needAll,
  needKind,
  needRoot,
  pathExists,
  prepareUnprivileged,
  QNET_ARGV,
  settle,
  startArbiter,
  testNeeding,
  UNPRIVILEGED_GID,
  UNPRIVILEGED_UID,
  unprivilegedDenoArgv,
  unprivilegedQnetdArgv,
} from "../support/mod.ts";

const PORTS: Record<
  ArbiterKind,
  { bind: number; wildcard: number; ipc: number; sigint: number; family: number; refused: number }
> = {
  qnet: { bind: 18500, wildcard: 18504, ipc: 18501, sigint: 18502, family: 18503, refused: 18520 },
  c: { bind: 18510, wildcard: 18514, ipc: 18511, sigint: 18512, family: 18513, refused: 18521 },
};
const text = new TextDecoder();

function command(kind: ArbiterKind): string[] {
  return kind === "c" ? ["/usr/bin/corosync-qnetd"] : [...QNET_ARGV, "qnetd"];
}

/**
 * Starts the daemon with `flags` (TLS off, its files in a temporary directory), which must
 * fail: its exit code and its stderr lines without their timestamps.
 */
async function failedStart(
  kind: ArbiterKind,
  flags: readonly string[],
): Promise<{ code: number; lines: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: `qnet-start-${kind}-` });
  try {
    const out = await new Deno.Command(command(kind)[0]!, {
      args: [
        ...command(kind).slice(1),
        ...["-f", "-s", "off", ...flags],
        ...["-S", `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock`],
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    const lines = text.decode(out.stderr).trimEnd().split("\n");
    return {
      code: out.code,
      lines: lines.map((l) => l.replace(/^\w{3} \d\d \d\d:\d\d:\d\d /, "")),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Stderr lines without their timestamps. */
function logLines(stderr: Uint8Array): string[] {
  return text.decode(stderr).trimEnd().split("\n")
    .map((l) => l.replace(/^\w{3} \d\d \d\d:\d\d:\d\d /, ""));
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
    name: `lifecycle (${kind}): a listening port already taken fails the start with C's NSS error`,
    async fn(t) {
      // The same line for both daemons: NSPR's error as corosync-qnetd logs it, exit 1.
      const cases = [
        {
          what: "-l 127.0.0.1 (no address of it could be bound)",
          taken: "127.0.0.1",
          port: PORTS[kind].bind,
          args: ["-l", "127.0.0.1"],
          line: "NSS error (-5986): Network address not available (in use?)",
        },
        {
          what: "the wildcard (bind() failed with EADDRINUSE)",
          taken: "::",
          port: PORTS[kind].wildcard,
          args: [],
          line: "NSS error (-5982): Local Network address is in use",
        },
      ];
      for (const c of cases) {
        await t.step(c.what, async () => {
          using _taken = Deno.listen({ hostname: c.taken, port: c.port });
          const { code, lines } = await failedStart(kind, [...c.args, "-p", String(c.port)]);
          assert.equal(code, 1, lines.join("\n"));
          assert.deepEqual(lines, [`crit    ${c.line}`]);
        });
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

for (const kind of ARBITER_KINDS) {
  testNeeding(needKind(kind), {
    name: `lifecycle (${kind}): -l with -6, or an IPv6 -l with -4, fails the start as in C`,
    async fn(t) {
      // NSPR resolves -l with PR_GetAddrInfoByName(), which takes PR_AF_INET or PR_AF_UNSPEC
      // only: corosync-qnetd refuses every -6 -l (even an IPv6 address), and finds no IPv4
      // address for ::1 with -4 (net/listen_socket.ts).
      const cases = [
        [["-6", "-l", "127.0.0.1"], "NSS error (-5987): Invalid function argument"],
        [["-6", "-l", "::1"], "NSS error (-5987): Invalid function argument"],
        [
          ["-4", "-l", "::1"],
          "NSS error (-5973): A directory lookup on a network address has failed",
        ],
      ] as const;
      for (const [flags, line] of cases) {
        await t.step(flags.join(" "), async () => {
          const port = PORTS[kind].refused;
          const { code, lines } = await failedStart(kind, [...flags, "-p", String(port)]);
          assert.equal(code, 1, lines.join("\n"));
          assert.deepEqual(lines, [`crit    ${line}`]);
          assert.ok(!(await accepts("127.0.0.1", port)) && !(await accepts("::1", port)));
        });
      }
    },
  });
}

/**
 * A port below net.ipv4.ip_unprivileged_port_start: only root may bind it. (Read through
 * `cat`: Deno grants /proc/sys only to --allow-all.)
 */
function privilegedPort(): number | undefined {
  const out = new Deno.Command("cat", {
    args: ["/proc/sys/net/ipv4/ip_unprivileged_port_start"],
    stdin: "null",
    stderr: "null",
  }).outputSync();
  const start = out.success ? Number(text.decode(out.stdout)) : 0;
  return start > 80 ? 80 : start > 1 ? start - 1 : undefined;
}
const PRIVILEGED_PORT = privilegedPort();
const needPrivilegedPort: Missing = PRIVILEGED_PORT === undefined
  ? "a privileged port range (net.ipv4.ip_unprivileged_port_start > 1)"
  : undefined;

for (const kind of ARBITER_KINDS) {
  testNeeding(needAll(needKind(kind), needRoot(), needPrivilegedPort), {
    name: `lifecycle (${kind}): a port only root may bind fails a daemon user's start as in C`,
    async fn() {
      // The kernel refuses the bind (EACCES) before it looks whether the port is in use, so
      // the port may be busy or not: the line is NSPR's PR_NO_ACCESS_RIGHTS_ERROR either way.
      const dir = await Deno.makeTempDir({ prefix: `qnet-eacces-${kind}-` });
      try {
        const args = [
          ...["-f", "-s", "off", "-p", String(PRIVILEGED_PORT)],
          ...["-S", `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock`],
        ];
        let argv: string[];
        if (kind === "qnet") {
          prepareUnprivileged(dir);
          argv = unprivilegedQnetdArgv(dir, args, { configFile: `${dir}/none.toml` });
        } else {
          Deno.chownSync(dir, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
          // The same user and environment as ours, with the C binary in place of Deno.
          const asUser = unprivilegedDenoArgv(dir, []);
          argv = [...asUser.slice(0, asUser.indexOf(Deno.execPath())), C_QNETD, ...args];
        }
        const out = await new Deno.Command(argv[0]!, {
          args: argv.slice(1),
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        const lines = logLines(out.stderr);
        assert.equal(out.code, 1, lines.join("\n"));
        assert.deepEqual(lines, ["crit    NSS error (-5966): Access Denied"]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
