/**
 * lms (last man standing) clusters: real corosync + corosync-qdevice in namespaces against the
 * arbiter chosen by `QNET_INTEROP_ARBITER` (default: ours; `c` for the real corosync-qnetd).
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import {
  arbiterFromEnv,
  Cluster,
  effectiveVote,
  expectNodes,
  interopSkipReason,
  interopTest,
} from "../support/mod.ts";

const arbiter = arbiterFromEnv();
const skip = await interopSkipReason();

interopTest(
  skip,
  `Cluster.cutLink() between two lms nodes with tie_breaker highest leaves node 2 quorate (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "lms",
      tieBreaker: "highest",
      port: 16310,
    });
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
    ]));
    await cluster.cutLink(1);
    const split = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: false, qdeviceVote: false, members: [1] }],
      [2, { quorate: true, qdeviceVote: true, members: [2] }],
    ]));
    // Two nodes: votequorum's default qdevice votes is nodes - 1 = 1.
    assert.equal(split.get(2)?.expectedVotes, 3);
    const clients = await cluster.waitForArbiterClients([1, 2], () => true);
    assert.equal(effectiveVote(clients.find((c) => c.nodeId === 1)!), Vote.Nack);
    assert.equal(effectiveVote(clients.find((c) => c.nodeId === 2)!), Vote.Ack);
  },
);

interopTest(
  skip,
  `Cluster.cutLink() of two of three lms nodes leaves the lowest node id standing (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 3,
      algorithm: "lms",
      port: 16311,
    });
    const all = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [3, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
    ]));
    // Three nodes + qdevice with nodes - 1 = 2 votes.
    assert.equal(all.get(1)?.expectedVotes, 5);
    assert.equal(all.get(1)?.totalVotes, 5);

    // Three partitions of one node each: equal sizes, the tie-breaker (lowest) picks node 1,
    // whose own vote plus the qdevice's 2 reach the quorum of 3 on its own.
    await cluster.cutLink(2);
    await cluster.cutLink(3);
    const standing = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1] }],
      [2, { quorate: false, qdeviceVote: false, members: [2] }],
      [3, { quorate: false, qdeviceVote: false, members: [3] }],
    ]));
    assert.equal(standing.get(1)?.totalVotes, 3);
    assert.equal(standing.get(1)?.quorum, 3);
    await cluster.waitForArbiterClients(
      [1, 2, 3],
      (c) => effectiveVote(c) === (c.nodeId === 1 ? Vote.Ack : Vote.Nack),
    );

    await cluster.restoreLink(2);
    await cluster.restoreLink(3);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [3, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
    ]));
  },
);
