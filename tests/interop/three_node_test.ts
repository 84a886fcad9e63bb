/**
 * A three-node ffsplit cluster: real corosync + corosync-qdevice in namespaces against the
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
  `Cluster.cutLink() of one of three ffsplit nodes leaves the two-node side quorate (${arbiter.name})`,
  async () => {
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 3,
      algorithm: "ffsplit",
      port: 16320,
    });
    const everyone = expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [2, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
      [3, { quorate: true, qdeviceVote: true, members: [1, 2, 3] }],
    ]);
    const all = await cluster.waitForQuorum(everyone);
    assert.equal(all.get(3)?.expectedVotes, 4);

    // Node 1 (the tie-breaker) leaves the cluster network entirely, arbiter link included:
    // the larger side {2,3} must win even without the tie-breaker node.
    await cluster.cutLink(1, ["cluster", "arbiter"]);
    const split = await cluster.waitForQuorum(expectNodes([
      [1, { quorate: false, qdeviceVote: false, members: [1] }],
      [2, { quorate: true, qdeviceVote: true, members: [2, 3] }],
      [3, { quorate: true, qdeviceVote: true, members: [2, 3] }],
    ]));
    assert.equal(split.get(2)?.totalVotes, 3);
    assert.equal(split.get(1)?.totalVotes, 1);
    // The arbiter drops node 1 once its heartbeats stop (DPD) and keeps ACKing 2 and 3.
    await cluster.waitForArbiterClients([2, 3], (c) => effectiveVote(c) === Vote.Ack);

    await cluster.restoreLink(1, ["cluster", "arbiter"]);
    await cluster.waitForQuorum(everyone);
    await cluster.waitForArbiterClients([1, 2, 3], (c) => effectiveVote(c) === Vote.Ack);
  },
);
