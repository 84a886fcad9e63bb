/**
 * NSS SQL databases on disk (cert9.db, key4.db, pkcs11.txt), read and written with
 * `node:sqlite`; the format itself is in core/nssdb/. Reading opens the files read-only.
 *
 *   readNssDb(dir, nickname)           the server certificate, its key and the trusted CAs
 *   loadNssDb(dir)                     every object and metaData entry, for core/nssdb
 *   listNssCertificates(dir)           the certificates that have a nickname
 *   createNssDb(dir)                   new empty databases (certutil -N, empty password)
 *   addCertificate(dir, name, der, t)  a certificate with trust flags (certutil -A)
 *   addPrivateKey(dir, pkcs8)          an RSA key pair (as certutil -S leaves it)
 *
 * Every failure is an {@link NssDbError}: a `kind`, the file, and one line saying what to do.
 * Files, rows, values and bytes are bounded (MAX_*), a locked database waits at most
 * READ_BUSY_TIMEOUT_MS, and nothing stays open between calls.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  columnName,
  columnType,
  CREATE_META_SQL,
  createTableSql,
  META_TABLE,
  type NssObject,
  OBJECT_ID_MASK,
  PASSWORD_META_ID,
  PRIVATE_TABLE,
  PUBLIC_TABLE,
  storedValue,
  toStored,
} from "../core/nssdb/attributes.ts";
import { pkcs11Text } from "../core/nssdb/pkcs11_txt.ts";
import {
  certificateObjects,
  iterationsFor,
  newPasswordEntry,
  type NssDbAdditions,
  parseTrustFlags,
  type PasswordContext,
  rsaKeyObjects,
} from "../core/nssdb/write.ts";
import { NssDbError } from "../core/nssdb/errors.ts";
import {
  certificates,
  type MetaEntry,
  type NssDbContent,
  type ServerKeyMaterial,
  serverKeyMaterial,
  unlock,
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
/** Largest database file opened (the C tool's are 28 KiB and 52 KiB). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** At most this many value bytes read from one file, all rows together. */
export const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

const FIX = "restore it from a backup or create the database again (qnet certutil -i)";

/**
 * How long a read waits for a writer's lock (NSS waits 1 s, SDB_SQLITE_BUSY_TIMEOUT): short, as
 * the daemon's event loop waits with it; a database still locked then is a "busy" error.
 */
export const READ_BUSY_TIMEOUT_MS = 500;
/** How long `qnet certutil` waits for another writer's lock. */
export const WRITE_BUSY_TIMEOUT_MS = 5_000;
/** SQLite's SQLITE_BUSY and SQLITE_LOCKED result codes. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** True for SQLite's "database is locked" errors. */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && [SQLITE_BUSY, SQLITE_LOCKED].includes(code & 0xff);
}

function busy(path: string, cause: unknown): NssDbError {
  return new NssDbError(
    "busy",
    path,
    `${path} is locked by another program writing it (NSS's certutil?); try again when it is done`,
    { cause },
  );
}

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
    const db = new DatabaseSync(path, { readOnly: true });
    db.exec(`PRAGMA busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
    return db;
  } catch (error) {
    throw corrupt(path, `cannot be opened as SQLite (${(error as Error).message})`, error);
  }
}

/**
 * The rows of a query, one at a time, within the row and byte limits; SQLite's errors as
 * NssDbErrors.
 */
function* rowsOf(
  db: DatabaseSync,
  path: string,
  sql: string,
  maxRows: number,
  what: string,
): Generator<Record<string, unknown>> {
  let count = 0;
  let bytes = 0;
  try {
    for (const row of db.prepare(sql).iterate() as Iterable<Record<string, unknown>>) {
      if (++count > maxRows) throw corrupt(path, `holds more than ${maxRows} ${what}`);
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) bytes += value.length;
      }
      if (bytes > MAX_TOTAL_BYTES) {
        throw corrupt(path, `holds more than ${MAX_TOTAL_BYTES} bytes of ${what}`);
      }
      yield row;
    }
  } catch (error) {
    if (error instanceof NssDbError) throw error;
    if (isBusy(error)) throw busy(path, error);
    throw corrupt(path, `is not an NSS database (${(error as Error).message})`, error);
  }
}

function readObjects(db: DatabaseSync, path: string, table: string): NssObject[] {
  const objects: NssObject[] = [];
  for (const row of rowsOf(db, path, `SELECT * FROM ${table}`, MAX_OBJECTS, "objects")) {
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
    objects.push({ id, attributes });
  }
  return objects;
}

function readMeta(db: DatabaseSync, path: string): Map<string, MetaEntry> {
  const meta = new Map<string, MetaEntry>();
  const sql = `SELECT id, item1, item2 FROM ${META_TABLE}`;
  for (const row of rowsOf(db, path, sql, MAX_META_ENTRIES, "metaData entries")) {
    const id = row["id"];
    if (typeof id !== "string") continue;
    const item1 = blob(path, row["item1"], `${META_TABLE}.item1`);
    if (item1 === undefined) continue;
    meta.set(id, { item1, item2: blob(path, row["item2"], `${META_TABLE}.item2`) });
  }
  return meta;
}

/** A "corrupt" error for a database file too large to be one qnet reads. */
async function checkSize(path: string): Promise<void> {
  const size = (await Deno.stat(path)).size;
  if (size > MAX_FILE_BYTES) throw corrupt(path, `is ${size} bytes (limit ${MAX_FILE_BYTES})`);
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
          `convert it to the SQL format with certutil -L -X -d sql:${dir} and give the new cert9.db, ` +
          `key4.db and pkcs11.txt the owner, group and mode of cert8.db`,
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
  await checkSize(certFile);
  await checkSize(keyFile);
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

/** The certificates of the database in `dir` that have a nickname, in the database's order. */
export async function listNssCertificates(
  dir: string,
): Promise<{ nickname: string; der: Uint8Array<ArrayBuffer> }[]> {
  const content = await loadNssDb(dir);
  return certificates(content).flatMap((c) =>
    c.nickname === undefined ? [] : [{ nickname: c.nickname, der: new Uint8Array(c.der) }]
  );
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

// ---------------------------------------------------------------------------------------------
// Writing

/** Mode of new database files before the caller sets its own (NSS: 0600 & ~umask). */
const NEW_FILE_MODE = 0o600;

function openReadWrite(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${WRITE_BUSY_TIMEOUT_MS}`);
    return db;
  } catch (error) {
    throw corrupt(path, `cannot be opened for writing (${(error as Error).message})`, error);
  }
}

async function createFileOnly(path: string, mode: number): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode });
  file.close();
}

/**
 * New, empty cert9.db and key4.db with an empty password, and pkcs11.txt, as `certutil -N -d
 * DIR` with an empty password file makes them. Refuses (Deno.errors.AlreadyExists) when any of
 * the three exists. The files get mode 0600 (& umask); the caller sets modes and owners.
 */
export async function createNssDb(dir: string): Promise<void> {
  const certFile = `${dir}/${CERT_DB_FILE}`;
  const keyFile = `${dir}/${KEY_DB_FILE}`;
  const created: string[] = [];
  try {
    for (const path of [certFile, keyFile]) {
      await createFileOnly(path, NEW_FILE_MODE);
      created.push(path);
    }
    const { entry } = await newPasswordEntry("");
    const keyDb = openReadWrite(keyFile);
    try {
      keyDb.exec("BEGIN IMMEDIATE");
      for (const sql of createTableSql(PRIVATE_TABLE)) keyDb.exec(sql);
      keyDb.exec(CREATE_META_SQL);
      keyDb.prepare(`INSERT INTO ${META_TABLE} (id, item1, item2) VALUES (?, ?, ?)`)
        .run(PASSWORD_META_ID, entry.item1, entry.item2 ?? null);
      keyDb.exec("COMMIT");
    } finally {
      keyDb.close();
    }
    const certDb = openReadWrite(certFile);
    try {
      certDb.exec("BEGIN IMMEDIATE");
      for (const sql of createTableSql(PUBLIC_TABLE)) certDb.exec(sql);
      certDb.exec("COMMIT");
    } finally {
      certDb.close();
    }
    const pkcs11 = `${dir}/${PKCS11_FILE}`;
    await createFileOnly(pkcs11, NEW_FILE_MODE);
    created.push(pkcs11);
    await Deno.writeTextFile(pkcs11, pkcs11Text(dir));
  } catch (error) {
    for (const path of created.reverse()) await Deno.remove(path).catch(() => {});
    throw error;
  }
}

/** The databases of `dir` opened for writing, unlocked with the empty password. */
async function openForWriting(dir: string): Promise<{
  certDb: DatabaseSync;
  keyDb: DatabaseSync;
  context: PasswordContext;
  newId: () => number;
  [Symbol.dispose](): void;
}> {
  const content = await loadNssDb(dir);
  const passKey = await unlock(content, "");
  const used = new Set([...content.publicObjects, ...content.privateObjects].map((o) => o.id));
  const newId = () => {
    for (;;) {
      const id = crypto.getRandomValues(new Uint32Array(1))[0]! & OBJECT_ID_MASK;
      if (id !== 0 && !used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
  const certDb = openReadWrite(content.certFile);
  const keyDb = openReadWrite(content.keyFile);
  return {
    certDb,
    keyDb,
    context: { passKey, iterations: iterationsFor("") },
    newId,
    [Symbol.dispose]() {
      certDb.close();
      keyDb.close();
    },
  };
}

function insertObject(db: DatabaseSync, table: string, object: NssObject): void {
  const columns = [...object.attributes.keys()].map(columnName);
  const values = [...object.attributes.values()].map(toStored);
  db.prepare(
    `INSERT INTO ${table} (id, ${columns.join(", ")}) VALUES (?${", ?".repeat(columns.length)})`,
  ).run(BigInt(object.id), ...values);
}

/** Writes objects and signatures; each database in one transaction, key4.db first. */
function store(
  dir: string,
  dbs: { certDb: DatabaseSync; keyDb: DatabaseSync },
  additions: NssDbAdditions,
) {
  try {
    storeIn(dbs, additions);
  } catch (error) {
    if (isBusy(error)) throw busy(`${dir}/${KEY_DB_FILE}`, error);
    throw error;
  }
}

function storeIn(dbs: { certDb: DatabaseSync; keyDb: DatabaseSync }, additions: NssDbAdditions) {
  const { certDb, keyDb } = dbs;
  keyDb.exec("BEGIN IMMEDIATE");
  try {
    for (const object of additions.privateObjects) insertObject(keyDb, PRIVATE_TABLE, object);
    const put = keyDb.prepare(`INSERT INTO ${META_TABLE} (id, item1, item2) VALUES (?, ?, ?)`);
    for (const [id, entry] of additions.meta) put.run(id, entry.item1, entry.item2 ?? null);
    certDb.exec("BEGIN IMMEDIATE");
    try {
      for (const object of additions.publicObjects) insertObject(certDb, PUBLIC_TABLE, object);
      certDb.exec("COMMIT");
    } catch (error) {
      certDb.exec("ROLLBACK");
      throw error;
    }
    keyDb.exec("COMMIT");
  } catch (error) {
    keyDb.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Adds a certificate (DER) under `nickname` with trust flags in certutil's notation (`CT,,`,
 * `u,u,u`, ...), as `certutil -A -n NICKNAME -t TRUST` does.
 */
export async function addCertificate(
  dir: string,
  nickname: string,
  der: Uint8Array,
  trust: string,
): Promise<void> {
  const flags = parseTrustFlags(trust);
  using db = await openForWriting(dir);
  const additions = await certificateObjects(
    der,
    nickname,
    flags,
    db.newId,
    db.context,
    `certificate '${nickname}'`,
  );
  store(dir, db, additions);
}

/** Adds an RSA key pair from a PKCS #8 DER private key (the key of a certificate to add). */
export async function addPrivateKey(dir: string, pkcs8Der: Uint8Array): Promise<void> {
  using db = await openForWriting(dir);
  const additions = await rsaKeyObjects(pkcs8Der, db.newId, db.context, "private key");
  store(dir, db, additions);
}
