/**
 * TLS key material for interop clusters, made the way an administrator (or pcs) makes it:
 *
 * - a QNet CA on the arbiter, either ours (`qnet certutil -i -d DIR`, an NSS database) or the real
 *   `corosync-qnetd-certutil -i` (an NSS database; a scratch copy of the script whose
 *   CONFIG_DIR points into the test directory);
 * - on the first node the real `corosync-qdevice-net-certutil -i -c CA`, `-r -n CLUSTER`, the
 *   CA signs the request, `-M -c CRT`; on the other nodes `-i -c CA` and `-m -c P12`. The node
 *   tool runs unmodified inside the node's mount namespace, where /etc/corosync is the node's own.
 *
 * Both daemons serve either database in place: no import or export step. (A C CA's keys can
 * still be exported as PEM files with `qnet certutil --export-pem`, see {@link migrateCa}.)
 *
 * @module
 */
import { run } from "./command.ts";
import type { ClusterNode } from "./node.ts";
import { QNET_ARGV } from "../qnet_command.ts";

/** The real node tool, run inside a node's namespaces. */
const NODE_TOOL = "corosync-qdevice-net-certutil";

/** argv prefix of our `qnet certutil`. */
const QNET_CERTUTIL = [...QNET_ARGV, "certutil"];

/** How a certificate for a cluster is signed: validity shifted by `warpMonths`, if given. */
export interface SignOptions {
  /** Months from now to the start of the validity (NSS `certutil -w`); negative is past. */
  warpMonths?: number;
  /** Validity length in months (NSS `certutil -v`), with `warpMonths`. */
  validMonths?: number;
}

/** A QNet CA on the arbiter. */
export interface QnetCa {
  /** What `-S nss_db_dir=` of the arbiter points at. */
  readonly keyDir: string;
  /** `qnetd-cacert.crt`, the file the nodes import with `-i -c`. */
  readonly caExport: string;
  /** Signs the node's DER request for `cluster`, returns the certificate's path. */
  sign(request: string, cluster: string, options?: SignOptions): Promise<string>;
}

/** Our CA: `qnet certutil -i -d DIR`, signing with `qnet certutil -s`. */
export async function createQnetCa(dir: string): Promise<QnetCa> {
  await run([...QNET_CERTUTIL, "-i", "-d", dir]);
  return {
    keyDir: dir,
    caExport: `${dir}/qnetd-cacert.crt`,
    async sign(request, cluster, options) {
      if (options?.warpMonths !== undefined) {
        throw new Error("qnet certutil signs with the standard validity only; use an NSS CA");
      }
      await run([...QNET_CERTUTIL, "-s", "-c", request, "-n", cluster, "-d", dir]);
      return `${dir}/cluster-${cluster}.crt`;
    },
  };
}

/**
 * The real `corosync-qnetd-certutil -i` with its database in `DIR/nssdb`. Signing with the
 * default validity goes through the real script; a shifted validity is the same `certutil -C`
 * call the script makes, plus `-w`.
 */
export async function createNssCa(dir: string): Promise<QnetCa> {
  await Deno.mkdir(dir, { recursive: true });
  const tool = `${dir}/corosync-qnetd-certutil`;
  const script = (await Deno.readTextFile("/usr/bin/corosync-qnetd-certutil"))
    .replace(/^CONFIG_DIR=.*$/m, `CONFIG_DIR="${dir}"`);
  await Deno.writeTextFile(tool, script, { mode: 0o755 });
  await run([tool, "-i"]);
  const db = `${dir}/nssdb`;
  let serial = 100;
  return {
    keyDir: db,
    caExport: `${db}/qnetd-cacert.crt`,
    async sign(request, cluster, options) {
      if (options?.warpMonths === undefined) {
        await run([tool, "-s", "-c", request, "-n", cluster]);
        return `${db}/cluster-${cluster}.crt`;
      }
      const out = `${dir}/cluster-${cluster}-warped.crt`;
      await run([
        "certutil",
        "-C",
        "-d",
        db,
        "-c",
        "QNet CA",
        "-m",
        String(++serial),
        "-i",
        request,
        "-o",
        out,
        "-w",
        String(options.warpMonths),
        "-v",
        String(options.validMonths ?? 12),
      ]);
      return out;
    },
  };
}

/**
 * Exports a C CA's NSS database as PEM files into `dir` (`qnet certutil --export-pem`), for a
 * daemon that reads PEM files, and returns a CA whose key directory is `dir`; signing still
 * goes through `ca`.
 */
export async function migrateCa(ca: QnetCa, dir: string): Promise<QnetCa> {
  await run([...QNET_CERTUTIL, "-d", ca.keyDir, "--export-pem", dir]);
  return { keyDir: dir, caExport: ca.caExport, sign: (r, c, o) => ca.sign(r, c, o) };
}

/** How the nodes of a cluster are enrolled. */
export interface Enrolment {
  /** The CA whose certificate the nodes trust (the arbiter's). */
  readonly trusted: QnetCa;
  /** The CA that signs the nodes' certificate (default: `trusted`). */
  readonly signer?: QnetCa;
  /** The name in the certificate request (default: the cluster's name). */
  readonly certName?: string;
  readonly sign?: SignOptions;
}

/**
 * Enrols every node as pcs does: the first node makes the request and imports the signed
 * certificate, the others import the PKCS#12 bundle the first one exported. With a shifted
 * validity every node makes and imports its own request instead: pk12util will not export a
 * certificate outside its validity, so there is no bundle to copy.
 */
export async function enrolNodes(
  nodes: readonly ClusterNode[],
  cluster: string,
  enrolment: Enrolment,
): Promise<void> {
  const [first, ...others] = nodes;
  if (first === undefined) return;
  if (enrolment.sign?.warpMonths !== undefined) {
    for (const node of nodes) await enrolOne(node, cluster, enrolment);
    return;
  }
  await enrolOne(first, cluster, enrolment);
  const bundle = `${first.dir}/etc/qdevice/net/nssdb/qdevice-net-node.p12`;
  for (const node of others) {
    await run(node.inside([NODE_TOOL, "-i", "-c", enrolment.trusted.caExport]));
    await run(node.inside([NODE_TOOL, "-m", "-c", bundle]));
  }
}

/** `-i -c CA`, `-r -n NAME`, signing by the CA, `-M -c CRT` on one node. */
async function enrolOne(node: ClusterNode, cluster: string, enrolment: Enrolment): Promise<void> {
  const name = enrolment.certName ?? cluster;
  await run(node.inside([NODE_TOOL, "-i", "-c", enrolment.trusted.caExport]));
  await run(node.inside([NODE_TOOL, "-r", "-n", name]));
  // The node tool's database is /etc/corosync/qdevice/net/nssdb inside the node.
  const request = `${node.dir}/etc/qdevice/net/nssdb/qdevice-net-node.crq`;
  const signer = enrolment.signer ?? enrolment.trusted;
  const certificate = await signer.sign(request, name, enrolment.sign);
  await run(node.inside([NODE_TOOL, "-M", "-c", certificate]));
}
