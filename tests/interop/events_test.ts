/**
 * The decision history against real corosync + corosync-qdevice: a two-node ffsplit cluster
 * is split, and `qnet qnetd-tool --events` shows node 2's NACK with the reason the
 * algorithm gave (the tie-breaker), after the joins, lists and ACKs. Only qnet's daemon
 * serves `events`: with `QNET_INTEROP_ARBITER=c` the test checks that the C daemon refuses
 * the command instead. And `-S log_format=json` with real clients: every line of the
 * daemon's log is JSON, the lines about the cluster's nodes name them. Ports 44200-44201
 * (branch "history").
 */
import assert from "node:assert/strict";
import { main as qnetdTool } from "../../cli/qnetd_tool.ts";
import type { CliIo } from "../../cli/io.ts";
import { Vote } from "../../core/protocol/constants.ts";
import {
  arbiterFromEnv,
  arbiterLog,
  arbiterSocket,
  Cluster,
  commandArbiter,
  effectiveVote,
  expectNodes,
  interopSkipReason,
  interopTest,
  qnetQnetdUnprivileged,
  UNPRIVILEGED_UID,
  waitUntil,
} from "../support/mod.ts";

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

interopTest(
  ours ? skip : "qnet's daemon (QNET_INTEROP_ARBITER names one without --events)",
  `qnetd-tool --events shows an lms split's NACK and its tie-breaker reason (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "lms",
      tieBreaker: "highest",
      port: 44202,
    });
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
    ]));
    await cluster.cutLink(1);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: false, qdeviceVote: false, members: [1] }],
      [2, { quorate: true, qdeviceVote: true, members: [2] }],
    ]));
    const socket = arbiterSocket(cluster.arbiter.dir);
    const history = await waitUntil("the NACK of node 1 in --events", async () => {
      const r = await events(socket);
      assert.equal(r.code, 0, r.err);
      const list = r.out.trimEnd().split("\n").map((line) => JSON.parse(line) as EventJson);
      const done = list.some((e) => e.nodeId === 1 && e.vote === "nack");
      return { done, value: list, seen: `${list.length} events` };
    }, { timeoutMs: 15_000, intervalMs: 200 });
    const nack = history.findLast((e) => e.nodeId === 1 && e.vote === "nack")!;
    assert.equal(nack.reason, "tie: the partition with node 2 (highest node id) wins");
  },
);

interopTest(
  skip,
  "log_format=json: the sandboxed daemon's log is JSON lines naming the real qdevices",
  async () => {
    const jsonArbiter = commandArbiter(
      "qnet qnetd as uid 65534, log_format=json",
      (args, dir, tls) => qnetQnetdUnprivileged([...args, "-S", "log_format=json"], dir, tls),
      ["/usr/bin/corosync-qnetd-tool"],
      "pem",
      UNPRIVILEGED_UID,
    );
    await using cluster = await Cluster.start({
      arbiter: jsonArbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 44201,
    });
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
    ]));
    await cluster.waitForArbiterClients([1, 2], (c) => effectiveVote(c) === Vote.Ack);
    const lines = Deno.readTextFileSync(arbiterLog(cluster.arbiter.dir)).trimEnd().split("\n");
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`Not a JSON line: ${line}`);
      }
    });
    assert.ok(records.every((r) => typeof r.time === "string" && typeof r.priority === "number"));
    for (const node of [1, 2]) {
      const about = records.filter((r) => r.cluster === "qnt" && r.node_id === node);
      assert.ok(about.length > 0, `no line names node ${node}`);
      assert.ok(about.every((r) => typeof r.client_address === "string"));
    }
  },
);
