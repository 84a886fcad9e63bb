import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { buildRequest, DEFAULT_SOCKET_PATH, main } from "../../cli/qnetd_tool.ts";
import { RecordingIo } from "../../cli/io.ts";
import { type IpcHandler, IpcServer } from "../../ipc/server.ts";
import { qnetdIpcHandlers } from "../../ipc/commands.ts";
import { twoClusters, VECTORS } from "../support/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const vector = (name: string) => Deno.readTextFile(new URL(name, VECTORS));
const USAGE = "usage: corosync-qnetd-tool [-Hhlsv] [-c cluster_name] [-p qnetd_ipc_socket_path]\n";

async function withServer(
  handlers: Map<string, IpcHandler>,
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "qnet_tool_" });
  const path = `${dir}/q.sock`;
  const server = IpcServer.listen({ path, handlers });
  try {
    await body(path);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(args: string[]): Promise<[number, string, string]> {
  const io = new RecordingIo();
  const code = await main(args, io);
  return [code, io.stdout, io.stderr];
}

Deno.test("buildRequest() sends the bytes the C tool sends", () => {
  const cases: [Parameters<typeof buildRequest>, string][] = [
    [["status", { verbose: false }], "status \n"],
    [["status", { verbose: true }], "status verbose \n"],
    [["list", { verbose: false }], "list \n"],
    [["list", { verbose: true }], "list verbose \n"],
    [["list", { verbose: false, cluster: "debian" }], 'list cluster "debian" \n'],
    [["list", { verbose: true, cluster: 'a"b\\c d' }], 'list verbose cluster "a\\"b\\\\c d" \n'],
    [["shutdown", { verbose: false }], "shutdown \n"],
    [["status", { verbose: false, cluster: "x" }], 'status cluster "x" \n'],
    [["list", { verbose: true, json: true }], "json list verbose \n"],
  ];
  for (const [args, expected] of cases) assertEquals(buildRequest(...args), expected);
});

Deno.test("main() prints the recorded outputs from our server", async () => {
  const handlers = qnetdIpcHandlers({ snapshot: () => twoClusters, shutdown: () => {} });
  await withServer(handlers, async (path) => {
    const cases: [string[], string][] = [
      [["-s"], await vector("tool_status.raw.txt")],
      [["-s", "-v"], await vector("tool_status_verbose.raw.txt")],
      [["-l"], await vector("tool_listl.raw.txt")],
      [["-lv"], await vector("tool_listlv.raw.txt")],
      [["-l", "-v", "-c", "beta"], ""],
      [["-l", "-cnosuch"], ""],
    ];
    for (const [args, expected] of cases) {
      assertEquals(await run([...args, "-p", path]), [0, expected, ""], args.join(" "));
    }
    const [code, out] = await run(["-l", "--json", "-c", "debian", `-p${path}`]);
    assertEquals(code, 0);
    assertEquals(JSON.parse(out).clusters.map((c: { name: string }) => c.name), ["debian"]);
  });
});

Deno.test("main() handles usage errors like getopt and the C tool", async () => {
  assertEquals(await run([]), [1, USAGE, ""]);
  assertEquals(await run(["-h", "-s"]), [1, USAGE, ""]);
  assertEquals(await run(["-v"]), [1, USAGE, ""]);
  assertEquals(await run(["-x"]), [1, USAGE, "corosync-qnetd-tool: invalid option -- 'x'\n"]);
  assertEquals(await run(["-s", "-c"]), [
    1,
    USAGE,
    "corosync-qnetd-tool: option requires an argument -- 'c'\n",
  ]);
  const [code, out] = await run(["--help"]);
  assertEquals([code, out.startsWith(USAGE), out.includes("--json")], [0, true, true]);
});

Deno.test("main() reports connect failures with strerror and exit 3", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet_tool_" });
  const prefix = "corosync-qnetd-tool: Can't connect to qnetd socket (is QNetd running?): ";
  assertEquals(await run(["-s", "-p", `${dir}/none.sock`]), [
    3,
    "",
    `${prefix}No such file or directory\n`,
  ]);
  assertEquals(await run(["-s", "-p", "x".repeat(108)]), [3, "", `${prefix}File name too long\n`]);
  assertEquals(await run(["-s", "-p", ""]), [3, "", `${prefix}File name too long\n`]);
  await Deno.remove(dir, { recursive: true });
  assertEquals(DEFAULT_SOCKET_PATH, "/var/run/corosync-qnetd/corosync-qnetd.sock");
});

Deno.test("main() maps the reply's status line to exit codes", async () => {
  const stream = (text: string): IpcHandler => async (request) => {
    await request.write(enc(text));
    return undefined;
  };
  const handlers = new Map<string, IpcHandler>([
    ["status", stream("oK\r\nbody\n")],
    ["list", stream("ErRoR\nbad thing\n")],
    ["shutdown", stream("Bogus\nrest\n")],
  ]);
  await withServer(handlers, async (path) => {
    assertEquals(await run(["-s", "-p", path]), [0, "body\n", ""]);
    assertEquals(await run(["-l", "-p", path]), [4, "", "Error: bad thing\n"]);
    assertEquals(await run(["-H", "-p", path]), [
      3,
      "",
      "corosync-qnetd-tool: Unknown status line returned by IPC server\n",
    ]);
  });
  await withServer(new Map([["list", stream("no newline")]]), async (path) => {
    assertEquals(await run(["-l", "-p", path]), [0, "", ""]);
    assertEquals(await run(["-l", "-c", "x".repeat(4079), "-p", path]), [
      2,
      "",
      "corosync-qnetd-tool: Can't store command\n",
    ]);
  });
});
