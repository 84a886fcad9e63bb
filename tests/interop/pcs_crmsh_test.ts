/**
 * The admin's own tools on an arbiter where qnet stands in for the C tools under their names
 * (tests/support/c_names_sandbox.ts: a private mount namespace, the machine's files untouched):
 * Debian's pcs 0.11 (`pcs qdevice setup|sign-net-cert-request|status|destroy`), the node side as
 * pcs drives it (`corosync-qdevice-net-certutil -i/-r/-M/-m` with what the arbiter returns), and
 * the commands crmsh 4.4 runs on the arbiter over ssh. Each flow runs twice, once with the real
 * C tools and once with qnet, and the two must give the same exit codes and the same output
 * (temporary file names, ports, addresses and certificate bytes aside).
 *
 * @module
 */
import assert from "node:assert/strict";
import { certificateNames } from "../../core/certs/peer_names.ts";
import {
  type ArbiterKind,
  CNamesSandbox,
  describeNames,
  joinFfsplit,
  needAll,
  needCQnetd,
  needProgram,
  needRoot,
  type QdeviceClient,
  type SandboxOutput,
  startOnFreePort,
  testNeeding,
} from "../support/mod.ts";

const NEEDS = needAll(
  needRoot(),
  needProgram("pcs", "pcs"),
  needProgram("unshare", "util-linux"),
  needProgram("/usr/sbin/corosync-qdevice-net-certutil", "corosync-qdevice"),
  needProgram("certutil", "libnss3-tools"),
  needCQnetd(),
);

const CLUSTER = "pcsclu";
const CRM_CLUSTER = "crmclu";
const QNETD_DB = "/etc/corosync/qnetd/nssdb";
const NODE_DB = "/etc/corosync/qdevice/net/nssdb";
/** Port ranges of this file (in the nssops range), one per kind. */
const PORTS: Readonly<Record<ArbiterKind, readonly [number, number]>> = {
  c: [42300, 42349],
  qnet: [42350, 42399],
};

/** Output with what differs between two runs replaced: temp names, ports, addresses, times. */
function normalized(out: SandboxOutput): SandboxOutput {
  const clean = (text: string) =>
    text
      .replace(/\/tmp\/tmp[\w.-]+/g, "/tmp/TMP")
      .replace(/(\d{1,3}\.){3}\d{1,3}:\d+/g, "ADDR:PORT")
      .replace(/\[?[0-9a-f:]*:[0-9a-f.]+\]?:\d+/gi, "ADDR:PORT")
      .replace(/\*:\d+/g, "*:PORT")
      .replace(/:\s+\d+ \(\d+\)/g, ": N (N)");
  return { code: out.code, stdout: clean(out.stdout), stderr: clean(out.stderr) };
}

/** Only the exit code of `out`, for a step whose caller reads nothing else. */
function codeOnly(out: SandboxOutput): SandboxOutput {
  return { code: out.code, stdout: "", stderr: "" };
}

/** Runs `argv` in `box` and returns the output, failing with it unless the exit code is `code`. */
async function expect(
  box: CNamesSandbox,
  argv: string[],
  code: number,
  stdin?: Uint8Array | string,
): Promise<SandboxOutput> {
  const out = await box.run(argv, stdin);
  assert.equal(
    out.code,
    code,
    `${box.kind}: ${
      argv.join(" ")
    } exited ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`,
  );
  return out;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every step's output of the pcs flow, by step name, for comparing the two kinds. */
async function pcsFlow(kind: ArbiterKind): Promise<Map<string, SandboxOutput>> {
  const steps = new Map<string, SandboxOutput>();
  await using box = CNamesSandbox.create(kind);
  const arbiterDb = `${box.etc}/qnetd/nssdb`;

  // Arbiter: `pcs qdevice setup model net` runs corosync-qnetd-certutil -i.
  steps.set("setup", await expect(box, ["pcs", "qdevice", "setup", "model", "net"], 0));
  for (const f of ["cert9.db", "key4.db", "pkcs11.txt", "qnetd-cacert.crt", "serial.txt"]) {
    assert.ok(exists(`${arbiterDb}/${f}`), `${kind}: no ${f} after pcs qdevice setup`);
  }
  // NSS's own tools list it: pcs and the C daemon see a real database.
  const listing = await expect(box, ["certutil", "-L", "-d", `sql:${QNETD_DB}`], 0);
  assert.match(listing.stdout, /QNet CA\s+CT?u?,/);
  assert.match(listing.stdout, /QNetd Cert\s+u,u,u/);
  steps.set("setup again", await expect(box, ["pcs", "qdevice", "setup", "model", "net"], 1));

  // Node: what pcs does through pcsd, by hand: the CA, a request, the signed certificate.
  await expect(box, ["mkdir", "-p", NODE_DB], 0);
  await expect(box, ["cp", `${QNETD_DB}/qnetd-cacert.crt`, `${NODE_DB}/qnetd-cacert.crt`], 0);
  steps.set(
    "node -i",
    await expect(box, [
      "/usr/sbin/corosync-qdevice-net-certutil",
      "-i",
      "-c",
      `${NODE_DB}/qnetd-cacert.crt`,
    ], 0),
  );
  steps.set(
    "node -r",
    await expect(box, ["/usr/sbin/corosync-qdevice-net-certutil", "-r", "-n", CLUSTER], 0),
  );
  const request = Deno.readFileSync(`${box.etc}/qdevice/net/nssdb/qdevice-net-node.crq`);

  // Arbiter: the exact call pcsd makes for `pcs quorum device add model net host=...`.
  const signed = await expect(
    box,
    ["pcs", "qdevice", "sign-net-cert-request", "--name", CLUSTER],
    0,
    request.toBase64(),
  );
  const certDer = Uint8Array.fromBase64(signed.stdout.trim());
  assert.deepEqual(describeNames(certificateNames(certDer)), [`cn:${CLUSTER}`]);
  steps.set("sign", { ...signed, stdout: "BASE64\n" });
  assert.ok(exists(`${arbiterDb}/cluster-${CLUSTER}.crt`));

  // Node: the signed certificate into a PKCS#12 file, then imported.
  await Deno.writeFile(`${box.root}/signed.crt`, certDer);
  await expect(box, ["cp", `${box.root}/signed.crt`, `${NODE_DB}/cluster.crt`], 0);
  steps.set(
    "node -M",
    await expect(box, [
      "/usr/sbin/corosync-qdevice-net-certutil",
      "-M",
      "-c",
      `${NODE_DB}/cluster.crt`,
    ], 0),
  );
  steps.set(
    "node -m",
    await expect(box, [
      "/usr/sbin/corosync-qdevice-net-certutil",
      "-m",
      "-c",
      `${NODE_DB}/qdevice-net-node.p12`,
    ], 0),
  );

  // Status, with the daemon running and one cluster connected.
  const port = await startOnFreePort(box, ...PORTS[kind]);
  let client: QdeviceClient | undefined;
  try {
    client = await joinFfsplit(port, CLUSTER, 1, [1]);
    steps.set("status", await expect(box, ["pcs", "qdevice", "status", "net"], 0));
    steps.set("status --full", await expect(box, ["pcs", "qdevice", "status", "net", "--full"], 0));
    steps.set(
      "status --full CLUSTER",
      await expect(box, ["pcs", "qdevice", "status", "net", "--full", CLUSTER], 0),
    );
    assert.match(steps.get("status --full CLUSTER")!.stdout, new RegExp(`Cluster "${CLUSTER}":`));
  } finally {
    client?.[Symbol.dispose]();
    await box.stopDaemons();
  }

  // `pcs qdevice destroy net`: stops and disables the service, removes the database.
  steps.set("destroy", await expect(box, ["pcs", "qdevice", "destroy", "net"], 0));
  assert.ok(!exists(arbiterDb), `${kind}: ${QNETD_DB} is still there after pcs qdevice destroy`);
  assert.deepEqual(box.systemctlCalls().filter((c) => /corosync-qnetd/.test(c)).length > 0, true);
  steps.set("systemctl", {
    code: 0,
    stdout: box.systemctlCalls().join("\n"),
    stderr: "",
  });
  steps.set(
    "setup after destroy",
    await expect(box, ["pcs", "qdevice", "setup", "model", "net"], 0),
  );
  return steps;
}

/** The commands crmsh 4.4 (crmsh/qdevice.py) runs on the arbiter, with the node side between. */
async function crmshFlow(kind: ArbiterKind): Promise<Map<string, SandboxOutput>> {
  const steps = new Map<string, SandboxOutput>();
  await using box = CNamesSandbox.create(kind);
  const cacert = `${QNETD_DB}/qnetd-cacert.crt`;
  // init_db_on_qnetd: `test -f qnetd-cacert.crt` decides, then `corosync-qnetd-certutil -i`.
  steps.set("test -f before", await expect(box, ["test", "-f", cacert], 1));
  // crmsh looks at the exit code only; the C script also passes on NSS's prompts and notices.
  steps.set("certutil -i", codeOnly(await expect(box, ["corosync-qnetd-certutil", "-i"], 0)));
  steps.set("test -f after", await expect(box, ["test", "-f", cacert], 0));
  // The node side: init with the fetched CA, a request for the cluster.
  await expect(box, ["mkdir", "-p", NODE_DB], 0);
  await expect(box, ["cp", cacert, `${NODE_DB}/qnetd-cacert.crt`], 0);
  await expect(box, [
    "/usr/sbin/corosync-qdevice-net-certutil",
    "-i",
    "-c",
    `${NODE_DB}/qnetd-cacert.crt`,
  ], 0);
  await expect(box, ["/usr/sbin/corosync-qdevice-net-certutil", "-r", "-n", CRM_CLUSTER], 0);
  // copy_crq_to_qnetd, sign_crq_on_qnetd, fetch_cluster_crt_from_qnetd.
  const crq = `${QNETD_DB}/qdevice-net-node.crq.${CRM_CLUSTER}`;
  await expect(box, ["cp", `${NODE_DB}/qdevice-net-node.crq`, crq], 0);
  steps.set(
    "certutil -s",
    await expect(box, ["corosync-qnetd-certutil", "-s", "-c", crq, "-n", CRM_CLUSTER], 0),
  );
  const crt = `${box.etc}/qnetd/nssdb/cluster-${CRM_CLUSTER}.crt`;
  assert.deepEqual(describeNames(certificateNames(Deno.readFileSync(crt))), [`cn:${CRM_CLUSTER}`]);
  await expect(box, ["cp", `${QNETD_DB}/cluster-${CRM_CLUSTER}.crt`, `${NODE_DB}/cluster.crt`], 0);
  steps.set(
    "node -M",
    await expect(box, [
      "/usr/sbin/corosync-qdevice-net-certutil",
      "-M",
      "-c",
      `${NODE_DB}/cluster.crt`,
    ], 0),
  );
  // valid_qnetd: with the service active, `corosync-qnetd-tool -l -c CLUSTER` must print nothing
  // for a new cluster name, and something once the cluster is connected.
  const port = await startOnFreePort(box, ...PORTS[kind]);
  let client: QdeviceClient | undefined;
  try {
    steps.set(
      "tool -l -c before",
      await expect(box, ["corosync-qnetd-tool", "-l", "-c", CRM_CLUSTER], 0),
    );
    assert.equal(steps.get("tool -l -c before")!.stdout, "");
    client = await joinFfsplit(port, CRM_CLUSTER, 1, [1]);
    steps.set(
      "tool -l -c connected",
      await expect(box, ["corosync-qnetd-tool", "-l", "-c", CRM_CLUSTER], 0),
    );
    assert.match(steps.get("tool -l -c connected")!.stdout, new RegExp(`Cluster "${CRM_CLUSTER}"`));
  } finally {
    client?.[Symbol.dispose]();
    await box.stopDaemons();
  }
  // A second `-i` on an initialized directory: crmsh never runs it (test -f first); C refuses.
  steps.set("certutil -i again", codeOnly(await box.run(["corosync-qnetd-certutil", "-i"])));
  return steps;
}

function compare(c: Map<string, SandboxOutput>, qnet: Map<string, SandboxOutput>): void {
  assert.deepEqual([...qnet.keys()], [...c.keys()]);
  for (const [step, expected] of c) {
    assert.deepEqual(
      normalized(qnet.get(step)!),
      normalized(expected),
      `step "${step}": qnet differs from the C tools`,
    );
  }
}

testNeeding(NEEDS, {
  name:
    "pcs qdevice setup, sign-net-cert-request, status, destroy: qnet under the C names behaves as the C tools",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    compare(await pcsFlow("c"), await pcsFlow("qnet"));
  },
});

testNeeding(NEEDS, {
  name: "crmsh's arbiter-side commands: qnet under the C names behaves as the C tools",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    compare(await crmshFlow("c"), await crmshFlow("qnet"));
  },
});
