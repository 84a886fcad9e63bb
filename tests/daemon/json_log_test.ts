/**
 * `-S log_format=json` on the running daemon, under exactly the permission set
 * cli/permission_sets.ts computes for its command line (so the JOURNAL_STREAM grant is
 * what makes the prefix appear): every stderr line is one JSON object, the lines about a
 * client carry its cluster, node id and address, an error reply its error code; with
 * JOURNAL_STREAM naming stderr (as systemd sets it) every line starts with `<N>`. Ports 44150-44199 (branch "history").
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { encodeAskForVote } from "../../core/protocol/encode_client.ts";
import { freePort, joinFfsplit, QNET_RUN_ARGS } from "../support/mod.ts";

interface Daemon extends AsyncDisposable {
  stderr(): string;
}

/**
 * Starts `qnet qnetd` sandboxed by its computed permission set; `journal`: with
 * JOURNAL_STREAM naming its stderr (dev:ino, as systemd sets it), set by a shell that reads
 * them off its own stderr, the same pipe, and then runs the daemon in its place.
 */
function start(port: number, journal = false): Daemon {
  const dir = Deno.makeTempDirSync({ prefix: "hist-jsonlog-" });
  const configFile = `${dir}/absent.toml`;
  const args = [
    "-f",
    "-d",
    "-s",
    "off",
    "-p",
    String(port),
    "-S",
    `lock_file=${dir}/q.pid,local_socket_file=${dir}/q.sock,log_format=json`,
  ];
  // As the binary runs: the launcher computes the worker's set from this command line.
  const argv = [Deno.execPath(), ...QNET_RUN_ARGS, "qnetd", ...args];
  const shell = 'JOURNAL_STREAM=$(/usr/bin/stat -L -c %d:%i /proc/self/fd/2) exec "$@"';
  const [command, ...rest] = journal ? ["/bin/bash", "-c", shell, "bash", ...argv] : argv;
  const child = new Deno.Command(command!, {
    args: rest,
    env: { QNETD_CONFIG_FILE: configFile },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  return {
    stderr: () => log,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited already.
      }
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(kill);
      await pump;
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** Polls (bounded) until the daemon's log holds `text`. */
async function waitForLog(daemon: Daemon, text: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!daemon.stderr().includes(text)) {
    if (performance.now() > end) throw new Error(`"${text}" not logged:\n${daemon.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Connects until the daemon listens (bounded). */
async function joinWhenUp(port: number, cluster: string) {
  const end = performance.now() + 15_000;
  for (;;) {
    try {
      return await joinFfsplit(port, cluster, 2, [1, 2]);
    } catch (error) {
      if (performance.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

Deno.test("log_format=json: one JSON object per line, with the client's fields", async () => {
  const port = freePort(44150, 44199);
  await using daemon = start(port);
  const client = await joinWhenUp(port, "json-cluster");
  try {
    // ffsplit refuses ASK_FOR_VOTE: error 14, logged as an algorithm error.
    await client.conn.write(encodeAskForVote({ seqNumber: client.nextSeq() }));
    await waitForLog(daemon, "Algorithm returned error code");
  } finally {
    client[Symbol.dispose]();
  }
  // A line of the network edge (net/client_connection.ts) names the client too.
  await waitForLog(daemon, '"message":"Client closed connection"');
  const lines = daemon.stderr().trimEnd().split("\n");
  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const r of records) {
    assert(typeof r.time === "string" && !Number.isNaN(Date.parse(r.time)), JSON.stringify(r));
    assert(typeof r.priority === "number" && typeof r.message === "string");
  }
  assert(records.some((r) => r.message === "QNetd ready to provide service"));
  const error = records.find((r) =>
    r.message === "Algorithm returned error code. Sending error reply."
  )!;
  assertEquals(
    [error.priority, error.level, error.cluster, error.node_id, error.error_code],
    [3, "error", "json-cluster", 2, 14],
  );
  assert(
    /^(::ffff:)?127\.0\.0\.1:\d+$/.test(String(error.client_address)),
    String(error.client_address),
  );
  const closed = records.find((r) => r.message === "Client closed connection")!;
  assertEquals(closed.client_address, error.client_address);
});

Deno.test("log_format=json with JOURNAL_STREAM: each line has the <N> priority prefix", async () => {
  const port = freePort(44150, 44199);
  await using daemon = start(port, true);
  const client = await joinWhenUp(port, "journal");
  try {
    await client.conn.write(encodeAskForVote({ seqNumber: client.nextSeq() }));
    await waitForLog(daemon, "Algorithm returned error code");
  } finally {
    client[Symbol.dispose]();
  }
  const lines = daemon.stderr().trimEnd().split("\n");
  for (const line of lines) {
    const match = /^<([0-7])>(\{.*\})$/.exec(line);
    assert(match !== null, `no <N> prefix: ${line}`);
    assertEquals(JSON.parse(match[2]!).priority, Number(match[1]));
  }
  assert(lines.some((l) => l.startsWith("<3>") && l.includes('"error_code":14')));
  assert(lines.some((l) => l.startsWith("<7>")), "debug lines as <7>");
});
