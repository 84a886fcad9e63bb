/**
 * Against the real binaries: the C corosync-qnetd-tool talking to our IPC server, our tool
 * talking to the C corosync-qnetd, and the same raw (also malformed) requests sent to both
 * daemons. Skipped when the Debian binaries are not installed (a failure under CI=true). Ports 16400..16499 only.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { main } from "../../cli/qnetd_tool.ts";
import { RecordingIo } from "../../cli/io.ts";
import { IpcServer } from "../../ipc/server.ts";
import { qnetdIpcHandlers } from "../../ipc/commands.ts";
import type { ServerSnapshot } from "../../core/arbiter/snapshot.ts";
import {
  emptyServer,
  exchange,
  needAll,
  needProgram,
  testNeeding,
  twoClusters,
  VECTORS,
} from "../support/mod.ts";

const REAL_TOOL = "/usr/bin/corosync-qnetd-tool";
const REAL_QNETD = "/usr/bin/corosync-qnetd";
const NEED = needAll(
  needProgram(REAL_TOOL, "corosync-qnetd"),
  needProgram(REAL_QNETD, "corosync-qnetd"),
);

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const vector = (name: string) => Deno.readTextFile(new URL(name, VECTORS));

async function realTool(args: string[]): Promise<[number, string, string]> {
  const out = await new Deno.Command(REAL_TOOL, { args, stdin: "null" }).output();
  return [out.code, dec(out.stdout), dec(out.stderr)];
}

async function ourTool(args: string[]): Promise<[number, string, string]> {
  const io = new RecordingIo();
  const code = await main(args, io);
  return [code, io.stdout, io.stderr];
}

/** The reply to a raw request, as text. */
async function exchangeText(path: string, request: Uint8Array): Promise<string> {
  return dec(await exchange(path, request));
}

/**
 * Connects to a unix socket, retrying (bounded) while its listen backlog is full: a busy
 * machine may leave the daemon behind on accept(), which makes connect() fail with EAGAIN.
 */
async function connectUnix(path: string): Promise<Deno.UnixConn> {
  for (let attempt = 0;; attempt++) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (error) {
      if (!(error instanceof Deno.errors.WouldBlock) || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Opens `count` connections at once, then sends `status` on each: which got an answer. */
async function concurrentStatus(path: string, count: number): Promise<boolean[]> {
  const conns: Deno.UnixConn[] = [];
  for (let i = 0; i < count; i++) conns.push(await connectUnix(path));
  // One round trip on a fresh connection, so that the server has accepted all of them.
  await exchangeText(path, enc("\n"));
  const answered: boolean[] = [];
  for (const conn of conns) {
    await conn.write(enc("status\n")).catch(() => 0);
    const buf = new Uint8Array(3);
    const n = await conn.read(buf).catch(() => null);
    answered.push(n !== null && n > 0);
    conn.close();
  }
  return answered;
}

async function withOurServer(
  snapshot: ServerSnapshot,
  body: (path: string, shutdowns: () => number) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "qnet_interop_" });
  const path = `${dir}/q.sock`;
  let shutdowns = 0;
  const server = IpcServer.listen({
    path,
    handlers: qnetdIpcHandlers({ snapshot: () => snapshot, shutdown: () => shutdowns++ }),
  });
  try {
    await body(path, () => shutdowns);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts the C daemon (TLS off) on `port`; waits, bounded, for its socket to appear. */
async function withRealDaemon(
  port: number,
  body: (path: string, daemon: Deno.ChildProcess) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "qnet_interop_" });
  const path = `${dir}/q.sock`;
  const daemon = new Deno.Command(REAL_QNETD, {
    args: [
      "-f",
      "-s",
      "off",
      "-p",
      `${port}`,
      "-S",
      `lock_file=${dir}/q.pid,local_socket_file=${path}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await Deno.lstat(path);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await body(path, daemon);
  } finally {
    try {
      daemon.kill("SIGTERM");
    } catch {
      // already gone (shutdown test)
    }
    await daemon.status;
    await Deno.remove(dir, { recursive: true });
  }
}

testNeeding(NEED, {
  name: "corosync-qnetd-tool (C) prints the recorded bytes from our IPC server",
  fn: async () => {
    await withOurServer(twoClusters, async (path, shutdowns) => {
      const cases: [string[], number, string, string][] = [
        [["-s"], 0, await vector("tool_status.raw.txt"), ""],
        [["-s", "-v"], 0, await vector("tool_status_verbose.raw.txt"), ""],
        [["-l"], 0, await vector("tool_listl.raw.txt"), ""],
        [["-l", "-v"], 0, await vector("tool_listlv.raw.txt"), ""],
        [
          ["-l", "-c", "debian"],
          0,
          (await vector("tool_listl.raw.txt")).split('Cluster "gamma"')[0]!,
          "",
        ],
        [["-l", "-v", "-c", "beta"], 0, "", ""],
        [["-l", "-c", "nosuch"], 0, "", ""],
        [["-H"], 0, "", ""],
      ];
      for (const [args, code, out, err] of cases) {
        assertEquals(await realTool([...args, "-p", path]), [code, out, err], args.join(" "));
      }
      assertEquals(shutdowns(), 1);
    });
  },
});

testNeeding(NEED, {
  name: "main() matches corosync-qnetd-tool (C) against corosync-qnetd (C)",
  fn: async () => {
    await withRealDaemon(16461, async (path, daemon) => {
      const cases = [["-s"], ["-s", "-v"], ["-l"], ["-l", "-v"], ["-l", "-c", "x y"], [
        "-s",
        "-c",
        "x",
      ]];
      for (const args of cases) {
        const full = [...args, "-p", path];
        assertEquals(await ourTool(full), await realTool(full), args.join(" "));
      }
      // Our JSON request is refused by the C daemon, and said so.
      assertEquals(await ourTool(["-s", "--json", "-p", path]), [
        4,
        "",
        "Error: Unknown command 'json'\n",
      ]);
      assertEquals(await ourTool(["-H", "-p", path]), [0, "", ""]);
      assertEquals((await daemon.status).code, 0);
    });
  },
});

testNeeding(NEED, {
  name: "IpcServer answers bad input exactly like corosync-qnetd (C)",
  fn: async () => {
    const port = 16462;
    const requests = [
      "status \n",
      "status verbose \n",
      "STATUS VeRbOsE\n",
      "list \n",
      "\n",
      "   \n",
      "\0status\n",
      "status\0 verbose\n",
      "stat\0us\n",
      "status\rverbose\n",
      '"status" "verbose"\n',
      'st"at"us\n',
      "\\status\n",
      'list "" verbose\n',
      "list cluster\n",
      'list verbose cluster "a\\"b" junk\n',
      "foo bar\n",
      "shutdownx\n",
      '"unterminated\n',
      '"a\\qb" x\n',
      "x".repeat(4095) + "\n",
      "x".repeat(4096) + "\n",
      "y".repeat(300) + "\n" + "z".repeat(5000),
      "json status\n",
    ].map(enc);
    requests.push(Uint8Array.of(0x80, 0xff, 0x0a));
    const real: string[] = [];
    let realConcurrent: boolean[] = [];
    await withRealDaemon(port, async (path) => {
      for (const request of requests) real.push(await exchangeText(path, request));
      realConcurrent = await concurrentStatus(path, 12);
    });
    await withOurServer(emptyServer(port), async (path) => {
      for (const [i, request] of requests.entries()) {
        const ours = await exchangeText(path, request);
        // Our daemon knows `json`; compare everything else byte for byte.
        if (dec(request) === "json status\n") assertEquals(ours.startsWith("OK\n{"), true);
        else assertEquals(ours, real[i], JSON.stringify(dec(request).slice(0, 40)));
      }
      assertEquals(await concurrentStatus(path, 12), realConcurrent);
    });
    assertEquals(realConcurrent.filter((answered) => answered).length, 10);
  },
});
