/**
 * NSS SQL databases on disk (cert9.db, key4.db, pkcs11.txt), read and written with
 * `node:sqlite`; the format itself is in core/nssdb/. Reading opens the files read-only.
 *
 *   readNssDb(dir, nickname)   the server certificate, its key and the trusted CAs
 *
 * Every failure is an {@link NssDbError}: a `kind`, the file, and one line saying what to do.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  columnType,
  META_TABLE,
  type NssObject,
  PRIVATE_TABLE,
  PUBLIC_TABLE,
  storedValue,
} from "../core/nssdb/attributes.ts";
import { NssDbError } from "../core/nssdb/errors.ts";
import {
  type MetaEntry,
  type NssDbContent,
  type ServerKeyMaterial,
  serverKeyMaterial,
} from "../core/nssdb/read.ts";

export { NssDbError };
export type { NssDbErrorKind } from "../core/nssdb/errors.ts";
export type { ServerKeyMaterial };

/** The certificate database of the SQL format. */
export const CERT_DB_FILE = "cert9.db";
/** The key database of the SQL format. */
export const KEY_DB_FILE = "key4.db";
/** The module list NSS writes next to the SQL databases. */
export const PKCS11_FILE = "pkcs11.txt";
/** The legacy (Berkeley DB) certificate database, which this reader does not read. */
export const LEGACY_CERT_DB_FILE = "cert8.db";
/** The legacy key database. */
export const LEGACY_KEY_DB_FILE = "key3.db";
/** The nickname of the server certificate corosync-qnetd-certutil makes (cert_nickname). */
export const DEFAULT_SERVER_NICKNAME = "QNetd Cert";

/** At most this many objects per table: the databases qnet reads hold a handful. */
export const MAX_OBJECTS = 10_000;
/** At most this many metaData entries (a few signatures per object). */
export const MAX_META_ENTRIES = 20 * MAX_OBJECTS;
/** Largest attribute value read (a certificate or an encrypted RSA number is far smaller). */
export const MAX_VALUE_BYTES = 64 * 1024;

const FIX = "restore it from a backup or create the database again (qnet certutil -i)";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function corrupt(path: string, what: string, cause?: unknown): NssDbError {
  return new NssDbError(
    "corrupt",
    path,
    `${path} ${what}; ${FIX}`,
    cause === undefined ? undefined : { cause },
  );
}

/** A SQLite value as bytes, within the size bound. */
function blob(path: string, value: unknown, where: string): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) throw corrupt(path, `holds a non-BLOB value in ${where}`);
  if (value.length > MAX_VALUE_BYTES) {
    throw corrupt(
      path,
      `holds a ${value.length}-byte value in ${where} (limit ${MAX_VALUE_BYTES})`,
    );
  }
  return value;
}

function openReadOnly(path: string): DatabaseSync {
  try {
    return new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw corrupt(path, `cannot be opened as SQLite (${(error as Error).message})`, error);
  }
}

function readObjects(db: DatabaseSync, path: string, table: string): NssObject[] {
  let rows: Record<string, unknown>[];
  try {
    rows = db.prepare(`SELECT * FROM ${table} LIMIT ${MAX_OBJECTS + 1}`).all() as Record<
      string,
      unknown
    >[];
  } catch (error) {
    throw corrupt(path, `is not an NSS database (${(error as Error).message})`, error);
  }
  if (rows.length > MAX_OBJECTS) throw corrupt(path, `holds more than ${MAX_OBJECTS} objects`);
  return rows.map((row) => {
    const id = row["id"];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw corrupt(path, `holds an object with a bad id in ${table}`);
    }
    const attributes = new Map<number, Uint8Array>();
    for (const [column, value] of Object.entries(row)) {
      const type = columnType(column);
      if (type === undefined) continue;
      const bytes = blob(path, value, `${table}.${column}`);
      if (bytes !== undefined) attributes.set(type, storedValue(bytes));
    }
    return { id, attributes };
  });
}

function readMeta(db: DatabaseSync, path: string): Map<string, MetaEntry> {
  let rows: Record<string, unknown>[];
  try {
    rows = db.prepare(`SELECT id, item1, item2 FROM ${META_TABLE} LIMIT ${MAX_META_ENTRIES + 1}`)
      .all() as Record<string, unknown>[];
  } catch (error) {
    throw corrupt(path, `is not an NSS key database (${(error as Error).message})`, error);
  }
  if (rows.length > MAX_META_ENTRIES) {
    throw corrupt(path, `holds more than ${MAX_META_ENTRIES} metaData entries`);
  }
  const meta = new Map<string, MetaEntry>();
  for (const row of rows) {
    const id = row["id"];
    if (typeof id !== "string") continue;
    const item1 = blob(path, row["item1"], `${META_TABLE}.item1`);
    if (item1 === undefined) continue;
    meta.set(id, { item1, item2: blob(path, row["item2"], `${META_TABLE}.item2`) });
  }
  return meta;
}

/** Reads both databases of `dir` into memory (read-only); the files are closed again. */
export async function loadNssDb(dir: string): Promise<NssDbContent> {
  const certFile = `${dir}/${CERT_DB_FILE}`;
  const keyFile = `${dir}/${KEY_DB_FILE}`;
  if (!(await isFile(certFile))) {
    if (await isFile(`${dir}/${LEGACY_CERT_DB_FILE}`)) {
      throw new NssDbError(
        "legacy",
        `${dir}/${LEGACY_CERT_DB_FILE}`,
        `${dir}/${LEGACY_CERT_DB_FILE} is a legacy (DBM) NSS database, which qnet does not read; ` +
          `convert it to the SQL format with certutil -K -X -d sql:${dir}`,
      );
    }
    throw new NssDbError(
      "missing",
      certFile,
      `${certFile} does not exist; create the database with qnet certutil -i`,
    );
  }
  if (!(await isFile(keyFile))) {
    throw new NssDbError(
      "missing",
      keyFile,
      `${keyFile} does not exist next to ${CERT_DB_FILE}; restore it or create the database ` +
        `again (qnet certutil -i)`,
    );
  }
  const certDb = openReadOnly(certFile);
  try {
    const keyDb = openReadOnly(keyFile);
    try {
      return {
        certFile,
        keyFile,
        publicObjects: readObjects(certDb, certFile, PUBLIC_TABLE),
        privateObjects: readObjects(keyDb, keyFile, PRIVATE_TABLE),
        meta: readMeta(keyDb, keyFile),
      };
    } finally {
      keyDb.close();
    }
  } finally {
    certDb.close();
  }
}

/**
 * The server certificate with nickname `nickname` (DER), its private key (PKCS #8 DER) and the
 * certificates trusted as CA for client authentication (DER), from the NSS database in `dir`
 * (empty password, as corosync-qnetd-certutil makes it). Throws {@link NssDbError}.
 */
export async function readNssDb(
  dir: string,
  nickname: string = DEFAULT_SERVER_NICKNAME,
): Promise<ServerKeyMaterial> {
  const content = await loadNssDb(dir);
  return await serverKeyMaterial(content, nickname);
}
