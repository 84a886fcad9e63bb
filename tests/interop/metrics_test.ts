/**
 * The metrics against real corosync + corosync-qdevice in namespaces: our arbiter's IPC
 * `metrics` command (what `qnetd-tool --metrics` prints) shows both nodes of a two-node
 * ffsplit cluster holding ACK, then, once corosync's link is cut, node 1 ACK and node 2 NACK,
 * and the exposition passes the real `promtool check metrics` throughout.
 */
import assert from "node:assert/strict";
import { ipcRequest } from "../../ipc/client.ts";
import {
  arbiterFromEnv,
  arbiterSocket,
  Cluster,
  expectNodes,
  type Exposition,
  interopSkipReason,
  needAll,
  needProgram,
  parseExposition,
  promtoolCheckMetrics,
  samplesOf,
  testNeeding,
  waitUntil,
} from "../support/mod.ts";

const arbiter = arbiterFromEnv();
const ours = arbiter.keyFormat === "pem";
const skip = needAll(
  await interopSkipReason(),
  needProgram("promtool", "prometheus"),
  ours ? undefined : "qnet's arbiter (QNET_INTEROP_ARBITER names one without metrics)",
);

/** How many nodes of cluster `qnt` hold ACK and NACK, e.g. "ack=1 nack=1". */
function votes(e: Exposition): string {
  const count = (vote: string) =>
    samplesOf(e, "qnetd_cluster_nodes_by_vote", { cluster: "qnt", vote })[0]?.value ?? 0;
  return `ack=${count("ack")} nack=${count("nack")}`;
}

async function metricsOf(socket: string): Promise<{ text: string; exposition: Exposition }> {
  const reply = new TextDecoder().decode(
    await ipcRequest(socket, new TextEncoder().encode("metrics\n")),
  );
  if (!reply.startsWith("OK\n")) throw new Error(`IPC metrics: ${reply}`);
  const text = reply.slice(3);
  return { text, exposition: parseExposition(text) };
}

/** Polls the metrics until the cluster's votes read `wanted` (bounded). */
async function waitForVotes(socket: string, wanted: string): Promise<string> {
  return await waitUntil(`metrics showing ${wanted}`, async () => {
    const { text, exposition } = await metricsOf(socket);
    const seen = votes(exposition);
    return { done: seen === wanted, value: text, seen };
  }, { timeoutMs: 30_000, intervalMs: 300, stablePolls: 2 });
}

testNeeding(skip, {
  name: `metrics: a split of real qdevices shows ACK and NACK in the exposition (${arbiter.name})`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16340,
    });
    const socket = arbiterSocket(cluster.arbiter.dir);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
    ]));
    const whole = parseExposition(await waitForVotes(socket, "ack=2 nack=0"));
    assert.deepEqual(
      samplesOf(whole, "qnetd_node_connected", { cluster: "qnt" }).map((s) => s.labels.node_id),
      ["1", "2"],
    );
    assert.deepEqual(samplesOf(whole, "qnetd_cluster_info", { cluster: "qnt" })[0]?.labels, {
      cluster: "qnt",
      algorithm: "ffsplit",
      tie_breaker: "lowest",
    });
    assert.ok(
      (samplesOf(whole, "qnetd_messages_received_total", { type: "init" })[0]?.value ?? 0) >= 2,
      "both qdevices' INIT counted",
    );

    await cluster.cutLink(2);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1] }],
      [2, { quorate: false, qdeviceVote: false, members: [2] }],
    ]));
    const splitText = await waitForVotes(socket, "ack=1 nack=1");
    const split = parseExposition(splitText);
    const decided = samplesOf(split, "qnetd_cluster_last_decision_timestamp_seconds", {
      cluster: "qnt",
    })[0]?.value ?? 0;
    assert.ok(Math.abs(decided - Date.now() / 1000) < 120, `last decision at ${decided}`);
    const check = await promtoolCheckMetrics(splitText);
    assert.equal(check.code, 0, check.output);

    await cluster.restoreLink(2);
    await waitForVotes(socket, "ack=2 nack=0");
  },
});
