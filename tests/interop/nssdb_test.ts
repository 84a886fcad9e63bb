/**
 * The real corosync-qnetd 3.0.3 serving TLS from an NSS database that `qnet certutil -i` made
 * (no NSS tool involved), to the real corosync-qdevice of a two-node cluster whose certificate
 * `qnet certutil -s` signed: both nodes hold the qdevice vote over TLS with a verified client
 * certificate. The reverse direction (our daemon on a database the C tool made) is in
 * tls_test.ts and in the daemon's key-loading tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import {
  Cluster,
  CLUSTER_NAME,
  createQnetCa,
  effectiveVote,
  expectNodes,
  interopSkipReason,
  interopTest,
  realQnetd,
} from "../support/mod.ts";

const skip = await interopSkipReason();

/** Port of the arbiter (the nssdb range, 41000-41999). */
const PORT = 41310;

interopTest(
  skip,
  "the real corosync-qnetd serves TLS from a database qnet certutil made, to clients it signed",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-interop-nssdb-" });
    try {
      await Deno.chmod(dir, 0o711);
      const ca = await createQnetCa(`${dir}/qnet`);
      await using cluster = await Cluster.start({
        arbiter: realQnetd,
        nodeCount: 2,
        algorithm: "ffsplit",
        port: PORT,
        tls: {
          qdevice: "on",
          arbiter: { mode: "req", keyDir: ca.keyDir },
          enrolment: { trusted: ca },
        },
      });
      await cluster.waitForQuorum(expectNodes([
        [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
        [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
      ]));
      const clients = await cluster.waitForArbiterClients(
        [1, 2],
        (c) => effectiveVote(c) === Vote.Ack,
      );
      for (const client of clients) assert.equal(client.cluster, CLUSTER_NAME);
      const verbose = await cluster.arbiter.listVerbose();
      assert.equal(verbose.match(/TLS active:\s+Yes \(client certificate verified\)/g)?.length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
