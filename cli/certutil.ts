/**
 * `qnet certutil`: the QNet CA, with the interface and the files of corosync-qnetd-certutil
 * (v3.0.3, qdevices/corosync-qnetd-certutil.sh): a real NSS database that NSS's own tools, the
 * C daemon and ours read, written without NSS (core/nssdb, cli/nss_db_files.ts).
 *
 *   -i               make the NSS database with the CA (`QNet CA`, `CN=QNet CA`, serial 101,
 *                    trust `CT,,`) and the server certificate (`QNetd Cert`, `CN=Qnetd Server`,
 *                    102), export the CA as `qnetd-cacert.crt`
 *   -s -c CSR -n CL  sign a node's DER request into `cluster-CL.crt` (DER) with the CA key from
 *                    the database
 *   -G               no group write bit on new files;   -h  usage
 *   -d DIR           the directory (default /etc/corosync/qnetd/nssdb, as C)
 *   --list           the CA, server and cluster certificates with serial and expiry
 *   --export-pem D   the CA and server certificates and keys as PEM files in D
 *   --import-nssdb   retired: the database is read in place
 *
 * A directory of PEM files written by an earlier qnet version (`qnet-ca.pem`, ...) keeps
 * working for -s and --list; when both are present, the NSS database wins. Messages, exit codes,
 * file names, modes and ownership follow the C script. Unlike it, a bad request fails before a
 * serial number is used and leaves no file behind.
 *
 * @module
 */
import type { CliIo } from "./io.ts";
import { type ArgsSpec, type ArgsStop, type GetoptError, parseOptions } from "./getopt.ts";
import {
  CA_CERT_FILE,
  CA_EXPORT_FILE,
  CA_KEY_FILE,
  clusterCertFile,
  clusterNameOfFile,
  DEFAULT_CERT_DIR,
  NOISE_FILE,
  NSS_CA_NICKNAME,
  NSS_DB_FILES,
  NSS_SERVER_NICKNAME,
  PWD_FILE,
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
  RSA_SIGNING,
} from "../core/certs/keys.ts";
import { parseCertificateRequest } from "../core/certs/request.ts";
import { formatSerial, nextSerial, parseSerial, serialFromHex } from "../core/certs/serial.ts";
import {
  CertificateRequestError,
  KeyMaterialError,
  SerialFileError,
} from "../core/certs/errors.ts";
import { dirname } from "../core/path.ts";
import {
  addCertificate,
  addPrivateKey,
  CERT_DB_FILE,
  createNssDb,
  KEY_DB_FILE,
  LEGACY_CERT_DB_FILE,
  listNssCertificates,
  NssDbError,
  PKCS11_FILE,
  readNssDb,
} from "./nss_db_files.ts";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const PROGRAM = "qnet certutil";

/** Exit statuses of the C script: 0 done, 1 failed, 2 a bad `-s` request (file or name). */
export const CertutilExit = {
  Success: 0,
  Failure: 1,
  BadRequest: 2,
} as const;

const USAGE = `${PROGRAM}: [-i|-s] [-c certificate] [-G] [-n cluster_name]

 -i                  Initialize QNetd CA and generate server certificate
 -s                  Sign cluster certificate (needs cluster certificate)
 -c certificate      CRQ certificate file name
 -G                  Do not set group write bit for new files
 -n cluster_name     Name of cluster (for -s operation)
 -d directory        Directory of the NSS database (default ${DEFAULT_CERT_DIR})
 --list              List CA, server and cluster certificates with serial number and expiry
 --export-pem dir    Write the CA and server certificates and keys as PEM files into dir
`;

/** Trust flags the C script gives the CA (`certutil -S -t "CT,,"`) and the server certificate. */
const CA_TRUST = "CT,,";
const SERVER_TRUST = "u,u,u";

/** Mode of an exported CA key: only for the user running certutil (root). */
const CA_KEY_MODE = 0o600;
/**
 * Mode of an exported server key: the daemon runs as the directory's group (coroqnetd), so it
 * is group-readable as key4.db is (0660/0640), never group-writable nor readable by others.
 */
const SERVER_KEY_MODE = 0o640;

/** A failure the CLI reports as one message and an exit code. */
class CertutilError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = CertutilExit.Failure,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CertutilError";
  }
}

type Operation = "init" | "sign" | "list" | "export" | "import";

interface Options {
  operation?: Operation;
  certificateFile: string;
  clusterName: string;
  groupWrite: boolean;
  dir: string;
  target: string;
}

/** A bad option's message in the C script's words (the `\?` and `:` cases of its getopts). */
function optionError(error: GetoptError): ArgsStop {
  const name = error.optopt.startsWith("--") ? error.optopt : `-${error.optopt}`;
  return {
    exitCode: CertutilExit.Failure,
    stderr: error.opt === ":"
      ? `Option ${name} requires an argument.\n`
      : `Invalid option: ${name}\n`,
  };
}

const HELP: ArgsStop = { exitCode: CertutilExit.Success, stdout: USAGE };

/**
 * The command line: `getopts ":Ghisc:n:"` of the C script (POSIX order: options stop at the
 * first operand; silent: the script words its own errors), plus `-d` and the long options.
 */
export const CERTUTIL_ARGS: ArgsSpec<Options> = {
  programName: PROGRAM,
  order: "require-order",
  silent: true,
  unrecognizedLong: "error",
  defaults: () => ({
    certificateFile: "",
    clusterName: "",
    groupWrite: true,
    dir: DEFAULT_CERT_DIR,
    target: "",
  }),
  options: [
    { flag: "G", set: { groupWrite: false } },
    { flag: "h", stop: HELP },
    { flag: "i", set: { operation: "init" } },
    { flag: "s", set: { operation: "sign" } },
    { flag: "c", arg: "certificate", store: "certificateFile" },
    { flag: "n", arg: "cluster_name", store: "clusterName" },
    { flag: "d", arg: "directory", store: "dir" },
    { flag: "--help", stop: HELP },
    { flag: "--list", set: { operation: "list" } },
    { flag: "--export-pem", arg: "dir", set: { operation: "export" }, store: "target" },
    { flag: "--import-nssdb", arg: "dir", set: { operation: "import" }, store: "target" },
  ],
  onError: optionError,
};

/** Runs `qnet certutil` (port of the main part of corosync-qnetd-certutil.sh). */
export async function main(args: string[], io: CliIo): Promise<number> {
  const result = parseOptions(args, CERTUTIL_ARGS);
  if (!result.ok) {
    if (result.stderr !== "") io.err(result.stderr);
    if (result.stdout !== "") io.out(result.stdout);
    return result.exitCode;
  }
  const parsed = result.options;
  const files = new CertFiles(parsed.dir, parsed.groupWrite);
  try {
    switch (parsed.operation) {
      case "init":
        await initCa(files, io);
        return CertutilExit.Success;
      case "sign":
        await signCluster(files, parsed.certificateFile, parsed.clusterName, io);
        return CertutilExit.Success;
      case "export":
        await exportPem(files, parsed.target, io);
        return CertutilExit.Success;
      case "import":
        io.out(
          `--import-nssdb is no longer needed: qnet reads the NSS database ` +
            `(${CERT_DB_FILE}, ${KEY_DB_FILE}) in ${parsed.target} in place; ` +
            `point nss_db_dir at it. Nothing was changed.\n`,
        );
        return CertutilExit.Success;
      case "list":
        return await listCertificates(files, io);
      default:
        io.out(USAGE);
        return CertutilExit.Success;
    }
  } catch (error) {
    if (error instanceof CertutilError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    if (
      error instanceof CertificateRequestError || error instanceof KeyMaterialError ||
      error instanceof SerialFileError || error instanceof NssDbError
    ) {
      io.err(`${error.message}\n`);
      return CertutilExit.Failure;
    }
    if (isDenoError(error)) {
      io.err(`${error.message}\n`);
      return CertutilExit.Failure;
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
 * or 0640 with -G) and, when run as root, the owner and group of the directory's parent
 * (chown_ref_cfgdir(), `chown --reference=$CONFIG_DIR`). Files created by a failed operation
 * are removed again by {@link CertFiles.rollback}.
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

  /** Records a file this run created (removed again by rollback()). */
  created(path: string): void {
    this.#created.push(path);
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

  /** get_serial_no(): the next serial number, counted in serial.txt. */
  async takeSerial(): Promise<bigint> {
    const serial = nextSerial(await this.readSerial());
    await this.writeSerial(serial);
    return serial;
  }

  /** Removes every file this run created. */
  async rollback(): Promise<void> {
    for (const path of this.#created.splice(0).reverse()) {
      await Deno.remove(path).catch(() => {});
    }
  }

  /** A CA in PEM files, as earlier qnet versions wrote it. */
  async hasPemCa(): Promise<boolean> {
    return await exists(this.path(CA_CERT_FILE)) || await exists(this.path(CA_KEY_FILE));
  }

  /** find_certdb_files() of the C script: cert9.db or the legacy cert8.db. */
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

/** The noise file's content: the C script hashes `ps -elf; date; w` with sha1sum. */
async function noise(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", crypto.getRandomValues(new Uint8Array(64)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("") +
    "\n";
}

async function pkcs8Of(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
}

/** Port of init_qnetd_ca(): the NSS database, the CA and server certificate, the CA export. */
async function initCa(files: CertFiles, io: CliIo): Promise<void> {
  if (await files.hasNssDb() || await files.hasPemCa()) {
    throw new CertutilError(
      `Certificate database (${files.dir}) already exists. Delete it to initialize new db`,
    );
  }
  await files.ensureDir(io);
  try {
    io.out("Creating new key and cert db\n");
    await files.replaceFile(PWD_FILE, "");
    await Deno.chmod(files.path(PWD_FILE), files.perm());
    await createNssDb(files.dir);
    for (const name of [CERT_DB_FILE, KEY_DB_FILE, PKCS11_FILE]) {
      files.created(files.path(name));
      await files.chownRef(files.path(name));
      await Deno.chmod(files.path(name), files.perm());
    }
    if (await exists(files.path(NOISE_FILE))) {
      io.out(`Using existing noise file ${files.path(NOISE_FILE)}\n`);
    } else {
      io.out(`Creating new noise file ${files.path(NOISE_FILE)}\n`);
      await files.createFile(NOISE_FILE, await noise(), files.perm());
    }

    io.out("Creating new CA\n");
    const now = new Date();
    const caKeys = await generateKeyPair();
    const caCert = await createCaCertificate(caKeys, { serial: await files.takeSerial(), now });
    await addPrivateKey(files.dir, await pkcs8Of(caKeys.privateKey));
    await addCertificate(files.dir, NSS_CA_NICKNAME, new Uint8Array(caCert.rawData), CA_TRUST);
    await files.replaceFile(CA_EXPORT_FILE, await formatCaExport(caCert));

    const serverKeys = await generateKeyPair();
    const serverCert = await createServerCertificate(
      { cert: caCert, key: caKeys.privateKey },
      serverKeys.publicKey,
      { serial: await files.takeSerial(), now },
    );
    await addPrivateKey(files.dir, await pkcs8Of(serverKeys.privateKey));
    await addCertificate(
      files.dir,
      NSS_SERVER_NICKNAME,
      new Uint8Array(serverCert.rawData),
      SERVER_TRUST,
    );
  } catch (error) {
    await files.rollback();
    throw error;
  }
  io.out(`QNetd CA certificate is exported as ${files.path(CA_EXPORT_FILE)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The CA and server key material, from the NSS database or from PEM files of earlier versions

/** A certificate with its private key. */
interface KeyPair {
  cert: x509.X509Certificate;
  key: CryptoKey;
  /** Where it came from, for messages. */
  source: string;
}

async function importPkcs8(der: Uint8Array, what: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("pkcs8", new Uint8Array(der), RSA_SIGNING, true, [
      "sign",
    ]);
  } catch (cause) {
    throw new KeyMaterialError(`Cannot read the RSA private key of ${what}`, { cause });
  }
}

/** The certificate and key of `nickname` from the NSS database. */
async function fromNssDb(files: CertFiles, nickname: string): Promise<KeyPair> {
  const material = await readNssDb(files.dir, nickname);
  const source = `${files.path(CERT_DB_FILE)} (${nickname})`;
  return {
    cert: new x509.X509Certificate(new Uint8Array(material.certDer)),
    key: await importPkcs8(material.keyPkcs8Der, source),
    source,
  };
}

/** A certificate and key from the PEM files of an earlier qnet version. */
async function fromPem(files: CertFiles, certFile: string, keyFile: string): Promise<KeyPair> {
  const cert = parseCertificateFile(await Deno.readFile(files.path(certFile)), certFile);
  const key = await importPrivateKeyPem(
    await Deno.readTextFile(files.path(keyFile)),
    files.path(keyFile),
  );
  if (!(await keyMatchesCertificate(key, cert))) {
    throw new KeyMaterialError(
      `The key in ${files.path(keyFile)} does not belong to ${files.path(certFile)}`,
    );
  }
  return { cert, key, source: files.path(certFile) };
}

/**
 * The CA (or, with `server`, the server certificate) of the directory: from the NSS database
 * when there is one, else from PEM files; a CertutilError saying how to make one otherwise.
 */
async function loadKeyPair(files: CertFiles, server = false): Promise<KeyPair> {
  if (await exists(files.path(CERT_DB_FILE))) {
    return await fromNssDb(files, server ? NSS_SERVER_NICKNAME : NSS_CA_NICKNAME);
  }
  if (await files.hasPemCa()) {
    return server
      ? await fromPem(files, SERVER_CERT_FILE, SERVER_KEY_FILE)
      : await fromPem(files, CA_CERT_FILE, CA_KEY_FILE);
  }
  if (await exists(files.path(LEGACY_CERT_DB_FILE))) {
    // readNssDb names the legacy database and the conversion.
    await readNssDb(files.dir, NSS_CA_NICKNAME);
  }
  throw new CertutilError(
    `Certificate database doesn't exists. Use ${PROGRAM} -i to create it`,
  );
}

// ---------------------------------------------------------------------------------------------
// -s

/** Port of sign_cluster_cert(), failing before anything is written. */
async function signCluster(
  files: CertFiles,
  requestFile: string,
  clusterName: string,
  io: CliIo,
): Promise<void> {
  if (!(await exists(requestFile))) {
    throw new CertutilError(`Can't open certificate file ${requestFile}`, CertutilExit.BadRequest);
  }
  if (clusterName === "") {
    throw new CertutilError("You have to specify cluster name", CertutilExit.BadRequest);
  }
  if (clusterName.includes("/") || clusterName.includes("\0")) {
    throw new CertutilError(
      `Cluster name ${clusterName} can't contain '/'`,
      CertutilExit.BadRequest,
    );
  }
  if (!(await files.hasNssDb()) && !(await files.hasPemCa())) {
    throw new CertutilError(
      `Certificate database doesn't exists. Use ${PROGRAM} -i to create it`,
    );
  }
  io.out("Signing cluster certificate\n");
  const ca = await loadKeyPair(files);
  const issuer: Issuer = { cert: ca.cert, key: ca.key };
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
    throw new CertutilError(
      `Cannot write ${target}: ${(error as Error).message}`,
      CertutilExit.Failure,
      { cause: error },
    );
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
    throw new CertutilError(
      `Cannot write ${target}: ${(error as Error).message}`,
      CertutilExit.Failure,
      { cause: error },
    );
  }
  io.out(`Certificate stored in ${target}\n`);
}

// ---------------------------------------------------------------------------------------------
// --export-pem

/**
 * Writes the CA and server certificates and keys as PEM files (the names earlier qnet versions
 * used) into `target`, for tools that do not read NSS databases. Never overwrites a file.
 */
async function exportPem(files: CertFiles, target: string, io: CliIo): Promise<void> {
  const ca = await loadKeyPair(files);
  const server = await loadKeyPair(files, true);
  const out = new CertFiles(target, files.groupWrite);
  await out.ensureDir(io);
  try {
    await out.createFile(CA_CERT_FILE, ca.cert.toString("pem") + "\n", out.perm());
    await out.createFile(CA_KEY_FILE, await exportPrivateKeyPem(ca.key), CA_KEY_MODE);
    await out.createFile(SERVER_CERT_FILE, server.cert.toString("pem") + "\n", out.perm());
    await out.createFile(SERVER_KEY_FILE, await exportPrivateKeyPem(server.key), SERVER_KEY_MODE);
  } catch (error) {
    await out.rollback();
    throw error;
  }
  io.out(
    `Exported ${NSS_CA_NICKNAME} and ${NSS_SERVER_NICKNAME} from ${ca.source.split(" (")[0]} ` +
      `as ${CA_CERT_FILE}, ${CA_KEY_FILE}, ${SERVER_CERT_FILE} and ${SERVER_KEY_FILE} in ` +
      `${target}\n`,
  );
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
  const row = (name: string, cert: x509.X509Certificate) =>
    rows.push([
      name,
      cert.subject,
      String(serialFromHex(cert.serialNumber)),
      cert.notAfter.toISOString().replace(".000Z", "Z"),
    ]);
  let status: number = CertutilExit.Success;
  if (await exists(files.path(CERT_DB_FILE))) {
    for (const entry of await listNssCertificates(files.dir)) {
      row(`${CERT_DB_FILE}:${entry.nickname}`, new x509.X509Certificate(entry.der));
    }
  }
  const pem = await files.hasPemCa() ? [CA_CERT_FILE, SERVER_CERT_FILE] : [];
  for (const name of [...pem, ...names]) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(files.path(name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && !name.startsWith("cluster-")) continue;
      throw error;
    }
    try {
      row(name, parseCertificateFile(bytes, name));
    } catch (error) {
      io.err(`${(error as Error).message}\n`);
      status = CertutilExit.Failure;
    }
  }
  if (rows.length === 1) {
    io.out(`No certificates in ${files.dir}\n`);
    return status;
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  for (const r of rows) {
    io.out(
      r.map((cell, col) => col === r.length - 1 ? cell : cell.padEnd(widths[col]!)).join("  ") +
        "\n",
    );
  }
  return status;
}
