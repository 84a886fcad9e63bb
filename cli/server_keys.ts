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
import { KeyLoadError, readPemKeyMaterial, serverKeyFiles } from "./tls_files.ts";

/** NSS database files (SQL format, then the legacy DBM format). */
export const NSS_SQL_CERT_DB = "cert9.db";
export const NSS_LEGACY_CERT_DB = "cert8.db";

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
  // Until the NSS database reader is merged, PEM files next to a database still win (the
  // `--import-nssdb` migration leaves both in one directory).
  if (isFile(serverKeyFiles(dir, nickname).certFile)) return "pem";
  if (isFile(`${dir}/${NSS_SQL_CERT_DB}`)) return "nssdb";
  if (isFile(`${dir}/${NSS_LEGACY_CERT_DB}`)) return "legacy-nssdb";
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
 * @throws {KeyLoadError} one line naming the file and what to do.
 */
export async function loadServerKeyMaterial(dir: string, nickname: string): Promise<LoadedKeys> {
  const source = keySourceOf(dir, nickname);
  switch (source) {
    case "nssdb":
      return { keys: await readNssKeyMaterial(dir, nickname), source };
    case "pem":
      return { keys: await readPemKeyMaterial(dir, nickname), source };
    case "legacy-nssdb": {
      const file = `${dir}/${NSS_LEGACY_CERT_DB}`;
      throw new KeyLoadError(
        `${file} is a legacy (DBM) NSS database, which qnet does not read: convert it to the ` +
          `SQL format (cert9.db) with NSS's tools, e.g. 'certutil -N -d sql:${dir} ` +
          `-f ${dir}/pwdfile.txt' on a copy, or re-create the directory with 'qnet certutil -i'`,
        file,
      );
    }
    case "none": {
      const file = serverKeyFiles(dir, nickname).certFile;
      throw new KeyLoadError(
        `${dir} holds no key material (neither ${NSS_SQL_CERT_DB} nor ${file}): ` +
          `create it with 'qnet certutil -i' or set nss_db_dir`,
        file,
      );
    }
  }
}

/** Until the NSS database reader lands: a clear refusal naming the file. */
function readNssKeyMaterial(dir: string, _nickname: string): Promise<ServerKeyMaterial> {
  const file = `${dir}/${NSS_SQL_CERT_DB}`;
  return Promise.reject(
    new KeyLoadError(`${file}: reading an NSS database is not supported yet`, file),
  );
}
