/**
 * Two-node ffsplit clusters: real corosync + corosync-qdevice in namespaces against the arbiter
 * chosen by `QNET_INTEROP_ARBITER` (default: ours; `c` for the real corosync-qnetd).
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import {
  arbiterFromEnv,
  castsQdeviceVote,
  Cluster,
  effectiveVote,
  expectNodes,
  interopSkipReason,
  interopTest,
} from "../support/mod.ts";

const arbiter = arbiterFromEnv();
const skip = await interopSkipReason();

const ALL_VOTING = expectNodes([
  [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
  [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
]);

interopTest(
  skip,
  `Cluster.start() gives a two-node ffsplit cluster quorum with the qdevice vote (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16300,
    });
    const statuses = await cluster.waitForQuorum(ALL_VOTING);
    for (const status of statuses.values()) {
      assert.equal(status.expectedVotes, 3);
      assert.equal(status.totalVotes, 3);
      assert.ok(status.flags.includes("Qdevice"));
      assert.deepEqual(status.members.map((m) => m.nodeId).sort(), [1, 2]);
    }
    const clients = await cluster.waitForArbiterClients(
      [1, 2],
      (c) => effectiveVote(c) === Vote.Ack,
    );
    for (const client of clients) {
      assert.equal(client.cluster, "qnt");
      assert.deepEqual(client.configured, [1, 2]);
      assert.deepEqual(client.membership, [1, 2]);
    }
    for (const node of cluster.nodes.values()) {
      const qdevice = await node.qdeviceStatus();
      assert.equal(qdevice?.state, "Connected");
      assert.equal(qdevice?.nodeId, node.nodeId);
    }
  },
);

interopTest(
  skip,
  `Cluster.cutLink() between two ffsplit nodes leaves only the lowest node id quorate (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16301,
    });
    await cluster.waitForQuorum(ALL_VOTING);
    // Both qdevices still reach the arbiter; only corosync's network is split.
    await cluster.cutLink(2);
    const split = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1] }],
      [2, { quorate: false, qdeviceVote: false, members: [2] }],
    ]));
    assert.equal(split.get(1)?.totalVotes, 2);
    assert.equal(split.get(2)?.totalVotes, 1);
    const clients = await cluster.waitForArbiterClients([1, 2], () => true);
    assert.equal(effectiveVote(clients.find((c) => c.nodeId === 1)!), Vote.Ack);
    assert.equal(effectiveVote(clients.find((c) => c.nodeId === 2)!), Vote.Nack);

    await cluster.restoreLink(2);
    await cluster.waitForQuorum(ALL_VOTING);
  },
);

interopTest(
  skip,
  `ClusterNode.kill9() of one ffsplit node leaves the other quorate (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16302,
    });
    await cluster.waitForQuorum(ALL_VOTING);
    // Kill the tie-breaker node: the survivor (node 2) must win with the qdevice vote.
    await cluster.node(1).kill9();
    const after = await cluster.waitForQuorum(
      expectNodes([[2, { quorate: true, qdeviceVote: true, members: [2] }]]),
    );
    assert.equal(after.get(2)?.totalVotes, 2);
    await cluster.waitForArbiterClients([2], (c) => effectiveVote(c) === Vote.Ack);

    // The crashed node boots again and rejoins with the qdevice vote.
    await cluster.node(1).start();
    await cluster.waitForQuorum(ALL_VOTING);
    await cluster.waitForArbiterClients([1, 2], (c) => effectiveVote(c) === Vote.Ack);
  },
);

interopTest(
  skip,
  `Arbiter kill9() and start() again: every qdevice reconnects and votes (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16303,
    });
    await cluster.waitForQuorum(ALL_VOTING);
    await cluster.arbiter.kill9();
    // Without the arbiter the two nodes keep quorum on their own votes, but lose the qdevice vote.
    const alone = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: false }],
      [2, { quorate: true, qdeviceVote: false }],
    ]));
    for (const status of alone.values()) assert.equal(status.totalVotes, 2);

    await cluster.arbiter.start();
    await cluster.waitForArbiterClients([1, 2], (c) => effectiveVote(c) === Vote.Ack);
    const back = await cluster.waitForQuorum(ALL_VOTING);
    for (const status of back.values()) {
      assert.equal(status.totalVotes, 3);
      assert.ok(castsQdeviceVote(status));
    }
  },
);
