/**
 * PKCS #11 attributes as NSS's SQL databases (cert9.db, key4.db; lib/softoken/sdb.c and
 * sftkdb.c) store them: one table row per object, one column `a<hex type>` per attribute, a
 * BLOB per value. CK_ULONG values are 4-byte big-endian (sftk_ULong2SDBULong), booleans one
 * byte, and an attribute present with an empty value is the 3 bytes A5 00 5A
 * (SQLITE_EXPLICIT_NULL) because SQLite cannot tell an empty BLOB from NULL.
 *
 * @module
 */
import { bytesEqual } from "./der.ts";

/** The CKA_* attribute types used by the databases corosync-qnetd-certutil writes. */
export const CKA = {
  class: 0x0,
  token: 0x1,
  private: 0x2,
  label: 0x3,
  value: 0x11,
  certificateType: 0x80,
  issuer: 0x81,
  serialNumber: 0x82,
  keyType: 0x100,
  subject: 0x101,
  id: 0x102,
  sensitive: 0x103,
  encrypt: 0x104,
  decrypt: 0x105,
  wrap: 0x106,
  unwrap: 0x107,
  sign: 0x108,
  signRecover: 0x109,
  verify: 0x10a,
  verifyRecover: 0x10b,
  derive: 0x10c,
  startDate: 0x110,
  endDate: 0x111,
  modulus: 0x120,
  publicExponent: 0x122,
  privateExponent: 0x123,
  prime1: 0x124,
  prime2: 0x125,
  exponent1: 0x126,
  exponent2: 0x127,
  coefficient: 0x128,
  extractable: 0x162,
  local: 0x163,
  neverExtractable: 0x164,
  alwaysSensitive: 0x165,
  modifiable: 0x170,
  /** CKA_NSS_DB: the public value kept with a private key (the RSA modulus). */
  nssDb: 0xd5a0db00,
  trustServerAuth: 0xce536358,
  trustClientAuth: 0xce536359,
  trustEmailProtection: 0xce53635a,
  trustCodeSigning: 0xce53635b,
  trustStepUpApproved: 0xce536360,
  certSha1Hash: 0xce5363b4,
  certMd5Hash: 0xce5363b5,
} as const;

/** CKO_* object classes. */
export const CKO = {
  certificate: 0x1,
  publicKey: 0x2,
  privateKey: 0x3,
  /** CKO_NSS_TRUST */
  nssTrust: 0xce534353,
} as const;

/** CKK_RSA, the only key type this reader and writer handle. */
export const CKK_RSA = 0x0;
/** CKC_X_509 */
export const CKC_X_509 = 0x0;

/** CKT_NSS_* trust values of a trust object's usage attributes. */
export const CKT = {
  trusted: 0xce534351,
  trustedDelegator: 0xce534352,
  mustVerifyTrust: 0xce534353,
  notTrusted: 0xce53435a,
  trustUnknown: 0xce534355,
  validDelegator: 0xce53435b,
} as const;

/** sftkdb_isULONGAttribute(): the types stored as 4-byte big-endian numbers (those used here). */
const ULONG_ATTRIBUTES: ReadonlySet<number> = new Set([
  CKA.class,
  CKA.certificateType,
  CKA.keyType,
  CKA.trustServerAuth,
  CKA.trustClientAuth,
  CKA.trustEmailProtection,
  CKA.trustCodeSigning,
]);

/** sftkdb_isPrivateAttribute(): encrypted in key4.db. */
export const PRIVATE_ATTRIBUTES: ReadonlySet<number> = new Set([
  CKA.value,
  CKA.privateExponent,
  CKA.prime1,
  CKA.prime2,
  CKA.exponent1,
  CKA.exponent2,
  CKA.coefficient,
]);

/** sftkdb_isAuthenticatedAttribute(): HMAC-signed in key4.db's metaData (those used here). */
export const AUTHENTICATED_ATTRIBUTES: ReadonlySet<number> = new Set([
  CKA.modulus,
  CKA.publicExponent,
  CKA.certSha1Hash,
  CKA.certMd5Hash,
  CKA.trustServerAuth,
  CKA.trustClientAuth,
  CKA.trustEmailProtection,
  CKA.trustCodeSigning,
  CKA.trustStepUpApproved,
]);

/** True for the attribute types NSS stores as 4-byte ULONGs. */
export function isUlongAttribute(type: number): boolean {
  return ULONG_ATTRIBUTES.has(type);
}

/** SQLITE_EXPLICIT_NULL of sdb.c: an attribute present with an empty value. */
export const EXPLICIT_NULL: Uint8Array = new Uint8Array([0xa5, 0x00, 0x5a]);

/** Size of a ULONG in the database (SDB_ULONG_SIZE). */
export const SDB_ULONG_SIZE = 4;

/** The column of an attribute type: `a` and the type in lower-case hex. */
export function columnName(type: number): string {
  return `a${type.toString(16)}`;
}

/** The attribute type of a column name, or undefined for another column. */
export function columnType(name: string): number | undefined {
  const match = /^a([0-9a-f]{1,8})$/.exec(name);
  return match ? parseInt(match[1]!, 16) : undefined;
}

/** A ULONG as the database stores it. */
export function encodeUlong(value: number): Uint8Array {
  const out = new Uint8Array(SDB_ULONG_SIZE);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

/** A stored ULONG, or undefined when the value is not 4 bytes. */
export function decodeUlong(value: Uint8Array | undefined): number | undefined {
  if (value === undefined || value.length !== SDB_ULONG_SIZE) return undefined;
  return new DataView(value.buffer, value.byteOffset, SDB_ULONG_SIZE).getUint32(0);
}

/** A CK_BBOOL as stored. */
export function encodeBool(value: boolean): Uint8Array {
  return new Uint8Array([value ? 1 : 0]);
}

/** A stored value with SQLITE_EXPLICIT_NULL turned back into an empty value. */
export function storedValue(value: Uint8Array): Uint8Array {
  return bytesEqual(value, EXPLICIT_NULL) ? new Uint8Array(0) : value;
}

/** An attribute value as stored (an empty one as SQLITE_EXPLICIT_NULL). */
export function toStored(value: Uint8Array): Uint8Array {
  return value.length === 0 ? EXPLICIT_NULL : value;
}

/** One object of a table: its id and its attributes, values as NSS sees them (decoded nulls). */
export interface NssObject {
  id: number;
  attributes: Map<number, Uint8Array>;
}

/**
 * The attribute columns of the tables NSS creates (sdb.c's known_attributes, as NSS 3.87 writes
 * them; the order is the one of a database made by corosync-qnetd-certutil).
 */
export const TABLE_COLUMNS: readonly string[] = (
  "a0 a1 a2 a3 a10 a11 a12 a80 a81 a82 a83 a84 a85 a86 a87 a88 a89 a8a a8b a90 a100 a101 a102 " +
  "a103 a104 a105 a106 a107 a108 a109 a10a a10b a10c a110 a111 a120 a121 a122 a123 a124 a125 " +
  "a126 a127 a128 a129 a130 a131 a132 a133 a134 a160 a161 a162 a163 a164 a165 a166 a170 a180 " +
  "a181 a200 a201 a202 a210 a300 a301 a302 a400 a401 a402 a403 a404 a405 a406 a480 a481 a482 " +
  "a500 a501 a502 a503 a40000211 a40000212 a80000001 ace534351 ace534352 ace534353 ace534354 " +
  "ace534355 ace534356 ace534357 ace534358 ace534364 ace534365 ace534366 ace534367 ace534368 " +
  "ace534369 ace534373 ace534374 ace536351 ace536352 ace536353 ace536354 ace536355 ace536356 " +
  "ace536357 ace536358 ace536359 ace53635a ace53635b ace53635c ace53635d ace53635e ace53635f " +
  "ace536360 ace5363b4 ace5363b5 ad5a0db00"
).split(" ");

/** Table of cert9.db. */
export const PUBLIC_TABLE = "nssPublic";
/** Table of key4.db. */
export const PRIVATE_TABLE = "nssPrivate";
/** key4.db's table of the password check and attribute signatures. */
export const META_TABLE = "metaData";
/** metaData id of the password check entry (item1: global salt, item2: encrypted check). */
export const PASSWORD_META_ID = "password";

/** The SQL that creates an object table as sdb.c does (table, then its four indexes). */
export function createTableSql(table: string): string[] {
  return [
    `CREATE TABLE ${table} (id PRIMARY KEY UNIQUE ON CONFLICT ABORT, ${TABLE_COLUMNS.join(", ")})`,
    `CREATE INDEX issuer ON ${table} (a81)`,
    `CREATE INDEX subject ON ${table} (a101)`,
    `CREATE INDEX label ON ${table} (a3)`,
    `CREATE INDEX ckaid ON ${table} (a102)`,
  ];
}

/** The SQL of key4.db's metaData table. */
export const CREATE_META_SQL =
  `CREATE TABLE ${META_TABLE} (id PRIMARY KEY UNIQUE ON CONFLICT REPLACE, item1, item2)`;

/** metaData id of an attribute signature: `sig_<cert|key>_<object id>_<type>` (%08x each). */
export function signatureMetaId(db: "cert" | "key", objectId: number, type: number): string {
  const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return `sig_${db}_${hex8(objectId)}_${hex8(type)}`;
}

/** Object ids of sdb.c: 30 bits (the top two bits name the database in NSS's handles). */
export const OBJECT_ID_MASK = 0x3fffffff;
