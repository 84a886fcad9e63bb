/**
 * The objects NSS's softoken writes into cert9.db and key4.db, built in memory (the I/O is in
 * cli/nss_db_files.ts). Attribute sets, values and signatures follow what
 * `corosync-qnetd-certutil -i` (NSS certutil -N/-S) leaves in the databases, checked against
 * one it made (tests/fixtures/nssdb):
 *
 * - the password check: metaData `password`, item1 a 20-byte global salt, item2 PBES2 of
 *   "password-check" (1 iteration for the empty password);
 * - a certificate (CKO_CERTIFICATE, label = nickname) and, when it has trust flags, a trust
 *   object (CKO_NSS_TRUST) with the trust values, SHA-1 and MD5 of the certificate, each
 *   HMAC-signed as `sig_cert_<trust id>_<type>`;
 * - an RSA key pair: the private key in key4.db (private numbers PBES2-encrypted, each signed as
 *   `sig_key_<id>_<type>` over object id 0; modulus and exponent signed over the key's id) and
 *   the public key in cert9.db (modulus and exponent signed as `sig_cert_<id>_<type>`).
 *
 * @module
 */
import {
  CKA,
  CKC_X_509,
  CKK_RSA,
  CKO,
  CKT,
  encodeBool,
  encodeUlong,
  type NssObject,
  signatureMetaId,
} from "./attributes.ts";
import { type MetaEntry } from "./read.ts";
import {
  EMPTY_PASSWORD_ITERATIONS,
  encryptEntry,
  GLOBAL_SALT_LENGTH,
  ownBytes,
  PASSWORD_CHECK,
  PASSWORD_ITERATIONS,
  passwordKey,
  signAttribute,
} from "./pbe.ts";
import { md5 } from "./md5.ts";
import { pkcs8ToRsaParts, RSA_PRIVATE_ATTRIBUTES, type RsaKeyParts } from "./rsa_key.ts";
import { certificateFields } from "./x509_fields.ts";
import { ckaIdOfModulus } from "./read.ts";
import { NssDbError } from "./errors.ts";

/** Objects and metaData entries to add to a database pair. */
export interface NssDbAdditions {
  publicObjects: NssObject[];
  privateObjects: NssObject[];
  meta: Map<string, MetaEntry>;
}

/** The key that signs and encrypts, and how many PBKDF2 iterations NSS uses with it. */
export interface PasswordContext {
  passKey: Uint8Array;
  iterations: number;
}

/** Trust of a certificate per usage (CKT_* values), as `certutil -t "SSL,email,objsign"`. */
export interface TrustFlags {
  serverAuth: number;
  clientAuth: number;
  emailProtection: number;
  codeSigning: number;
}

function emptyAdditions(): NssDbAdditions {
  return { publicObjects: [], privateObjects: [], meta: new Map() };
}

/** The iteration count NSS uses for a password. */
export function iterationsFor(password: string): number {
  return password === "" ? EMPTY_PASSWORD_ITERATIONS : PASSWORD_ITERATIONS;
}

/** A new password check entry (certutil -N) and the password key it unlocks. */
export async function newPasswordEntry(
  password = "",
): Promise<{ entry: MetaEntry; context: PasswordContext }> {
  const salt = crypto.getRandomValues(new Uint8Array(GLOBAL_SALT_LENGTH));
  const passKey = await passwordKey(salt, password);
  const iterations = iterationsFor(password);
  const check = await encryptEntry(passKey, new TextEncoder().encode(PASSWORD_CHECK), iterations);
  return { entry: { item1: salt, item2: check }, context: { passKey, iterations } };
}

/**
 * Trust flags in certutil's notation, `SSL,email,objsign` (e.g. `CT,,` or `u,u,u`); undefined
 * when no field names a trust (NSS then writes no trust object; `u` comes from the key).
 * Letters: `C` trusted CA for servers, `T` trusted CA for clients, `c` valid CA, `P` trusted
 * peer, `p` valid peer, `u` user (ignored here).
 */
export function parseTrustFlags(text: string): TrustFlags | undefined {
  const fields = text.split(",");
  if (fields.length !== 3 || !fields.every((f) => /^[pPcCTu]*$/.test(f))) {
    throw new Error(`Invalid trust flags '${text}': expected three fields like "CT,,"`);
  }
  const [ssl, email, objsign] = fields as [string, string, string];
  if ([ssl, email, objsign].every((f) => f.replace(/u/g, "") === "")) return undefined;
  const usage = (field: string, caLetter: string) => {
    if (field.includes(caLetter)) return CKT.trustedDelegator;
    if (field.includes("P")) return CKT.trusted;
    if (field.includes("c")) return CKT.validDelegator;
    if (field.includes("p")) return CKT.notTrusted;
    return CKT.mustVerifyTrust;
  };
  return {
    serverAuth: usage(ssl, "C"),
    clientAuth: usage(ssl, "T"),
    emailProtection: usage(email, "C"),
    codeSigning: usage(objsign, "C"),
  };
}

async function sign(
  additions: NssDbAdditions,
  context: PasswordContext,
  db: "cert" | "key",
  object: NssObject,
  type: number,
  hmacObjectId = object.id,
): Promise<void> {
  const value = object.attributes.get(type)!;
  const signature = await signAttribute(
    context.passKey,
    hmacObjectId,
    type,
    value,
    context.iterations,
  );
  additions.meta.set(signatureMetaId(db, object.id, type), { item1: signature, item2: undefined });
}

const EMPTY = new Uint8Array(0);

/** A certificate and, with trust flags, its trust object (certutil -A / -S). */
export async function certificateObjects(
  der: Uint8Array,
  nickname: string,
  trust: TrustFlags | undefined,
  newId: () => number,
  context: PasswordContext,
  what: string,
): Promise<NssDbAdditions> {
  let fields;
  try {
    fields = certificateFields(der);
  } catch (error) {
    throw new NssDbError("corrupt", what, `${what} is not a DER certificate`, { cause: error });
  }
  const additions = emptyAdditions();
  const ckaId = fields.rsaPublicKey === undefined
    ? new Uint8Array(await crypto.subtle.digest("SHA-1", ownBytes(der)))
    : await ckaIdOfModulus(fields.rsaPublicKey.modulus);
  additions.publicObjects.push({
    id: newId(),
    attributes: new Map([
      [CKA.class, encodeUlong(CKO.certificate)],
      [CKA.token, encodeBool(true)],
      [CKA.private, encodeBool(false)],
      [CKA.label, new TextEncoder().encode(nickname)],
      [CKA.value, der],
      [CKA.certificateType, encodeUlong(CKC_X_509)],
      [CKA.issuer, fields.issuer],
      [CKA.serialNumber, fields.serialNumber],
      [CKA.subject, fields.subject],
      [CKA.id, ckaId],
      [CKA.modifiable, encodeBool(true)],
    ]),
  });
  if (trust === undefined) return additions;
  const trustObject: NssObject = {
    id: newId(),
    attributes: new Map([
      [CKA.class, encodeUlong(CKO.nssTrust)],
      [CKA.token, encodeBool(true)],
      [CKA.private, encodeBool(false)],
      [CKA.label, EMPTY],
      [CKA.issuer, fields.issuer],
      [CKA.serialNumber, fields.serialNumber],
      [CKA.modifiable, encodeBool(true)],
      [CKA.trustServerAuth, encodeUlong(trust.serverAuth)],
      [CKA.trustClientAuth, encodeUlong(trust.clientAuth)],
      [CKA.trustEmailProtection, encodeUlong(trust.emailProtection)],
      [CKA.trustCodeSigning, encodeUlong(trust.codeSigning)],
      [CKA.trustStepUpApproved, encodeBool(false)],
      [CKA.certSha1Hash, new Uint8Array(await crypto.subtle.digest("SHA-1", ownBytes(der)))],
      [CKA.certMd5Hash, md5(der)],
    ]),
  };
  additions.publicObjects.push(trustObject);
  for (
    const type of [
      CKA.trustServerAuth,
      CKA.trustClientAuth,
      CKA.trustEmailProtection,
      CKA.trustCodeSigning,
      CKA.trustStepUpApproved,
      CKA.certSha1Hash,
      CKA.certMd5Hash,
    ]
  ) await sign(additions, context, "cert", trustObject, type);
  return additions;
}

/** An RSA key pair from a PKCS #8 key: private key in key4.db, public key in cert9.db. */
export async function rsaKeyObjects(
  pkcs8: Uint8Array,
  newId: () => number,
  context: PasswordContext,
  what: string,
): Promise<NssDbAdditions> {
  let parts: RsaKeyParts;
  try {
    parts = pkcs8ToRsaParts(pkcs8);
  } catch (error) {
    throw new NssDbError("corrupt", what, `${what} is not an RSA PKCS #8 key`, { cause: error });
  }
  const additions = emptyAdditions();
  const ckaId = await ckaIdOfModulus(parts.modulus);
  const privateKey: NssObject = {
    id: newId(),
    attributes: new Map([
      [CKA.class, encodeUlong(CKO.privateKey)],
      [CKA.token, encodeBool(true)],
      [CKA.private, encodeBool(true)],
      [CKA.label, EMPTY],
      [CKA.keyType, encodeUlong(CKK_RSA)],
      [CKA.subject, EMPTY],
      [CKA.id, ckaId],
      [CKA.sensitive, encodeBool(true)],
      [CKA.decrypt, encodeBool(true)],
      [CKA.unwrap, encodeBool(true)],
      [CKA.sign, encodeBool(true)],
      [CKA.signRecover, encodeBool(true)],
      [CKA.derive, encodeBool(false)],
      [CKA.startDate, EMPTY],
      [CKA.endDate, EMPTY],
      [CKA.modulus, parts.modulus],
      [CKA.publicExponent, parts.publicExponent],
      [CKA.extractable, encodeBool(true)],
      [CKA.local, encodeBool(false)],
      [CKA.neverExtractable, encodeBool(false)],
      [CKA.alwaysSensitive, encodeBool(true)],
      [CKA.modifiable, encodeBool(true)],
      [CKA.nssDb, parts.modulus],
    ]),
  };
  for (const [name, type] of RSA_PRIVATE_ATTRIBUTES) {
    const plain = parts[name];
    privateKey.attributes.set(
      type,
      await encryptEntry(context.passKey, plain, context.iterations),
    );
    const signature = await signAttribute(context.passKey, 0, type, plain, context.iterations);
    additions.meta.set(signatureMetaId("key", privateKey.id, type), {
      item1: signature,
      item2: undefined,
    });
  }
  await sign(additions, context, "key", privateKey, CKA.modulus);
  await sign(additions, context, "key", privateKey, CKA.publicExponent);
  additions.privateObjects.push(privateKey);

  const publicKey: NssObject = {
    id: newId(),
    attributes: new Map([
      [CKA.class, encodeUlong(CKO.publicKey)],
      [CKA.token, encodeBool(true)],
      [CKA.private, encodeBool(false)],
      [CKA.label, EMPTY],
      [CKA.keyType, encodeUlong(CKK_RSA)],
      [CKA.subject, EMPTY],
      [CKA.id, ckaId],
      [CKA.encrypt, encodeBool(true)],
      [CKA.wrap, encodeBool(true)],
      [CKA.verify, encodeBool(true)],
      [CKA.verifyRecover, encodeBool(true)],
      [CKA.derive, encodeBool(false)],
      [CKA.startDate, EMPTY],
      [CKA.endDate, EMPTY],
      [CKA.modulus, parts.modulus],
      [CKA.publicExponent, parts.publicExponent],
      [CKA.local, encodeBool(false)],
      [CKA.neverExtractable, encodeBool(true)],
      [CKA.modifiable, encodeBool(true)],
    ]),
  };
  await sign(additions, context, "cert", publicKey, CKA.modulus);
  await sign(additions, context, "cert", publicKey, CKA.publicExponent);
  additions.publicObjects.push(publicKey);
  return additions;
}
