/**
 * Certificate rotation with a real cluster connected: two corosync nodes with the real
 * corosync-qdevice hold the arbiter's vote over TLS; the arbiter's server certificate is renewed
 * in its NSS database with NSS's own certutil (same CA, new key) and the daemon gets SIGHUP.
 * The connected qdevices stay connected on their sessions (same client ports) and keep their
 * votes; a new TLS client gets the renewed certificate; a restarted node reconnects over TLS
 * and votes again. The C daemon reads its database only at start, so this runs against qnet.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import { pemBlocks } from "../../core/certs/pem.ts";
import { certificateFingerprint } from "../../cli/key_rotation.ts";
import {
  arbiterFromEnv,
  arbiterLog,
  Cluster,
  CLUSTER_NAME,
  createQnetCa,
  effectiveVote,
  expectNodes,
  hostAddress,
  interopSkipReason,
  interopTest,
  realQnetd,
  run,
  waitUntil,
} from "../support/mod.ts";

const arbiter = arbiterFromEnv();
const skip = await interopSkipReason();
const REPO = new URL("../../", import.meta.url).pathname;
const PORT = 42410;

const ALL_VOTING = expectNodes([
  [1, { quorate: true, qdeviceVote: true, members: [1, 2] }],
  [2, { quorate: true, qdeviceVote: true, members: [1, 2] }],
]);

/** The SHA-256 fingerprint of the certificate `nickname` in the NSS database `db`. */
async function nssFingerprint(db: string, nickname: string): Promise<string> {
  const pem = (await run(["certutil", "-L", "-d", `sql:${db}`, "-n", nickname, "-a"])).stdout;
  return await certificateFingerprint(pemBlocks(pem)[0]!.der);
}

/**
 * A renewed server certificate: a copy of `db` where "QNetd Cert" is replaced by a new one
 * (new key, same subject, signed by the same "QNet CA"), with the same NSS certutil calls
 * corosync-qnetd-certutil makes.
 */
async function renewServerCertificate(db: string, scratch: string): Promise<string> {
  await run(["cp", "-a", db, scratch]);
  await Deno.writeFile(`${scratch}/renew-noise`, crypto.getRandomValues(new Uint8Array(64)));
  await run(["certutil", "-D", "-d", `sql:${scratch}`, "-n", "QNetd Cert"]);
  await run([
    "certutil",
    "-S",
    "-d",
    `sql:${scratch}`,
    "-n",
    "QNetd Cert",
    "-s",
    "CN=Qnetd Server",
    "-c",
    "QNet CA",
    "-t",
    "u,u,u",
    "-m",
    "4242",
    "-v",
    "12",
    "-z",
    `${scratch}/renew-noise`,
    "-f",
    `${scratch}/pwdfile.txt`,
  ]);
  return scratch;
}

/** What a new TLS client, run inside node 1's namespaces, gets as server certificate. */
async function servedFingerprint(cluster: Cluster, caFile: string): Promise<string> {
  const argv = cluster.node(1).inside([
    Deno.execPath(),
    "run",
    "--quiet",
    "-A",
    `${REPO}tests/support/tls_probe.ts`,
    hostAddress("arbiter", 254),
    String(cluster.arbiter.port),
    caFile,
  ]);
  const out = (await run(argv)).stdout;
  const match = /^sha256=(\S+)$/m.exec(out);
  assert.ok(match !== null, `the probe printed no fingerprint: ${out}`);
  return match[1]!;
}

// The C daemon reads its database only at start: with QNET_INTEROP_ARBITER=c there is nothing
// to compare, and the test is not registered.
if (arbiter !== realQnetd) {
  interopTest(
    skip,
    `SIGHUP renews the server certificate with a cluster connected: votes hold, new clients get the new one (${arbiter.name})`,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "qnet-nssops-rotation-" });
      // Searchable by others: an unprivileged arbiter reads its key directory inside it.
      await Deno.chmod(dir, 0o711);
      try {
        const ca = await createQnetCa(`${dir}/keys`);
        await using cluster = await Cluster.start({
          arbiter,
          nodeCount: 2,
          algorithm: "ffsplit",
          port: PORT,
          tls: {
            qdevice: "on",
            arbiter: { mode: "on", keyDir: ca.keyDir },
            enrolment: { trusted: ca },
          },
        });
        await cluster.waitForQuorum(ALL_VOTING);
        const before = await cluster.waitForArbiterClients(
          [1, 2],
          (c) => effectiveVote(c) === Vote.Ack,
        );
        const oldFingerprint = await nssFingerprint(ca.keyDir, "QNetd Cert");
        assert.equal(await servedFingerprint(cluster, ca.caExport), oldFingerprint);

        // Renew in a scratch copy, then copy the two databases into place (cp keeps the files'
        // owner and mode) and reload.
        const renewed = await renewServerCertificate(ca.keyDir, `${dir}/renewed`);
        const newFingerprint = await nssFingerprint(renewed, "QNetd Cert");
        assert.notEqual(newFingerprint, oldFingerprint);
        for (const f of ["cert9.db", "key4.db"]) {
          await run(["cp", `${renewed}/${f}`, `${ca.keyDir}/${f}`]);
        }
        cluster.arbiter.signal("SIGHUP");
        await waitUntil("the arbiter to reload its keys", () => {
          const log = Deno.readTextFileSync(arbiterLog(cluster.arbiter.dir));
          const done = log.includes(
            `TLS key material reloaded: server certificate "Qnetd Server" ` +
              `(SHA-256 ${newFingerprint})`,
          );
          return Promise.resolve({
            done,
            value: undefined,
            seen: log.split("\n").slice(-3).join(" | "),
          });
        }, { timeoutMs: 15_000, intervalMs: 200 });

        // A new client gets the renewed certificate.
        assert.equal(await servedFingerprint(cluster, ca.caExport), newFingerprint);

        // The connected qdevices keep their sessions (same addresses and ports) and their votes,
        // across more than two heartbeats.
        await new Promise((r) => setTimeout(r, 20_000));
        await cluster.waitForQuorum(ALL_VOTING);
        const after = await cluster.waitForArbiterClients(
          [1, 2],
          (c) => effectiveVote(c) === Vote.Ack,
        );
        assert.deepEqual(
          after.map((c) => `${c.cluster} ${c.nodeId} ${c.address}`).sort(),
          before.map((c) => `${c.cluster} ${c.nodeId} ${c.address}`).sort(),
        );
        for (const c of after) assert.equal(c.cluster, CLUSTER_NAME);

        // A node that restarts verifies the renewed certificate and votes again over TLS.
        await cluster.node(2).kill9();
        await cluster.node(2).start();
        await cluster.waitForQuorum(ALL_VOTING);
        const verbose = await cluster.arbiter.listVerbose();
        assert.equal(
          verbose.match(/TLS active:\s+Yes \(client certificate verified\)/g)?.length,
          2,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
