/**
 * Finding the server certificate, its private key and the trusted CAs in the objects of an NSS
 * SQL database (cert9.db's nssPublic, key4.db's nssPrivate and metaData), as NSS's softoken
 * would: the password is checked against metaData's `password` entry, private attributes are
 * decrypted and their HMAC checked (sig_key_<id>_<type>, signed with object id 0), and the trust
 * attributes of a CA count only when their HMAC (sig_cert_<trust id>_<type>) checks out.
 *
 * @module
 */
import {
  CKA,
  CKK_RSA,
  CKO,
  CKT,
  decodeUlong,
  type NssObject,
  PASSWORD_META_ID,
  PRIVATE_ATTRIBUTES,
  signatureMetaId,
} from "./attributes.ts";
import { bytesEqual, DerError } from "./der.ts";
import {
  decodeEntry,
  decryptEntry,
  ownBytes,
  PASSWORD_CHECK,
  passwordKey,
  verifyAttribute,
} from "./pbe.ts";
import { type RsaKeyParts, rsaPartsToPkcs8, stripLeadingZeros } from "./rsa_key.ts";
import { certificateFields } from "./x509_fields.ts";
import { NssDbError } from "./errors.ts";

/** One metaData row of key4.db. */
export interface MetaEntry {
  item1: Uint8Array;
  item2: Uint8Array | undefined;
}

/** The objects of a database pair, and the file names to put in messages. */
export interface NssDbContent {
  certFile: string;
  keyFile: string;
  publicObjects: readonly NssObject[];
  privateObjects: readonly NssObject[];
  meta: ReadonlyMap<string, MetaEntry>;
}

/** What the daemon needs: DER certificate, PKCS #8 key, DER certificates of the trusted CAs. */
export interface ServerKeyMaterial {
  certDer: Uint8Array;
  keyPkcs8Der: Uint8Array;
  caCertsDer: Uint8Array[];
}

/** A certificate object of cert9.db. */
export interface CertificateObject {
  id: number;
  nickname: string | undefined;
  der: Uint8Array;
  issuer: Uint8Array | undefined;
  serialNumber: Uint8Array | undefined;
  ckaId: Uint8Array | undefined;
}

/** The trust of a certificate, per usage (CKT_* values). */
export interface Trust {
  serverAuth: number | undefined;
  clientAuth: number | undefined;
  emailProtection: number | undefined;
  codeSigning: number | undefined;
}

/** CK_INVALID_HANDLE: the object id in the HMAC of an encrypted attribute. */
const INVALID_HANDLE = 0;
/** SFTK_KEYDB_TYPE | SFTK_TOKEN_TYPE: where old NSS misfiled signatures (bug 1720226). */
const MISFILED_ID_BITS = 0xc0000000;

/** Checks the password; the password key when it is right. */
export async function unlock(content: NssDbContent, password: string): Promise<Uint8Array> {
  const entry = content.meta.get(PASSWORD_META_ID);
  if (entry === undefined || entry.item2 === undefined) {
    throw new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile} has no password check entry: it is not a key database NSS made; ` +
        `create the database again (qnet certutil -i)`,
    );
  }
  const key = await passwordKey(entry.item1, password);
  let plain: Uint8Array | undefined;
  try {
    const check = decodeEntry(entry.item2, "password check");
    if (check.kind === "pbmac1") throw new DerError("password check is a signature");
    plain = await decryptEntry(key, check);
  } catch (error) {
    throw new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile}: the password check entry is damaged (${(error as Error).message}); ` +
        `restore the database from a backup or create it again`,
      { cause: error },
    );
  }
  if (plain === undefined || new TextDecoder().decode(plain) !== PASSWORD_CHECK) {
    throw new NssDbError(
      "password",
      content.keyFile,
      `${content.keyFile} is protected by a password: qnet reads only databases with an empty ` +
        `password, as corosync-qnetd-certutil makes them; remove it with ` +
        `certutil -W -d sql:${dirOf(content.keyFile)}`,
    );
  }
  return key;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "." : path.slice(0, slash);
}

/** The certificate objects of cert9.db. */
export function certificates(content: NssDbContent): CertificateObject[] {
  const out: CertificateObject[] = [];
  for (const object of content.publicObjects) {
    if (decodeUlong(object.attributes.get(CKA.class)) !== CKO.certificate) continue;
    const der = object.attributes.get(CKA.value);
    if (der === undefined || der.length === 0) continue;
    const label = object.attributes.get(CKA.label);
    out.push({
      id: object.id,
      nickname: label === undefined || label.length === 0
        ? undefined
        : new TextDecoder().decode(label),
      der,
      issuer: object.attributes.get(CKA.issuer),
      serialNumber: object.attributes.get(CKA.serialNumber),
      ckaId: object.attributes.get(CKA.id),
    });
  }
  return out;
}

const TRUST_TYPES = [
  ["serverAuth", CKA.trustServerAuth],
  ["clientAuth", CKA.trustClientAuth],
  ["emailProtection", CKA.trustEmailProtection],
  ["codeSigning", CKA.trustCodeSigning],
] as const;

/**
 * The trust object of a certificate (same issuer and serial number), its values checked
 * against their HMACs; undefined when the certificate has none. A value whose HMAC is missing or
 * wrong reads as undefined, as NSS then refuses the attribute; so does every value when the
 * trust's certificate hash is not authentic. A certificate whose bytes are not the ones its
 * trust's SHA-1 names is a "corrupt" error.
 */
export async function trustOf(
  content: NssDbContent,
  cert: CertificateObject,
  passKey: Uint8Array,
): Promise<Trust | undefined> {
  if (cert.issuer === undefined || cert.serialNumber === undefined) return undefined;
  const object = content.publicObjects.find((o) =>
    decodeUlong(o.attributes.get(CKA.class)) === CKO.nssTrust &&
    bytesEqual(o.attributes.get(CKA.issuer) ?? new Uint8Array(), cert.issuer!) &&
    bytesEqual(o.attributes.get(CKA.serialNumber) ?? new Uint8Array(), cert.serialNumber!)
  );
  if (object === undefined) return undefined;
  const trust: Trust = {
    serverAuth: undefined,
    clientAuth: undefined,
    emailProtection: undefined,
    codeSigning: undefined,
  };
  const authentic = async (type: number, value: Uint8Array): Promise<boolean> => {
    const signature = content.meta.get(signatureMetaId("cert", object.id, type))?.item1;
    if (signature === undefined) return false;
    try {
      return await verifyAttribute(passKey, signature, object.id, type, value);
    } catch {
      return false;
    }
  };
  // The trust belongs to these very bytes: its SHA-1 (HMAC-signed) must be the certificate's.
  const sha1 = object.attributes.get(CKA.certSha1Hash);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", ownBytes(cert.der)));
  if (sha1 !== undefined && !bytesEqual(sha1, digest)) {
    throw new NssDbError(
      "corrupt",
      content.certFile,
      `${content.certFile}: certificate ${cert.nickname ?? cert.id} does not match the SHA-1 ` +
        `hash of its trust; ${REBUILD}`,
    );
  }
  if (sha1 === undefined || !(await authentic(CKA.certSha1Hash, sha1))) return trust;
  for (const [name, type] of TRUST_TYPES) {
    const value = object.attributes.get(type);
    if (value !== undefined && await authentic(type, value)) trust[name] = decodeUlong(value);
  }
  return trust;
}

/** True for a CA trusted to issue client certificates (the `T` of `CT,,`). */
export function isClientAuthCa(trust: Trust | undefined): boolean {
  return trust?.clientAuth === CKT.trustedDelegator;
}

async function decryptAttribute(
  content: NssDbContent,
  object: NssObject,
  type: number,
  passKey: Uint8Array,
): Promise<Uint8Array> {
  const cipher = object.attributes.get(type);
  const what = `attribute 0x${type.toString(16)} of key ${object.id}`;
  if (cipher === undefined) {
    throw new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile}: private key ${object.id} lacks ${what}; restore the database from a ` +
        `backup or create it again`,
    );
  }
  const fail = (reason: string, cause?: unknown) =>
    new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile}: ${what} ${reason}; restore the database from a backup or create it again`,
      cause === undefined ? undefined : { cause },
    );
  let plain: Uint8Array | undefined;
  let legacy = false;
  try {
    const entry = decodeEntry(cipher, what);
    if (entry.kind === "pbmac1") throw new DerError("a signature, not a value");
    legacy = entry.kind === "legacy-3des";
    plain = await decryptEntry(passKey, entry);
  } catch (error) {
    throw fail(`cannot be decoded (${(error as Error).message})`, error);
  }
  if (plain === undefined) throw fail("does not decrypt");
  // NSS authenticates AES-256 entries only; a legacy 3DES value (a database converted from
  // key3.db) has no signature, and NSS takes it as it decrypts.
  if (legacy) return plain;
  for (const id of [object.id, (object.id | MISFILED_ID_BITS) >>> 0]) {
    const signature = content.meta.get(signatureMetaId("key", id, type))?.item1;
    if (signature === undefined) continue;
    try {
      if (await verifyAttribute(passKey, signature, INVALID_HANDLE, type, plain)) return plain;
    } catch {
      // a damaged signature fails like a wrong one
    }
  }
  throw fail("fails its integrity check (sig_key entry missing or wrong)");
}

const RSA_ATTRIBUTES: ReadonlyArray<readonly [keyof RsaKeyParts, number]> = [
  ["modulus", CKA.modulus],
  ["publicExponent", CKA.publicExponent],
  ["privateExponent", CKA.privateExponent],
  ["prime1", CKA.prime1],
  ["prime2", CKA.prime2],
  ["exponent1", CKA.exponent1],
  ["exponent2", CKA.exponent2],
  ["coefficient", CKA.coefficient],
];

/** The private key object whose CKA_ID is `ckaId`, or undefined. */
export function privateKeyObject(
  content: NssDbContent,
  ckaId: Uint8Array,
): NssObject | undefined {
  return content.privateObjects.find((o) =>
    decodeUlong(o.attributes.get(CKA.class)) === CKO.privateKey &&
    bytesEqual(o.attributes.get(CKA.id) ?? new Uint8Array(), ckaId)
  );
}

/** The RSA key of a private key object as PKCS #8 DER. */
export async function privateKeyPkcs8(
  content: NssDbContent,
  object: NssObject,
  passKey: Uint8Array,
): Promise<Uint8Array> {
  const keyType = decodeUlong(object.attributes.get(CKA.keyType));
  if (keyType !== CKK_RSA) {
    throw new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile}: key ${object.id} is not an RSA key (type ${keyType}); qnet reads the ` +
        `RSA keys corosync-qnetd-certutil makes`,
    );
  }
  const parts: Partial<RsaKeyParts> = {};
  for (const [name, type] of RSA_ATTRIBUTES) {
    const value = PRIVATE_ATTRIBUTES.has(type)
      ? await decryptAttribute(content, object, type, passKey)
      : object.attributes.get(type);
    if (value === undefined || value.length === 0) {
      throw new NssDbError(
        "corrupt",
        content.keyFile,
        `${content.keyFile}: key ${object.id} lacks its RSA ${name}; restore the database from a ` +
          `backup or create it again`,
      );
    }
    parts[name] = stripLeadingZeros(value);
  }
  return rsaPartsToPkcs8(parts as RsaKeyParts);
}

/** What to do about a damaged database. */
const REBUILD = "restore the database from a backup or create it again";

/** The fields of a stored certificate; a "corrupt" error when its DER is not a certificate. */
function parsedCertificate(content: NssDbContent, cert: CertificateObject) {
  try {
    return certificateFields(cert.der);
  } catch (error) {
    throw new NssDbError(
      "corrupt",
      content.certFile,
      `${content.certFile}: certificate ${cert.nickname ?? cert.id} is not valid DER ` +
        `(${(error as Error).message}); ${REBUILD}`,
      { cause: error },
    );
  }
}

/**
 * The certificate NSS picks among several with one nickname (PK11_FindCertFromNickname ->
 * nssCertificateArray_FindBestCertificate): one valid at `now` over one that is not, then the
 * newer (CERT_IsNewer: later notBefore and notAfter; when only one is later, the one issued
 * later unless it has expired). Renewing a certificate under the same nickname so takes effect
 * as in NSS.
 */
function bestCertificate(
  certs: readonly CertificateObject[],
  now: number,
): CertificateObject | undefined {
  let best: { cert: CertificateObject; notBefore: number; notAfter: number } | undefined;
  for (const cert of certs) {
    let validity;
    try {
      validity = certificateFields(cert.der).validity;
    } catch {
      continue; // NSS skips a certificate it cannot decode
    }
    const candidate = { cert, ...validity };
    if (best === undefined) {
      best = candidate;
      continue;
    }
    const valid = (c: typeof candidate) => c.notBefore <= now && now <= c.notAfter;
    if (valid(best) !== valid(candidate)) {
      if (valid(candidate)) best = candidate;
      continue;
    }
    if (!isNewer(best, candidate, now)) best = candidate;
  }
  // None decodes: the first, so that the caller names the damaged certificate.
  return best?.cert ?? certs[0];
}

/** CERT_IsNewer() of NSS lib/certdb/certdb.c. */
function isNewer(
  a: { notBefore: number; notAfter: number },
  b: { notBefore: number; notAfter: number },
  now: number,
): boolean {
  const newerBefore = a.notBefore > b.notBefore;
  const newerAfter = a.notAfter > b.notAfter;
  if (newerBefore && newerAfter) return true;
  if (!newerBefore && !newerAfter) return false;
  if (newerBefore) return !(a.notAfter < now);
  return b.notAfter < now;
}

/** SHA-1 of an RSA modulus: the CKA_ID NSS gives a key and its certificate. */
export async function ckaIdOfModulus(modulus: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-1", ownBytes(stripLeadingZeros(modulus))));
}

/**
 * The server certificate `nickname`, its private key and the CAs trusted for client
 * authentication, from an unlocked database.
 */
export async function serverKeyMaterial(
  content: NssDbContent,
  nickname: string,
  password = "",
  now: number = Date.now(),
): Promise<ServerKeyMaterial> {
  const passKey = await unlock(content, password);
  const certs = certificates(content);
  const server = bestCertificate(certs.filter((c) => c.nickname === nickname), now);
  if (server === undefined) {
    const names = [...new Set(certs.flatMap((c) => c.nickname === undefined ? [] : [c.nickname]))];
    throw new NssDbError(
      "nickname",
      content.certFile,
      `${content.certFile} has no certificate with nickname '${nickname}' (it has: ` +
        `${names.length === 0 ? "none" : names.map((n) => `'${n}'`).join(", ")}); set ` +
        `cert_nickname or create the database with qnet certutil -i`,
    );
  }
  const key = server.ckaId === undefined ? undefined : privateKeyObject(content, server.ckaId);
  if (key === undefined) {
    throw new NssDbError(
      "missing",
      content.keyFile,
      `${content.keyFile} has no private key for '${nickname}'; import the key (pk12util -i) ` +
        `or create the database again with qnet certutil -i`,
    );
  }
  const serverFields = parsedCertificate(content, server);
  const keyModulus = key.attributes.get(CKA.modulus);
  if (
    serverFields.rsaPublicKey === undefined || keyModulus === undefined ||
    !bytesEqual(stripLeadingZeros(keyModulus), serverFields.rsaPublicKey.modulus)
  ) {
    throw new NssDbError(
      "corrupt",
      content.keyFile,
      `${content.keyFile}: the private key filed for '${nickname}' is not the key of its ` +
        `certificate; ${REBUILD}`,
    );
  }
  const keyPkcs8Der = await privateKeyPkcs8(content, key, passKey);
  const caCertsDer: Uint8Array[] = [];
  for (const cert of certs) {
    if (!isClientAuthCa(await trustOf(content, cert, passKey))) continue;
    parsedCertificate(content, cert);
    caCertsDer.push(cert.der);
  }
  if (caCertsDer.length === 0) {
    throw new NssDbError(
      "missing",
      content.certFile,
      `${content.certFile} has no CA trusted for client authentication (trust flags 'CT,,'); ` +
        `create the database with qnet certutil -i or set the trust with certutil -M -t CT,,`,
    );
  }
  return { certDer: server.der, keyPkcs8Der, caCertsDer };
}
