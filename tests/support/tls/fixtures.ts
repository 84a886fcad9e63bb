/**
 * Throwaway PKI for the TLS tests, made with the `openssl` CLI (and NSS's certutil/pk12util
 * for the tstclnt database) in a temporary directory: a QNet CA, the "Qnetd Server"
 * certificate, client certificates for the cluster, and bad ones (foreign CA, expired).
 *
 * @module
 */

/** The cluster name the good client certificates carry. */
export const CLUSTER = "testcluster";

/** Paths of everything {@link makePki} writes. */
export interface Pki extends AsyncDisposable {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The key behind every client certificate. */
  readonly clientKey: string;
  /** CN=testcluster, no extensions. */
  readonly clientCert: string;
  /** CN=testcluster with SAN DNS:alpha.example and DNS:Other Cluster. */
  readonly clientSanCert: string;
  /** CN=testcluster, issued by a different CA also named "CN=QNet CA". */
  readonly foreignCert: string;
  /** CN=testcluster, notAfter already past. */
  readonly expiredCert: string;
  /** NSS database (sql:) trusting the QNet CA and holding "Cluster Cert" (the client cert). */
  readonly nssDb: string;
  /** NSS database (sql:) trusting the QNet CA, with no client certificate. */
  readonly nssDbNoCert: string;
  /** A file holding "ping\n", for `tstclnt -A`. */
  readonly requestFile: string;
}

/** Runs a tool and returns its stdout; throws with stderr when it fails. */
export async function runOrThrow(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

async function sign(
  dir: string,
  opts: { cn: string; caCert: string; caKey: string; key: string; out: string; days: number },
  ext?: string,
): Promise<void> {
  await runOrThrow("openssl", [
    "req",
    "-new",
    "-key",
    opts.key,
    "-subj",
    `/CN=${opts.cn}`,
    "-out",
    `${opts.out}.csr`,
  ], dir);
  const extArgs: string[] = [];
  if (ext !== undefined) {
    await Deno.writeTextFile(`${dir}/${opts.out}.ext`, ext);
    extArgs.push("-extfile", `${opts.out}.ext`);
  }
  await runOrThrow("openssl", [
    "x509",
    "-req",
    "-in",
    `${opts.out}.csr`,
    "-CA",
    opts.caCert,
    "-CAkey",
    opts.caKey,
    "-set_serial",
    String(100 + Math.floor(Math.random() * 1e6)),
    "-days",
    String(opts.days),
    "-sha256",
    ...extArgs,
    "-out",
    opts.out,
  ], dir);
}

async function makeCa(dir: string, name: string): Promise<void> {
  await runOrThrow("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    "/CN=QNet CA",
    "-days",
    "3650",
    "-sha256",
    "-addext",
    "basicConstraints=critical,CA:TRUE,pathlen:0",
  ], dir);
}

/** Creates the PKI in a new temp dir; dispose to delete it. */
export async function makePki(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "qnet-tls-test-" });
  try {
    await Promise.all([makeCa(dir, "ca"), makeCa(dir, "foreign-ca")]);
    for (const key of ["server.key", "client.key"]) {
      await runOrThrow("openssl", ["genpkey", "-algorithm", "RSA", "-out", key], dir);
    }
    const qnetCa = { caCert: "ca.pem", caKey: "ca.key" };
    const client = { cn: CLUSTER, key: "client.key", days: 365 };
    await Promise.all([
      sign(dir, { cn: "Qnetd Server", ...qnetCa, key: "server.key", out: "server.pem", days: 365 }),
      sign(dir, { ...client, ...qnetCa, out: "client.pem" }),
      sign(
        dir,
        { ...client, ...qnetCa, out: "client-san.pem" },
        "subjectAltName=DNS:alpha.example,DNS:Other Cluster\n",
      ),
      sign(dir, {
        ...client,
        caCert: "foreign-ca.pem",
        caKey: "foreign-ca.key",
        out: "foreign.pem",
      }),
      // -days -1: notAfter lies a day before notBefore (= now), so the certificate has expired.
      sign(dir, { ...client, ...qnetCa, out: "expired.pem", days: -1 }),
    ]);
    // The node side as corosync-qdevice-net-certutil leaves it: CA trusted "CT,c,c", the
    // client certificate and key imported from a p12 under the nickname "Cluster Cert".
    for (const db of ["nssdb", "nssdb-nocert"]) {
      await Deno.mkdir(`${dir}/${db}`);
      await runOrThrow("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"], dir);
      const trustCa = ["-A", "-d", `sql:${db}`, "-n", "QNet CA", "-t", "CT,c,c", "-i", "ca.pem"];
      await runOrThrow("certutil", trustCa, dir);
    }
    await runOrThrow("openssl", [
      "pkcs12",
      "-export",
      "-name",
      "Cluster Cert",
      "-inkey",
      "client.key",
      "-in",
      "client.pem",
      "-passout",
      "pass:",
      "-out",
      "client.p12",
    ], dir);
    await runOrThrow("pk12util", ["-i", "client.p12", "-d", "sql:nssdb", "-W", ""], dir);
    await Deno.writeTextFile(`${dir}/request.txt`, "ping\n");
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const p = (name: string) => `${dir}/${name}`;
  return {
    dir,
    caCert: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientKey: p("client.key"),
    clientCert: p("client.pem"),
    clientSanCert: p("client-san.pem"),
    foreignCert: p("foreign.pem"),
    expiredCert: p("expired.pem"),
    nssDb: `sql:${p("nssdb")}`,
    nssDbNoCert: `sql:${p("nssdb-nocert")}`,
    requestFile: p("request.txt"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
