/**
 * The decision history against real corosync + corosync-qdevice: a two-node ffsplit cluster
 * is split, and `qnet qnetd-tool --events` shows node 2's NACK with the reason the
 * algorithm gave (the tie-breaker), after the joins, lists and ACKs. Only qnet's daemon
 * serves `events`: with `QNET_INTEROP_ARBITER=c` the test checks that the C daemon refuses
 * the command instead. Port 44200 (branch "history").
 */
import assert from "node:assert/strict";
import { main as qnetdTool } from "../../cli/qnetd_tool.ts";
import type { CliIo } from "../../cli/io.ts";
import { Vote } from "../../core/protocol/constants.ts";
import { arbiterFromEnv, arbiterSocket } from "./support/arbiter.ts";
import { Cluster, expectNodes } from "./support/cluster.ts";
import { interopSkipReason, interopTest } from "./support/preflight.ts";
import { effectiveVote } from "./support/status_text.ts";
import { waitUntil } from "./support/wait.ts";

const arbiter = arbiterFromEnv();
const skip = await interopSkipReason();
const ours = arbiter.name.startsWith("qnet");

interface EventJson {
  id: number;
  cluster: string;
  kind: string;
  nodeId?: number;
  vote?: string;
  reason?: string;
  text: string;
}

async function events(socketPath: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t) };
  const code = await qnetdTool(["--events", "--json", "-c", "qnt", "-p", socketPath], io);
  return { code, out, err };
}

interopTest(
  skip,
  `qnetd-tool --events shows a split's NACK and its reason (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 44200,
    });
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
    ]));
    const socket = arbiterSocket(cluster.arbiter.dir);
    if (!ours) {
      const refused = await events(socket);
      assert.equal(refused.code, 4, "corosync-qnetd answers Error to 'events'");
      return;
    }
    await cluster.cutLink(2);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1] }],
      [2, { quorate: false, qdeviceVote: false, members: [2] }],
    ]));
    const clients = await cluster.waitForArbiterClients([1, 2], () => true);
    assert.equal(effectiveVote(clients.find((c) => c.nodeId === 2)!), Vote.Nack);

    const history = await waitUntil("the NACK of node 2 in --events", async () => {
      const r = await events(socket);
      assert.equal(r.code, 0, r.err);
      const list = r.out.trimEnd().split("\n").map((line) => JSON.parse(line) as EventJson);
      const done = list.some((e) => e.nodeId === 2 && e.vote === "nack");
      return { done, value: list, seen: `${list.length} events` };
    }, { timeoutMs: 10_000, intervalMs: 200 });

    assert.ok(history.every((e) => e.cluster === "qnt"));
    const ids = history.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "oldest first");
    for (const node of [1, 2]) {
      assert.ok(
        history.some((e) => e.nodeId === node && e.kind === "connected"),
        `node ${node} joined`,
      );
      assert.ok(history.some((e) => e.nodeId === node && e.kind === "config-list"));
      assert.ok(history.some((e) => e.nodeId === node && e.kind === "membership-list"));
    }
    const split = history.filter((e) => e.kind === "membership-list" && e.nodeId === 2).at(-1);
    assert.match(split!.text, /nodes \{2\}/);
    const nack = history.findLast((e) => e.nodeId === 2 && e.vote === "nack")!;
    assert.equal(nack.kind, "vote");
    assert.match(
      nack.reason ?? "",
      /^tie: the partition with node 1 \(lowest node id\) wins \(partition \{1\}; 1 of 2 nodes each, a 50:50 split\)$/,
    );
    const ack = history.findLast((e) => e.nodeId === 1 && e.vote === "ack")!;
    assert.equal(ack.reason, nack.reason);
    assert.ok(ack.id > nack.id, "ffsplit sends the NACK round before the ACK round");
  },
);
