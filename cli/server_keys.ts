/**
 * The daemon's one way to its key material, at start and on SIGHUP: an NSS database in
 * `nss_db_dir` (`cert9.db` + `key4.db`, as corosync-qnetd-certutil and `qnet certutil -i`
 * write it), else the PEM files earlier qnet versions wrote there (tls_files.ts). When both
 * are present the database wins: it is what the C daemon would read from the same directory,
 * so "stop one, start the other" serves the same certificate.
 *
 * @module
 */
import type { ServerKeyMaterial } from "../net/tls_server.ts";
import { CERT_DB_FILE, KEY_DB_FILE, LEGACY_CERT_DB_FILE, readNssDb } from "./nss_db_files.ts";
import { KeyLoadError, readPemKeyMaterial, serverKeyFiles } from "./tls_files.ts";

/** Which kind of key directory `dir` is. */
export type KeySource = "nssdb" | "pem" | "legacy-nssdb" | "none";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return false;
  }
}

/** What {@link loadServerKeyMaterial} would read from `dir`. */
export function keySourceOf(dir: string, nickname: string): KeySource {
  if (isFile(`${dir}/${CERT_DB_FILE}`)) return "nssdb";
  if (isFile(serverKeyFiles(dir, nickname).certFile)) return "pem";
  if (isFile(`${dir}/${LEGACY_CERT_DB_FILE}`)) return "legacy-nssdb";
  return "none";
}

/** Key material and where it was read from. */
export interface LoadedKeys {
  readonly keys: ServerKeyMaterial;
  readonly source: KeySource;
}

/**
 * Reads the server certificate (by `nickname`), its key and the trusted CAs from `dir`.
 *
 * @throws {KeyLoadError | NssDbError} one line naming the file and what to do.
 */
export async function loadServerKeyMaterial(dir: string, nickname: string): Promise<LoadedKeys> {
  const source = keySourceOf(dir, nickname);
  switch (source) {
    case "nssdb":
      return { keys: await readNssKeyMaterial(dir, nickname), source };
    case "pem":
      return { keys: await readPemKeyMaterial(dir, nickname), source };
    case "legacy-nssdb":
      // The database reader refuses it with its own line (NssDbError, kind "legacy").
      return { keys: await readNssKeyMaterial(dir, nickname), source };
    case "none": {
      const file = serverKeyFiles(dir, nickname).certFile;
      throw new KeyLoadError(
        `${dir} holds no key material (neither ${CERT_DB_FILE} nor ${file}): ` +
          `create it with 'qnet certutil -i' or set nss_db_dir`,
        file,
      );
    }
  }
}

/**
 * The server certificate `nickname`, its key and the trusted CAs of the NSS database in `dir`
 * (cli/nss_db_files.ts).
 *
 * @throws {NssDbError} one line naming the file (legacy, password, nickname, corrupt, missing).
 */
async function readNssKeyMaterial(dir: string, nickname: string): Promise<ServerKeyMaterial> {
  const db = await readNssDb(dir, nickname);
  return {
    certChainDer: [db.certDer],
    keyDer: db.keyPkcs8Der,
    caCertsDer: db.caCertsDer,
    origin: {
      cert: `${dir}/${CERT_DB_FILE} (nickname '${nickname}')`,
      key: `${dir}/${KEY_DB_FILE}`,
      ca: `${dir}/${CERT_DB_FILE} (trusted CAs)`,
    },
  };
}
