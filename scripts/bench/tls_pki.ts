/**
 * Key material for a TLS benchmark, in one temporary directory, so that both daemons trust
 * the same client certificates:
 *
 *   qnetd/     our layout, made by `qnet certutil -i -d` (QNet CA, "Qnetd Server" cert),
 *              the daemon's `nss_db_dir` for ours;
 *   nssdb/     an NSS database for corosync-qnetd holding the same CA (trust "CT,,", as
 *              corosync-qnetd-certutil sets it) and the same server certificate and key
 *              under the nickname "QNetd Cert" (imported with certutil and pk12util);
 *   clients/   one client key and a certificate `cluster-<name>.pem` (CN = cluster name)
 *              per cluster, signed by the QNet CA with the openssl CLI.
 *
 * @module
 */
import { main as certutil } from "../../cli/certutil.ts";
import { RecordingIo } from "../../cli/io.ts";
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  SERVER_CERT_FILE,
  SERVER_KEY_FILE,
} from "../../core/certs/layout.ts";
import { clusterCertPath, type TlsClientFiles } from "./tls_client.ts";

/** Nicknames the C daemon and its certutil script use. */
const NSS_CA = "QNet CA";
const NSS_SERVER = "QNetd Cert";

/** How many openssl processes run at once while signing the cluster certificates. */
const PARALLEL = 8;

/** The directory made by {@link makeBenchPki}; dispose (or `remove()`) to delete it. */
export interface BenchPki extends AsyncDisposable {
  readonly dir: string;
  /** `nss_db_dir` for our daemon (PEM files). */
  readonly pemDir: string;
  /** `nss_db_dir` for corosync-qnetd (NSS sql database). */
  readonly nssDir: string;
  readonly client: TlsClientFiles;
  remove(): Promise<void>;
}

/** Runs a tool; throws with its stderr when it fails. */
async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdin: "null", stdout: "null" })
    .output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Signs a client certificate for `cluster` (CSR, then `openssl x509 -req`, serial `serial`). */
async function signCluster(pki: string, certDir: string, cluster: string, serial: number) {
  const out = clusterCertPath(certDir, cluster);
  const csr = `${out}.csr`;
  await run("openssl", [
    "req",
    "-new",
    "-key",
    "client.key",
    "-subj",
    `/CN=${cluster}`,
    "-out",
    csr,
  ], pki);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    `qnetd/${CA_CERT_FILE}`,
    "-CAkey",
    `qnetd/${CA_KEY_FILE}`,
    "-set_serial",
    String(serial),
    "-days",
    "30",
    "-sha256",
    "-out",
    out,
  ], pki);
  await Deno.remove(csr);
}

/** Makes the CA, the server certificate in both forms, and a certificate per cluster. */
export async function makeBenchPki(clusters: readonly string[]): Promise<BenchPki> {
  const dir = await Deno.makeTempDir({ prefix: "qnet-bench-pki-" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => undefined);
  try {
    const pemDir = `${dir}/qnetd`;
    const io = new RecordingIo();
    if (await certutil(["-i", "-d", pemDir], io) !== 0) {
      throw new Error(`qnet certutil -i failed: ${io.stderr}`);
    }
    // The PEM files openssl signs with below, next to the NSS database.
    if (await certutil(["-d", pemDir, "--export-pem", pemDir], io) !== 0) {
      throw new Error(`qnet certutil --export-pem failed: ${io.stderr}`);
    }
    const nssDir = `${dir}/nssdb`;
    await Deno.mkdir(nssDir);
    await run("certutil", ["-N", "-d", `sql:${nssDir}`, "--empty-password"], dir);
    await run("certutil", [
      "-A",
      "-d",
      `sql:${nssDir}`,
      "-n",
      NSS_CA,
      "-t",
      "CT,,",
      "-i",
      `qnetd/${CA_CERT_FILE}`,
    ], dir);
    await run("openssl", [
      "pkcs12",
      "-export",
      "-name",
      NSS_SERVER,
      "-inkey",
      `qnetd/${SERVER_KEY_FILE}`,
      "-in",
      `qnetd/${SERVER_CERT_FILE}`,
      "-passout",
      "pass:",
      "-out",
      "server.p12",
    ], dir);
    await run("pk12util", ["-i", "server.p12", "-d", `sql:${nssDir}`, "-W", ""], dir);
    const certDir = `${dir}/clients`;
    await Deno.mkdir(certDir);
    await run("openssl", [
      "genpkey",
      "-algorithm",
      "RSA",
      "-pkeyopt",
      "rsa_keygen_bits:2048",
      "-out",
      "client.key",
    ], dir);
    for (let i = 0; i < clusters.length; i += PARALLEL) {
      await Promise.all(
        clusters.slice(i, i + PARALLEL).map((c, j) => signCluster(dir, certDir, c, 1000 + i + j)),
      );
    }
    return {
      dir,
      pemDir,
      nssDir,
      client: { caFile: `${pemDir}/${CA_CERT_FILE}`, keyFile: `${dir}/client.key`, certDir },
      remove,
      [Symbol.asyncDispose]: remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
