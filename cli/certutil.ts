/**
 * `qnet certutil`: the QNet CA, with the interface of corosync-qnetd-certutil (v3.0.3,
 * qdevices/corosync-qnetd-certutil.sh) but PEM files instead of an NSS database.
 *
 *   -i               make the CA (`CN=QNet CA`, serial 101) and the server certificate
 *                    (`CN=Qnetd Server`, 102), export the CA as `qnetd-cacert.crt`
 *   -s -c CSR -n CL  sign a node's DER request into `cluster-CL.crt` (DER)
 *   -G               no group write bit on new files;   -h  usage
 *   -d DIR           the directory (default /etc/corosync/qnetd/nssdb, as C)
 *   --import-nssdb D convert the NSS database of a C installation into our files
 *   --list           the CA, server and cluster certificates with serial and expiry
 *
 * Messages, exit codes, file names, modes and ownership follow the C script. Unlike it, a bad
 * request fails before a serial number is used and leaves no file behind.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import {
  CA_CERT_FILE,
  CA_EXPORT_FILE,
  CA_KEY_FILE,
  clusterCertFile,
  clusterNameOfFile,
  DEFAULT_CERT_DIR,
  NSS_CA_NICKNAME,
  NSS_DB_FILES,
  NSS_SERVER_NICKNAME,
  SERIAL_FILE,
  SERVER_CERT_FILE,
  SERVER_KEY_FILE,
} from "../core/certs/layout.ts";
import {
  createCaCertificate,
  createServerCertificate,
  type Issuer,
  signCertificateRequest,
} from "../core/certs/build.ts";
import { formatCaExport, parseCertificateFile } from "../core/certs/ca_export.ts";
import {
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  keyMatchesCertificate,
} from "../core/certs/keys.ts";
import { parseCertificateRequest } from "../core/certs/request.ts";
import { formatSerial, nextSerial, parseSerial, serialFromHex } from "../core/certs/serial.ts";
import {
  CertificateRequestError,
  KeyMaterialError,
  SerialFileError,
} from "../core/certs/errors.ts";
import { dirname } from "../core/path.ts";

const PROGRAM = "qnet certutil";

const USAGE = `${PROGRAM}: [-i|-s] [-c certificate] [-G] [-n cluster_name]

 -i                  Initialize QNetd CA and generate server certificate
 -s                  Sign cluster certificate (needs cluster certificate)
 -c certificate      CRQ certificate file name
 -G                  Do not set group write bit for new files
 -n cluster_name     Name of cluster (for -s operation)
 -d directory        Directory of CA, keys and certificates (default ${DEFAULT_CERT_DIR})
 --import-nssdb dir  Convert the NSS database of corosync-qnetd-certutil in dir into PEM files
 --list              List CA, server and cluster certificates with serial number and expiry
`;

/**
 * The server key is read by the daemon, which runs as the directory's group (coroqnetd), so
 * it is group-readable as the C tool's key4.db is (0660/0640), but never group-writable and
 * never readable by others. The CA key is only for this tool, run as root: 0600.
 */
const SERVER_KEY_MODE = 0o640;

/** A failure the CLI reports as one message and an exit code. */
class CertutilError extends Error {
  constructor(message: string, readonly exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "CertutilError";
  }
}

type Operation = "init" | "sign" | "import" | "list";

interface Options {
  operation?: Operation;
  certificateFile: string;
  clusterName: string;
  groupWrite: boolean;
  dir: string;
  nssDir: string;
}

/** getopts(":Ghisc:n:d:") as the C script uses it, plus two long options. */
export function parseArgs(args: string[]): Options | { exit: number; out?: string; err?: string } {
  const opts: Options = {
    certificateFile: "",
    clusterName: "",
    groupWrite: true,
    dir: DEFAULT_CERT_DIR,
    nssDir: "",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
      if (name === "--list" && inline === undefined) opts.operation = "list";
      else if (name === "--help" && inline === undefined) return { exit: 0, out: USAGE };
      else if (name === "--import-nssdb") {
        const value = inline ?? args[++i];
        if (value === undefined) return { exit: 1, err: `Option ${name} requires an argument.\n` };
        opts.operation = "import";
        opts.nssDir = value;
      } else return { exit: 1, err: `Invalid option: ${name}\n` };
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") break; // getopts stops at the first operand
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j]!;
      if ("cnd".includes(flag)) {
        const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
        if (value === undefined) return { exit: 1, err: `Option -${flag} requires an argument.\n` };
        if (flag === "c") opts.certificateFile = value;
        else if (flag === "n") opts.clusterName = value;
        else opts.dir = value;
        break;
      }
      if (flag === "i") opts.operation = "init";
      else if (flag === "s") opts.operation = "sign";
      else if (flag === "G") opts.groupWrite = false;
      else if (flag === "h") return { exit: 0, out: USAGE };
      else return { exit: 1, err: `Invalid option: -${flag}\n` };
    }
  }
  return opts;
}

/** Runs `qnet certutil` (port of the main part of corosync-qnetd-certutil.sh). */
export async function main(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if ("exit" in parsed) {
    if (parsed.out !== undefined) io.out(parsed.out);
    if (parsed.err !== undefined) io.err(parsed.err);
    return parsed.exit;
  }
  const files = new CertFiles(parsed.dir, parsed.groupWrite);
  try {
    switch (parsed.operation) {
      case "init":
        await initCa(files, io);
        return 0;
      case "sign":
        await signCluster(files, parsed.certificateFile, parsed.clusterName, io);
        return 0;
      case "import":
        await importNssDb(files, parsed.nssDir, io);
        return 0;
      case "list":
        return await listCertificates(files, io);
      default:
        io.out(USAGE);
        return 0;
    }
  } catch (error) {
    if (error instanceof CertutilError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    if (
      error instanceof CertificateRequestError || error instanceof KeyMaterialError ||
      error instanceof SerialFileError
    ) {
      io.err(`${error.message}\n`);
      return 1;
    }
    if (isDenoError(error)) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** True for the errors of Deno's file and process APIs (NotFound, PermissionDenied, ...). */
function isDenoError(error: unknown): error is Error {
  // A refused access goes on to cli/subcommands.ts, which names the path and its option.
  if (error instanceof Deno.errors.NotCapable) return false;
  return Object.values(Deno.errors).some((type) => error instanceof type);
}

// ---------------------------------------------------------------------------------------------
// Files: modes and ownership as the C script sets them, and undo on failure.

async function exists(path: string): Promise<boolean> {
  // Deno rejects an empty path with a plain Error (not NotFound) under scoped permissions.
  if (path === "") return false;
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The certificate directory. Every file it creates gets the C script's mode (get_perm(): 0660,
 * or 0640 with -G; keys 0600) and, when run as root, the owner and group of the directory's
 * parent (chown_ref_cfgdir(), `chown --reference=$CONFIG_DIR`). Files created by a failed
 * operation are removed again by {@link CertFiles.rollback}.
 */
class CertFiles {
  readonly #created: string[] = [];
  constructor(readonly dir: string, readonly groupWrite: boolean) {}

  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** get_perm() of the C script. */
  perm(directory = false): number {
    if (directory) return this.groupWrite ? 0o770 : 0o750;
    return this.groupWrite ? 0o660 : 0o640;
  }

  /** chown_ref_cfgdir(): as root, give the file the owner of the directory's parent. */
  async chownRef(path: string): Promise<void> {
    if (Deno.uid() !== 0) return;
    try {
      const ref = await Deno.stat(dirname(this.dir));
      if (ref.uid !== null && ref.gid !== null) await Deno.chown(path, ref.uid, ref.gid);
    } catch {
      // The C script ignores a failed chown as well.
    }
  }

  /** Creates the directory when missing (init_qnetd_ca()'s "Creating $DB_DIR"). */
  async ensureDir(io: CliIo): Promise<void> {
    if (await exists(this.dir)) return;
    io.out(`Creating ${this.dir}\n`);
    await Deno.mkdir(this.dir, { recursive: true });
    await this.chownRef(this.dir);
    await Deno.chmod(this.dir, this.perm(true));
  }

  /**
   * Writes a new file (never replacing one), owned like the C files. With `chmod`, the mode is
   * set as given (the C script chmods); without, `mode` is the creation mode and the umask
   * applies, as for files the C script creates with a redirection or NSS creates.
   */
  async createFile(
    name: string,
    data: string | Uint8Array,
    mode: number,
    chmod = true,
  ): Promise<void> {
    const path = this.path(name);
    try {
      await writeNew(path, data, mode);
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new CertutilError(`File ${path} already exists; not overwriting it`);
      }
      throw error;
    }
    this.#created.push(path);
    if (chmod) await Deno.chmod(path, mode);
    await this.chownRef(path);
  }

  /** Writes a file as a shell redirection does: replaced in place, or new with 0666 & ~umask. */
  async replaceFile(name: string, data: string): Promise<void> {
    if (await exists(this.path(name))) await Deno.writeTextFile(this.path(name), data);
    else await this.createFile(name, data, 0o666, false);
  }

  /** Reads serial.txt (100 when missing). */
  async readSerial(): Promise<bigint> {
    return parseSerial(await readTextIfExists(this.path(SERIAL_FILE)));
  }

  /** Writes serial.txt; a new one gets get_perm() and the reference owner, as get_serial_no(). */
  async writeSerial(serial: bigint): Promise<void> {
    const path = this.path(SERIAL_FILE);
    if (await exists(path)) {
      await Deno.writeTextFile(path, formatSerial(serial));
    } else {
      await this.createFile(SERIAL_FILE, formatSerial(serial), this.perm());
    }
  }

  /** Removes every file this run created. */
  async rollback(): Promise<void> {
    for (const path of this.#created.splice(0).reverse()) {
      await Deno.remove(path).catch(() => {});
    }
  }

  async hasCa(): Promise<boolean> {
    return await exists(this.path(CA_CERT_FILE)) || await exists(this.path(CA_KEY_FILE));
  }

  async hasNssDb(): Promise<boolean> {
    for (const name of NSS_DB_FILES) if (await exists(this.path(name))) return true;
    return false;
  }
}

/** Creates a file that must not exist yet; `mode` is subject to the umask, as with open(2). */
async function writeNew(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  using file = await Deno.open(path, { write: true, createNew: true, mode });
  let rest = bytes;
  while (rest.length > 0) rest = rest.subarray(await file.write(rest));
}

// ---------------------------------------------------------------------------------------------
// -i

/** Port of init_qnetd_ca(): a new CA and server certificate, and the CA export file. */
async function initCa(files: CertFiles, io: CliIo): Promise<void> {
  if (await files.hasCa() || await files.hasNssDb()) {
    throw new CertutilError(
      `Certificate database (${files.dir}) already exists. Delete it to initialize new db`,
    );
  }
  await files.ensureDir(io);
  io.out("Creating new CA\n");
  const start = await files.readSerial();
  const caSerial = nextSerial(start);
  const serverSerial = nextSerial(caSerial);
  const now = new Date();
  const caKeys = await generateKeyPair();
  const caCert = await createCaCertificate(caKeys, { serial: caSerial, now });
  const serverKeys = await generateKeyPair();
  const serverCert = await createServerCertificate(
    { cert: caCert, key: caKeys.privateKey },
    serverKeys.publicKey,
    { serial: serverSerial, now },
  );
  try {
    await files.createFile(CA_KEY_FILE, await exportPrivateKeyPem(caKeys.privateKey), 0o600);
    await files.createFile(CA_CERT_FILE, caCert.toString("pem") + "\n", files.perm());
    await files.replaceFile(CA_EXPORT_FILE, await formatCaExport(caCert));
    await files.createFile(
      SERVER_KEY_FILE,
      await exportPrivateKeyPem(serverKeys.privateKey),
      SERVER_KEY_MODE,
    );
    await files.createFile(SERVER_CERT_FILE, serverCert.toString("pem") + "\n", files.perm());
    await files.writeSerial(serverSerial);
  } catch (error) {
    await files.rollback();
    throw error;
  }
  io.out(`QNetd CA certificate is exported as ${files.path(CA_EXPORT_FILE)}\n`);
}

// ---------------------------------------------------------------------------------------------
// -s

/** The CA certificate and key, checked to belong together. */
async function loadIssuer(files: CertFiles): Promise<Issuer> {
  const cert = parseCertificateFile(await Deno.readFile(files.path(CA_CERT_FILE)), CA_CERT_FILE);
  const key = await importPrivateKeyPem(
    await Deno.readTextFile(files.path(CA_KEY_FILE)),
    files.path(CA_KEY_FILE),
  );
  if (!(await keyMatchesCertificate(key, cert))) {
    throw new KeyMaterialError(
      `The key in ${files.path(CA_KEY_FILE)} does not belong to ${files.path(CA_CERT_FILE)}`,
    );
  }
  return { cert, key };
}

/** Port of sign_cluster_cert(), failing before anything is written. */
async function signCluster(
  files: CertFiles,
  requestFile: string,
  clusterName: string,
  io: CliIo,
): Promise<void> {
  if (!(await exists(requestFile))) {
    throw new CertutilError(`Can't open certificate file ${requestFile}`, 2);
  }
  if (clusterName === "") throw new CertutilError("You have to specify cluster name", 2);
  if (clusterName.includes("/") || clusterName.includes("\0")) {
    throw new CertutilError(`Cluster name ${clusterName} can't contain '/'`, 2);
  }
  if (!(await exists(files.path(CA_CERT_FILE))) || !(await exists(files.path(CA_KEY_FILE)))) {
    const hint = await files.hasNssDb()
      ? `. It holds an NSS database: convert it with ${PROGRAM} --import-nssdb ${files.dir}`
      : "";
    throw new CertutilError(
      `Certificate database doesn't exists. Use ${PROGRAM} -i to create it${hint}`,
    );
  }
  io.out("Signing cluster certificate\n");
  const issuer = await loadIssuer(files);
  const request = await parseCertificateRequest(await Deno.readFile(requestFile), requestFile);
  const previous = await files.readSerial();
  const serial = nextSerial(previous);
  const cert = await signCertificateRequest(issuer, request, { serial, now: new Date() });

  // Write to a temporary name, then the serial, then rename: a failure at any step leaves
  // neither a certificate nor a used-up serial number.
  const target = files.path(clusterCertFile(clusterName));
  const temp = files.path(`.${clusterCertFile(clusterName)}.${crypto.randomUUID()}.tmp`);
  const hadSerial = await exists(files.path(SERIAL_FILE));
  try {
    await writeNew(temp, new Uint8Array(cert.rawData), 0o660); // certutil -o: 0660 & ~umask
  } catch (error) {
    throw new CertutilError(`Cannot write ${target}: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  try {
    await files.chownRef(temp);
    await files.writeSerial(serial);
    await Deno.rename(temp, target);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    if (hadSerial) {
      await Deno.writeTextFile(files.path(SERIAL_FILE), formatSerial(previous)).catch(() => {});
    }
    await files.rollback();
    throw new CertutilError(`Cannot write ${target}: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  io.out(`Certificate stored in ${target}\n`);
}

// ---------------------------------------------------------------------------------------------
// --list

/** Lists the CA, the server and the cluster certificates found in the directory. */
async function listCertificates(files: CertFiles, io: CliIo): Promise<number> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(files.dir)) {
      if (entry.isFile && clusterNameOfFile(entry.name) !== undefined) names.push(entry.name);
    }
  } catch (error) {
    throw new CertutilError(`Cannot read ${files.dir}: ${(error as Error).message}`);
  }
  names.sort();
  const rows: string[][] = [["FILE", "SUBJECT", "SERIAL", "NOT AFTER"]];
  let status = 0;
  for (const name of [CA_CERT_FILE, SERVER_CERT_FILE, ...names]) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(files.path(name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && !name.startsWith("cluster-")) continue;
      throw error;
    }
    try {
      const cert = parseCertificateFile(bytes, name);
      rows.push([
        name,
        cert.subject,
        String(serialFromHex(cert.serialNumber)),
        cert.notAfter.toISOString().replace(".000Z", "Z"),
      ]);
    } catch (error) {
      io.err(`${(error as Error).message}\n`);
      status = 1;
    }
  }
  if (rows.length === 1) {
    io.out(`No certificates in ${files.dir}\n`);
    return status;
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  for (const row of rows) {
    io.out(
      row.map((cell, col) => col === row.length - 1 ? cell : cell.padEnd(widths[col]!)).join("  ") +
        "\n",
    );
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// --import-nssdb

const TOOL_PACKAGES = new Map<string, string>([
  ["certutil", "libnss3-tools (Debian/Ubuntu) or nss-tools (Fedora/RHEL/SUSE: mozilla-nss-tools)"],
  ["pk12util", "libnss3-tools (Debian/Ubuntu) or nss-tools (Fedora/RHEL/SUSE: mozilla-nss-tools)"],
  ["openssl", "openssl"],
]);

/** Runs an external tool; its stdout on success, a clear error otherwise. */
async function runTool(command: string, args: string[]): Promise<Uint8Array<ArrayBuffer>> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CertutilError(
        `${command} is needed to read an NSS database but is not installed: ` +
          `install the package ${TOOL_PACKAGES.get(command) ?? command}`,
        1,
        { cause: error },
      );
    }
    throw error;
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new CertutilError(`${command} ${args.join(" ")} failed: ${stderr}`);
  }
  return output.stdout;
}

/** The private key of an NSS nickname, through a password-less PKCS#12 file and openssl. */
async function exportNssKey(nssDir: string, nickname: string, tempDir: string): Promise<string> {
  const p12 = `${tempDir}/key.p12`;
  const pwdFile = `${nssDir}/pwdfile.txt`;
  const dbPassword = (await exists(pwdFile)) ? ["-k", pwdFile] : ["-K", ""];
  await runTool("pk12util", ["-o", p12, "-d", nssDir, "-n", nickname, "-W", "", ...dbPassword]);
  try {
    const base = ["pkcs12", "-in", p12, "-passin", "pass:", "-nocerts", "-nodes"];
    try {
      return new TextDecoder().decode(await runTool("openssl", base));
    } catch {
      // Older NSS writes RC2/3DES PKCS#12 files, which OpenSSL 3 reads only with -legacy.
      return new TextDecoder().decode(await runTool("openssl", [...base, "-legacy"]));
    }
  } finally {
    await Deno.remove(p12).catch(() => {});
  }
}

/**
 * Converts the NSS database of corosync-qnetd-certutil (section 4 of the reference) into our
 * files: the CA and server certificates and keys, serial.txt, qnetd-cacert.crt and the
 * cluster-*.crt already signed. Certificates signed later chain to the same CA, so the nodes
 * keep working.
 */
async function importNssDb(files: CertFiles, nssDir: string, io: CliIo): Promise<void> {
  const nss = new CertFiles(nssDir, files.groupWrite);
  if (!(await nss.hasNssDb())) {
    throw new CertutilError(`Can't find an NSS certificate database in ${nssDir}`);
  }
  if (await files.hasCa()) {
    throw new CertutilError(
      `QNet CA already exists in ${files.dir} (${CA_CERT_FILE}). Delete it to import ${nssDir}`,
    );
  }
  const tempDir = await Deno.makeTempDir({ prefix: "qnet-certutil-" });
  let caKeyPem: string, serverKeyPem: string;
  let caCertBytes: Uint8Array<ArrayBuffer>, serverCertBytes: Uint8Array<ArrayBuffer>;
  try {
    io.out(`Exporting ${NSS_CA_NICKNAME} from ${nssDir}\n`);
    caCertBytes = await runTool("certutil", ["-L", "-d", nssDir, "-n", NSS_CA_NICKNAME, "-a"]);
    caKeyPem = await exportNssKey(nssDir, NSS_CA_NICKNAME, tempDir);
    io.out(`Exporting ${NSS_SERVER_NICKNAME} from ${nssDir}\n`);
    serverCertBytes = await runTool("certutil", [
      "-L",
      "-d",
      nssDir,
      "-n",
      NSS_SERVER_NICKNAME,
      "-a",
    ]);
    serverKeyPem = await exportNssKey(nssDir, NSS_SERVER_NICKNAME, tempDir);
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }

  const caCert = parseCertificateFile(caCertBytes, `${nssDir} (${NSS_CA_NICKNAME})`);
  const caKey = await importPrivateKeyPem(caKeyPem, `${nssDir} (${NSS_CA_NICKNAME})`);
  const serverCert = parseCertificateFile(serverCertBytes, `${nssDir} (${NSS_SERVER_NICKNAME})`);
  const serverKey = await importPrivateKeyPem(serverKeyPem, `${nssDir} (${NSS_SERVER_NICKNAME})`);
  if (!(await keyMatchesCertificate(caKey, caCert))) {
    throw new KeyMaterialError(
      `The ${NSS_CA_NICKNAME} key in ${nssDir} does not match its certificate`,
    );
  }
  if (!(await keyMatchesCertificate(serverKey, serverCert))) {
    throw new KeyMaterialError(
      `The ${NSS_SERVER_NICKNAME} key in ${nssDir} does not match its certificate`,
    );
  }
  if (!(await serverCert.verify({ publicKey: caCert.publicKey, signatureOnly: true }))) {
    throw new KeyMaterialError(
      `${NSS_SERVER_NICKNAME} in ${nssDir} is not signed by ${NSS_CA_NICKNAME}`,
    );
  }

  // Cluster certificates already issued, to copy them and to never reuse their serials.
  const clusterFiles = new Map<string, Uint8Array<ArrayBuffer>>();
  let highest = [caCert, serverCert].map((c) => serialFromHex(c.serialNumber))
    .reduce((a, b) => (a > b ? a : b));
  for await (const entry of Deno.readDir(nssDir)) {
    if (!entry.isFile || clusterNameOfFile(entry.name) === undefined) continue;
    const bytes = await Deno.readFile(nss.path(entry.name));
    try {
      const serial = serialFromHex(parseCertificateFile(bytes, entry.name).serialNumber);
      if (serial > highest) highest = serial;
      clusterFiles.set(entry.name, bytes);
    } catch {
      // The C `-s` leaves an empty .crt when NSS rejects a request: not worth copying.
      io.out(`Skipping ${nss.path(entry.name)}: not a certificate\n`);
    }
  }
  const counted = await nss.readSerial().catch(() => undefined);
  const serial = counted !== undefined && counted > highest ? counted : highest;

  await files.ensureDir(io);
  const sameDir = await exists(files.path(CA_EXPORT_FILE)) &&
    (await Deno.realPath(files.dir)) === (await Deno.realPath(nssDir));
  try {
    await files.createFile(CA_KEY_FILE, await exportPrivateKeyPem(caKey), 0o600);
    await files.createFile(CA_CERT_FILE, caCert.toString("pem") + "\n", files.perm());
    await files.createFile(SERVER_KEY_FILE, await exportPrivateKeyPem(serverKey), SERVER_KEY_MODE);
    await files.createFile(SERVER_CERT_FILE, serverCert.toString("pem") + "\n", files.perm());
    if (!sameDir) {
      if (!(await exists(files.path(CA_EXPORT_FILE)))) {
        await files.replaceFile(CA_EXPORT_FILE, await formatCaExport(caCert));
      }
      for (const [name, bytes] of clusterFiles) {
        if (!(await exists(files.path(name)))) {
          await files.createFile(name, bytes, 0o660, false);
        }
      }
    }
    await files.writeSerial(serial);
  } catch (error) {
    await files.rollback();
    throw error;
  }
  io.out(
    `Stored ${CA_CERT_FILE}, ${CA_KEY_FILE}, ${SERVER_CERT_FILE} and ${SERVER_KEY_FILE} ` +
      `in ${files.dir}; next serial number is ${nextSerial(serial)}\n`,
  );
}
