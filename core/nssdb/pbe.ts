/**
 * The password-based cryptography of key4.db (NSS lib/softoken/sftkpwd.c and lowpbe.c), with
 * WebCrypto:
 *
 * - the password key: SHA-1 (SHA-384 for a 48-byte salt) of the global salt from metaData's
 *   `password` entry followed by the password (sftkdb_passwordToKey);
 * - encrypted attributes and the password check: PBES2 with PBKDF2-HMAC-SHA256 over that key
 *   and AES-256-CBC (PKCS #7 padding), DER `SEQUENCE { AlgorithmIdentifier, OCTET STRING }`.
 *   NSS's IV parameter is itself a DER OCTET STRING of 14 random bytes, and the 16 bytes of
 *   that encoding (04 0E ...) are the IV (nsspkcs5_SetIVParam);
 * - attribute signatures: PBMAC1 with PBKDF2-HMAC-SHA256 and HMAC-SHA256 over the 4-byte object
 *   id, the 4-byte attribute type and the plain value (sftkdb_pbehash).
 *
 * With an empty password NSS uses 1 PBKDF2 iteration (sftkdb_finishPasswordCheck).
 *
 * A database NSS converted from the legacy DBM format keeps NSS's old PBE for the password check
 * and the private values ("PKCS #12" PBE with SHA-1 and 3DES-CBC, OID 1.2.840.113549.1.12.5.1.3):
 * PBKDF1-SHA-1 over the password key and the entry salt, stretched to 32 bytes with NSS's
 * HMAC-SHA-1 extension (nsspkcs5_PFXPBE), the first 24 the key, the last 8 the IV. Those values
 * carry no HMAC (NSS signs only AES-256 entries). Read only: qnet writes the current format.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import {
  bytesEqual,
  DER_TAG,
  type DerElement,
  DerError,
  encodeElement,
  encodeOid,
  encodeSequence,
  encodeSmallInteger,
  isOid,
  readOnly,
  readSmallInteger,
  sequenceOf,
} from "./der.ts";
import { encodeUlong } from "./attributes.ts";
import { decryptDesEde3Cbc, DES_BLOCK, DES_EDE3_KEY_LENGTH } from "./des.ts";

/** Object identifiers of the algorithms in key4.db. */
export const OID = {
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbmac1: "1.2.840.113549.1.5.14",
  hmacSha1: "1.2.840.113549.2.7",
  hmacSha256: "1.2.840.113549.2.9",
  hmacSha384: "1.2.840.113549.2.10",
  hmacSha512: "1.2.840.113549.2.11",
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
  /** SEC_OID_PKCS12_PBE_WITH_SHA1_AND_TRIPLE_DES_CBC, NSS's legacy key encryption. */
  pbeSha1TripleDesCbc: "1.2.840.113549.1.12.5.1.3",
} as const;

const HMAC_HASHES: ReadonlyArray<readonly [string, string, number]> = [
  [OID.hmacSha1, "SHA-1", 20],
  [OID.hmacSha256, "SHA-256", 32],
  [OID.hmacSha384, "SHA-384", 48],
  [OID.hmacSha512, "SHA-512", 64],
];

const AES_CBC: ReadonlyArray<readonly [string, number]> = [
  [OID.aes128Cbc, 16],
  [OID.aes192Cbc, 24],
  [OID.aes256Cbc, 32],
];

/** Iteration count NSS uses for an empty password. */
export const EMPTY_PASSWORD_ITERATIONS = 1;
/** Iteration count NSS uses for a non-empty password (NSS_MP_PBE_ITERATION_COUNT). */
export const PASSWORD_ITERATIONS = 10000;
/** Above this a stored iteration count is taken as hostile (it would stall the reader). */
export const MAX_ITERATIONS = 1_000_000;
/** Entry salt length of PBES2 and PBMAC1 entries (SHA256_LENGTH). */
export const ENTRY_SALT_LENGTH = 32;
/** Random bytes in NSS's IV parameter (the IV is their 16-byte DER encoding). */
const IV_RANDOM_LENGTH = 14;
/** Global salt length for an empty password (SHA1_LENGTH). */
export const GLOBAL_SALT_LENGTH = 20;
/** Global salt length that selects SHA-384 in sftkdb_passwordToKey. */
const SHA384_SALT_LENGTH = 48;
/** The plain text of the password check entry (SFTK_PW_CHECK_STRING). */
export const PASSWORD_CHECK = "password-check";

/** Bytes copied into a buffer of their own (what WebCrypto's types want). */
export function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** sftkdb_passwordToKey(): the key all entry keys are derived from. */
export async function passwordKey(
  globalSalt: Uint8Array,
  password: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const hash = globalSalt.length === SHA384_SALT_LENGTH ? "SHA-384" : "SHA-1";
  const input = concatBytes([globalSalt, new TextEncoder().encode(password)]);
  return new Uint8Array(await crypto.subtle.digest(hash, ownBytes(input)));
}

/** PBKDF2 parameters of an entry. */
export interface Pbkdf2Params {
  salt: Uint8Array;
  iterations: number;
  keyLength: number | undefined;
  hash: string;
}

/** A decoded PBES2 entry. */
export interface Pbes2Entry {
  kind: "pbes2";
  kdf: Pbkdf2Params;
  aesKeyLength: number;
  iv: Uint8Array;
  data: Uint8Array;
}

/** A decoded legacy entry: NSS's old PBE with SHA-1 and 3DES-CBC. */
export interface LegacyDesEntry {
  kind: "legacy-3des";
  salt: Uint8Array;
  iterations: number;
  data: Uint8Array;
}

/** A decoded PBMAC1 entry. */
export interface Pbmac1Entry {
  kind: "pbmac1";
  kdf: Pbkdf2Params;
  macHash: string;
  macLength: number;
  mac: Uint8Array;
}

function hashOfHmac(algorithm: DerElement | undefined, what: string): [string, number] {
  const [oid] = sequenceOf(algorithm, 1, what);
  for (const [dotted, hash, length] of HMAC_HASHES) if (isOid(oid, dotted)) return [hash, length];
  throw new DerError(`${what}: unsupported HMAC`);
}

function decodePbkdf2(algorithm: DerElement | undefined, what: string): Pbkdf2Params {
  const [oid, params] = sequenceOf(algorithm, 2, what);
  if (!isOid(oid, OID.pbkdf2)) throw new DerError(`${what}: PBKDF2 expected`);
  const fields = sequenceOf(params, 2, `${what} PBKDF2 parameters`);
  const salt = fields[0]!;
  if (salt.tag !== DER_TAG.octetString) throw new DerError(`${what}: salt must be an OCTET STRING`);
  const iterations = readSmallInteger(fields[1], `${what} iterations`);
  if (iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new DerError(`${what}: iteration count ${iterations} out of range`);
  }
  let next = 2;
  let keyLength: number | undefined;
  if (fields[next]?.tag === DER_TAG.integer) {
    keyLength = readSmallInteger(fields[next], `${what} key length`);
    next++;
  }
  // The PRF defaults to HMAC-SHA1 (PKCS #5), as in NSS.
  const [hash] = fields[next] === undefined ? ["SHA-1"] : hashOfHmac(fields[next], `${what} PRF`);
  return { salt: salt.content, iterations, keyLength, hash };
}

/** Decodes a stored PBES2 or PBMAC1 entry; {@link DerError} for anything else. */
export function decodeEntry(
  bytes: Uint8Array,
  what: string,
): Pbes2Entry | Pbmac1Entry | LegacyDesEntry {
  const outer = readOnly(bytes, DER_TAG.sequence, what);
  const [algorithm, data] = sequenceOf(outer, 2, what);
  if (data === undefined || data.tag !== DER_TAG.octetString) {
    throw new DerError(`${what}: OCTET STRING expected`);
  }
  const [oid, params] = sequenceOf(algorithm, 2, `${what} algorithm`);
  if (isOid(oid, OID.pbes2)) {
    const [kdfAlg, encAlg] = sequenceOf(params, 2, `${what} PBES2 parameters`);
    const kdf = decodePbkdf2(kdfAlg, what);
    const [encOid, iv] = sequenceOf(encAlg, 2, `${what} cipher`);
    const aes = AES_CBC.find(([dotted]) => isOid(encOid, dotted));
    if (aes === undefined) throw new DerError(`${what}: only AES-CBC entries are supported`);
    // NSS takes the whole encoding of the parameter as the IV (see the module comment).
    const ivBytes = iv!.tag === DER_TAG.octetString && iv!.content.length === 16
      ? iv!.content
      : iv!.encoded;
    if (ivBytes.length !== 16) throw new DerError(`${what}: IV is not 16 bytes`);
    if (data.content.length === 0 || data.content.length % 16 !== 0) {
      throw new DerError(`${what}: cipher text is not whole AES blocks`);
    }
    return { kind: "pbes2", kdf, aesKeyLength: aes[1], iv: ivBytes, data: data.content };
  }
  if (isOid(oid, OID.pbeSha1TripleDesCbc)) {
    const [salt, count] = sequenceOf(params, 2, `${what} PBE parameters`);
    if (salt!.tag !== DER_TAG.octetString) throw new DerError(`${what}: salt expected`);
    const iterations = readSmallInteger(count, `${what} iterations`);
    if (iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new DerError(`${what}: iteration count ${iterations} out of range`);
    }
    if (data.content.length === 0 || data.content.length % DES_BLOCK !== 0) {
      throw new DerError(`${what}: cipher text is not whole 3DES blocks`);
    }
    return { kind: "legacy-3des", salt: salt!.content, iterations, data: data.content };
  }
  if (isOid(oid, OID.pbmac1)) {
    const [kdfAlg, macAlg] = sequenceOf(params, 2, `${what} PBMAC1 parameters`);
    const kdf = decodePbkdf2(kdfAlg, what);
    const [macHash, macLength] = hashOfHmac(macAlg, `${what} MAC`);
    return { kind: "pbmac1", kdf, macHash, macLength, mac: data.content };
  }
  throw new DerError(`${what}: neither PBES2 nor PBMAC1`);
}

async function pbkdf2(passKey: Uint8Array, kdf: Pbkdf2Params, length: number) {
  const base = await crypto.subtle.importKey("raw", ownBytes(passKey), "PBKDF2", false, [
    "deriveBits",
  ]);
  return await crypto.subtle.deriveBits(
    { name: "PBKDF2", salt: ownBytes(kdf.salt), iterations: kdf.iterations, hash: kdf.hash },
    base,
    length * 8,
  );
}

/** HMAC-SHA-1 of `data` under `key`. */
async function hmacSha1(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    ownBytes(key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, ownBytes(data)));
}

/** SHA-1 output length. */
const SHA1_LENGTH = 20;

/** Key and IV of a legacy entry (nsspkcs5_PBKDF1Extended with SHA-1, 24 + 8 bytes). */
async function legacyKeyAndIv(passKey: Uint8Array, entry: LegacyDesEntry) {
  let hash = concatBytes([passKey, entry.salt]);
  for (let i = 0; i < entry.iterations; i++) {
    hash = new Uint8Array(await crypto.subtle.digest("SHA-1", ownBytes(hash)));
  }
  const needed = DES_EDE3_KEY_LENGTH + DES_BLOCK;
  let state: Uint8Array = new Uint8Array(Math.max(SHA1_LENGTH, entry.salt.length));
  state.set(entry.salt);
  const out: Uint8Array[] = [];
  for (let produced = 0; produced < needed; produced += SHA1_LENGTH) {
    out.push(await hmacSha1(hash, concatBytes([state, entry.salt])));
    state = await hmacSha1(hash, state);
  }
  const bits = concatBytes(out);
  return { key: bits.subarray(0, DES_EDE3_KEY_LENGTH), iv: bits.subarray(bits.length - DES_BLOCK) };
}

/** Decrypts a PBES2 or legacy entry; undefined when the key is wrong (bad padding). */
export async function decryptEntry(
  passKey: Uint8Array,
  entry: Pbes2Entry | LegacyDesEntry,
): Promise<Uint8Array | undefined> {
  if (entry.kind === "legacy-3des") {
    const { key, iv } = await legacyKeyAndIv(passKey, entry);
    return decryptDesEde3Cbc(key, iv, entry.data);
  }
  const keyLength = entry.kdf.keyLength ?? entry.aesKeyLength;
  if (keyLength !== entry.aesKeyLength) throw new DerError("PBES2 key length does not fit AES");
  const bits = await pbkdf2(passKey, entry.kdf, keyLength);
  const key = await crypto.subtle.importKey("raw", bits, "AES-CBC", false, ["decrypt"]);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-CBC", iv: ownBytes(entry.iv) },
        key,
        ownBytes(entry.data),
      ),
    );
  } catch {
    return undefined;
  }
}

function random(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

function pbkdf2Algorithm(salt: Uint8Array, iterations: number, keyLength: number): Uint8Array {
  return encodeSequence([
    encodeOid(OID.pbkdf2),
    encodeSequence([
      encodeElement(DER_TAG.octetString, salt),
      encodeSmallInteger(iterations),
      encodeSmallInteger(keyLength),
      encodeSequence([encodeOid(OID.hmacSha256)]),
    ]),
  ]);
}

/** sftkdb_EncryptAttribute(): PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC, as NSS writes it. */
export async function encryptEntry(
  passKey: Uint8Array,
  plain: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const salt = random(ENTRY_SALT_LENGTH);
  const ivParam = encodeElement(DER_TAG.octetString, random(IV_RANDOM_LENGTH));
  const aesKeyLength = 32;
  const bits = await pbkdf2(
    passKey,
    { salt, iterations, keyLength: aesKeyLength, hash: "SHA-256" },
    aesKeyLength,
  );
  const key = await crypto.subtle.importKey("raw", bits, "AES-CBC", false, ["encrypt"]);
  const data = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv: ownBytes(ivParam) }, key, ownBytes(plain)),
  );
  const algorithm = encodeSequence([
    encodeOid(OID.pbes2),
    encodeSequence([
      pbkdf2Algorithm(salt, iterations, aesKeyLength),
      encodeSequence([encodeOid(OID.aes256Cbc), ivParam]),
    ]),
  ]);
  return encodeSequence([algorithm, encodeElement(DER_TAG.octetString, data)]);
}

async function hmac(
  passKey: Uint8Array,
  kdf: Pbkdf2Params,
  macHash: string,
  macLength: number,
  objectId: number,
  type: number,
  plain: Uint8Array,
): Promise<Uint8Array> {
  const bits = await pbkdf2(passKey, kdf, kdf.keyLength ?? macLength);
  const key = await crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: macHash }, false, [
    "sign",
  ]);
  const message = concatBytes([encodeUlong(objectId), encodeUlong(type), plain]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, ownBytes(message)));
}

/** sftkdb_SignAttribute(): the PBMAC1 signature of one attribute value. */
export async function signAttribute(
  passKey: Uint8Array,
  objectId: number,
  type: number,
  plain: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const salt = random(ENTRY_SALT_LENGTH);
  const macLength = 32;
  const kdf = { salt, iterations, keyLength: macLength, hash: "SHA-256" };
  const mac = await hmac(passKey, kdf, "SHA-256", macLength, objectId, type, plain);
  const algorithm = encodeSequence([
    encodeOid(OID.pbmac1),
    encodeSequence([
      pbkdf2Algorithm(salt, iterations, macLength),
      encodeSequence([encodeOid(OID.hmacSha256)]),
    ]),
  ]);
  return encodeSequence([algorithm, encodeElement(DER_TAG.octetString, mac)]);
}

/** sftkdb_VerifyAttribute(): true when `signature` is the PBMAC1 of the value. */
export async function verifyAttribute(
  passKey: Uint8Array,
  signature: Uint8Array,
  objectId: number,
  type: number,
  plain: Uint8Array,
): Promise<boolean> {
  const entry = decodeEntry(signature, "attribute signature");
  if (entry.kind !== "pbmac1") throw new DerError("attribute signature is not PBMAC1");
  const mac = await hmac(
    passKey,
    entry.kdf,
    entry.macHash,
    entry.macLength,
    objectId,
    type,
    plain,
  );
  return bytesEqual(mac, entry.mac);
}
