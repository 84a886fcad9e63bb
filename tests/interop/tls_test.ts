/**
 * TLS between the real corosync-qdevice and the arbiter chosen by `QNET_INTEROP_ARBITER`, with
 * the key material made as pcs makes it (see support/enrolment.ts): clusters enrolled with our
 * certutil and with the real one (its NSS database served in place, no import) become quorate under `tls: on` and
 * `tls: required`; a plaintext qdevice under `-s req`, and certificates for another cluster,
 * from a foreign CA, expired or not yet valid are refused. Run with `QNET_INTEROP_ARBITER=c`,
 * the same tests pass against the real corosync-qnetd: the outcomes are the C daemon's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import {
  arbiterFromEnv,
  type ArbiterSpec,
  Cluster,
  CLUSTER_NAME,
  type ClusterNode,
  type ClusterTls,
  createNssCa,
  createQnetCa,
  effectiveVote,
  type Enrolment,
  expectNodes,
  interopSkipReason,
  interopTest,
  type QnetCa,
  waitUntil,
} from "../support/mod.ts";

const arbiter = arbiterFromEnv();
const skip = await interopSkipReason();

const ALL_VOTING = expectNodes([
  [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
  [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
]);

/** Both nodes quorate on their own two votes, neither holding the qdevice vote. */
const NO_QDEVICE_VOTE = expectNodes([
  [1, { quorate: true, qdeviceVote: false, members: [1, 2] }],
  [2, { quorate: true, qdeviceVote: false, members: [1, 2] }],
]);

/** A temporary directory for CA material, removed on dispose. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "qnet-interop-ca-" });
  // Searchable by others: an unprivileged arbiter reads its key directory inside it.
  await Deno.chmod(path, 0o711);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/**
 * A CA made by the real corosync-qnetd-certutil, served from its NSS database in place by
 * either daemon: no import or export step ("stop one, start the other").
 */
async function realCaFor(
  _spec: ArbiterSpec,
  dir: string,
): Promise<{ nss: QnetCa; served: QnetCa }> {
  const nss = await createNssCa(`${dir}/c`);
  return { nss, served: nss };
}

/** The arbiter's native CA: `qnet certutil -i` for PEM arbiters, the C tool for NSS ones. */
function nativeCa(spec: ArbiterSpec, dir: string): Promise<QnetCa> {
  return spec.keyFormat === "nss" ? createNssCa(`${dir}/c`) : createQnetCa(`${dir}/qnet`);
}

function tls(
  mode: "on" | "req",
  ca: QnetCa,
  qdevice: ClusterTls["qdevice"],
  enrolment?: Enrolment,
) {
  return {
    qdevice,
    arbiter: { mode, keyDir: ca.keyDir },
    ...(enrolment === undefined ? {} : { enrolment }),
  } satisfies ClusterTls;
}

/** Waits until `node`'s qdevice log has a line matching `pattern`, and returns that line. */
async function qdeviceLogLine(node: ClusterNode, pattern: RegExp): Promise<string> {
  return await waitUntil(`node ${node.nodeId} qdevice to log ${pattern}`, () => {
    let text = "";
    try {
      text = Deno.readTextFileSync(`${node.dir}/log/qdevice.log`);
    } catch {
      // Not written yet.
    }
    const line = text.split("\n").find((l) => pattern.test(l));
    const seen = text.trimEnd().split("\n").slice(-3).join(" | ");
    return Promise.resolve({ done: line !== undefined, value: line ?? "", seen });
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

/** Asserts that a quorate cluster of two TLS clients holds the qdevice vote on both nodes. */
async function assertTlsQuorate(cluster: Cluster): Promise<void> {
  await cluster.waitForQuorum(ALL_VOTING);
  const clients = await cluster.waitForArbiterClients(
    [1, 2],
    (c) => effectiveVote(c) === Vote.Ack,
  );
  for (const client of clients) assert.equal(client.cluster, CLUSTER_NAME);
  const verbose = await cluster.arbiter.listVerbose();
  assert.equal(verbose.match(/TLS active:\s+Yes \(client certificate verified\)/g)?.length, 2);
  for (const node of cluster.nodes.values()) {
    const status = await node.qdeviceStatus(["-s", "-v"]);
    assert.equal(status?.state, "Connected");
    assert.match(status?.fields.get("TLS active") ?? "", /^Yes/);
  }
}

/**
 * Asserts the outcome of a refused TLS client: the qdevice logs `pattern`, the arbiter lists
 * no client, the nodes stay quorate on their own votes without the qdevice vote.
 */
async function assertRefused(cluster: Cluster, pattern: RegExp): Promise<void> {
  for (const node of cluster.nodes.values()) await qdeviceLogLine(node, pattern);
  await cluster.waitForQuorum(NO_QDEVICE_VOTE);
  assert.deepEqual(await cluster.arbiter.clients(), []);
}

interopTest(
  skip,
  `tls: on with certificates from the arbiter's own certutil gives quorum (${arbiter.name})`,
  async () => {
    await using dir = await tempDir();
    const ca = await nativeCa(arbiter, dir.path);
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16310,
      tls: tls("on", ca, "on", { trusted: ca }),
    });
    await assertTlsQuorate(cluster);
  },
);

interopTest(
  skip,
  `tls: required with certificates from corosync-qnetd-certutil, served in place, gives quorum (${arbiter.name})`,
  async () => {
    await using dir = await tempDir();
    const { served } = await realCaFor(arbiter, dir.path);
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16311,
      tls: tls("req", served, "required", { trusted: served }),
    });
    await assertTlsQuorate(cluster);
    // A cut link re-decides over TLS exactly as in plaintext.
    await cluster.cutLink(2);
    await cluster.waitForQuorum(expectNodes([
      [1, { quorate: true, qdeviceVote: true, members: [1] }],
      [2, { quorate: false, qdeviceVote: false, members: [2] }],
    ]));
    await cluster.restoreLink(2);
    await cluster.waitForQuorum(ALL_VOTING);
  },
);

interopTest(
  skip,
  `-s req refuses a qdevice with tls: off (${arbiter.name})`,
  async () => {
    await using dir = await tempDir();
    const ca = await nativeCa(arbiter, dir.path);
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: 16312,
      tls: tls("req", ca, "off"),
    });
    // The preinit reply says TLS is required; the qdevice itself gives up and exits.
    await assertRefused(cluster, /Incompatible tls configuration \(server 2 client 0\)/);
  },
);

/** The refused-certificate rows: how the node's certificate is wrong, and what qdevice logs. */
const REFUSED: ReadonlyArray<{
  name: string;
  port: number;
  enrolment: (trusted: QnetCa, foreign: QnetCa) => Enrolment;
  logged: RegExp;
}> = [
  {
    name: "a certificate for another cluster name",
    port: 16313,
    enrolment: (trusted) => ({ trusted, certName: "other" }),
    // The handshake succeeds; the arbiter checks the name at init and closes the connection.
    logged: /Server closed connection/,
  },
  {
    name: "a certificate from a foreign CA",
    port: 16314,
    enrolment: (trusted, foreign) => ({ trusted, signer: foreign }),
    // The arbiter fails the handshake: the client sees a read error, not a closed connection.
    logged: /Unhandled error when reading from server/,
  },
  {
    name: "an expired certificate",
    port: 16315,
    enrolment: (trusted) => ({ trusted, sign: { warpMonths: -24, validMonths: 12 } }),
    // NSS on the node does not even offer a certificate outside its validity: the handshake
    // fails on the arbiter for want of a client certificate.
    logged: /Unhandled error when reading from server/,
  },
  {
    name: "a certificate not valid yet",
    port: 16316,
    enrolment: (trusted) => ({ trusted, sign: { warpMonths: 12, validMonths: 12 } }),
    logged: /Unhandled error when reading from server/,
  },
];

for (const row of REFUSED) {
  interopTest(skip, `tls: on refuses ${row.name} (${arbiter.name})`, async () => {
    await using dir = await tempDir();
    const { nss, served } = await realCaFor(arbiter, dir.path);
    const foreign = await createNssCa(`${dir.path}/foreign`);
    // The nodes trust the arbiter's CA; only their own certificate is wrong.
    const enrolment = row.enrolment(served, foreign);
    await using cluster = await Cluster.start({
      arbiter,
      nodeCount: 2,
      algorithm: "ffsplit",
      port: row.port,
      tls: tls("on", served, "on", { ...enrolment, signer: enrolment.signer ?? nss }),
    });
    await assertRefused(cluster, row.logged);
  });
}
