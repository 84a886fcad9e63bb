/**
 * `qnetd-tool --events` against our running daemon: the history of a 50:50 split, oldest
 * first, as text and JSON lines, filtered by cluster, and `--follow` streaming what
 * happens next. Ports 44100-44119 (branch "history").
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { runEvents } from "../../cli/qnetd_tool_events.ts";
import { main as qnetdTool } from "../../cli/qnetd_tool.ts";
import type { CliIo } from "../../cli/io.ts";
import { freePort, joinFfsplit, type QdeviceClient, settle, startArbiter } from "../support/mod.ts";
import { encodeMembershipNodeList } from "../../core/protocol/encode_client.ts";
import { MsgType } from "../../core/protocol/constants.ts";

function recordingIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (text) => (out += text),
    err: (text) => (err += text),
    stdout: () => out,
    stderr: () => err,
  };
}

/** Sends a membership list of `members` in ring (first member, 2). */
async function split(c: QdeviceClient, members: readonly number[]): Promise<void> {
  await c.request(
    encodeMembershipNodeList({
      seqNumber: c.nextSeq(),
      ringId: { nodeId: members[0]!, seq: 2n },
      nodeIds: members,
    }),
    MsgType.NodeListReply,
  );
}

Deno.test("qnetd-tool --events shows a split's NACK with its reason, as text and JSON", async () => {
  const port = freePort(44100, 44119);
  await using daemon = await startArbiter("qnet", { port, args: ["-s", "off"] });
  const config = [1, 2, 3, 4];
  const clients: QdeviceClient[] = [];
  try {
    for (const id of config) clients.push(await joinFfsplit(port, "alpha", id, config));
    clients.push(await joinFfsplit(port, "beta\nfake line", 1, [1]));
    await settle(clients);
    await split(clients[2]!, [3, 4]);
    await split(clients[3]!, [3, 4]);
    await split(clients[0]!, [1, 2]);
    await split(clients[1]!, [1, 2]);
    await settle(clients);
    assertEquals(clients.slice(0, 4).map((c) => c.lastAckNack), ["ACK", "ACK", "NACK", "NACK"]);

    const io = recordingIo();
    const code = await qnetdTool(["--events", "-c", "alpha", "-p", daemon.socketPath], io);
    assertEquals([code, io.stderr()], [0, ""]);
    const lines = io.stdout().trimEnd().split("\n");
    assert(lines.every((l) => / alpha node [1-4] /.test(l)), io.stdout());
    assert(/ alpha node 1 connected from (::ffff:)?127\.0\.0\.1:/.test(lines[0]!), lines[0]);
    const nack = lines.findLast((l) => l.includes("node 3 NACK (vote info)"));
    assert(nack !== undefined, io.stdout());
    assert(
      nack.endsWith(
        ": tie: the partition with node 1 (lowest node id) wins (partition {1,2}; 2 of 4 nodes each, a 50:50 split)",
      ),
      nack,
    );

    const json = recordingIo();
    await qnetdTool(["--events", "--json", "-p", daemon.socketPath], json);
    const events = json.stdout().trimEnd().split("\n").map((l) => JSON.parse(l));
    const ids = events.map((e) => e.id as number);
    assertEquals(ids, [...ids].sort((a, b) => a - b), "oldest first");
    assert(events.some((e) => e.cluster === "beta\nfake line"), "the name is data");
    const lastNack = events.findLast((e) => e.vote === "nack");
    assertEquals(lastNack.kind, "vote");
    assert(lastNack.reason.startsWith("tie: the partition with node 1"), lastNack.reason);

    const all = recordingIo();
    await runEvents({ socketPath: daemon.socketPath, json: false, follow: false }, all);
    assert(all.stdout().includes(" beta\\x0afake line node 1 connected"), all.stdout());
    assert(!all.stdout().includes("\nfake line"), "a cluster name cannot start a line");
  } finally {
    for (const c of clients) c[Symbol.dispose]();
  }
});

Deno.test("qnetd-tool --follow needs --events, --json needs an operation that has it", async () => {
  const io = recordingIo();
  assertEquals(await qnetdTool(["-s", "--follow"], io), 1);
  assertEquals(io.stderr(), "corosync-qnetd-tool: --follow needs --events\n");
  const io2 = recordingIo();
  assertEquals(await qnetdTool(["-H", "--json"], io2), 1);
  assertEquals(io2.stderr(), "corosync-qnetd-tool: --json needs -s, -l or --events\n");
});

Deno.test("qnetd-tool --events --follow streams new events until the client stops", async () => {
  const port = freePort(44100, 44119);
  await using daemon = await startArbiter("qnet", { port, args: ["-s", "off"] });
  const first = await joinFfsplit(port, "gamma", 1, [1, 2]);
  let out = "";
  let seen: () => void = () => {};
  const sawDisconnect = new Promise<void>((resolve) => (seen = resolve));
  const io: CliIo = {
    out(text) {
      out += text;
      if (out.includes("node 2 disconnected")) seen();
    },
    err(text) {
      out += `ERR ${text}`;
    },
  };
  const running = runEvents(
    { socketPath: daemon.socketPath, cluster: "gamma", json: false, follow: true },
    io,
  );
  try {
    const second = await joinFfsplit(port, "gamma", 2, [1, 2]);
    await settle([first, second]);
    second[Symbol.dispose]();
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no disconnect event in 10 s:\n${out}`)), 10_000)
    );
    await Promise.race([sawDisconnect, timeout]);
  } finally {
    first[Symbol.dispose]();
    // Stopping the daemon ends the stream: the follower returns.
    await daemon.stop();
  }
  assertEquals(await running, 0);
  const lines = out.trimEnd().split("\n");
  assert(lines[0]!.includes("gamma node 1 connected"), out);
  assert(lines.some((l) => l.includes("gamma node 2 connected")), out);
  assert(lines.some((l) => /gamma node 2 disconnected: connection closed/.test(l)), out);
});
