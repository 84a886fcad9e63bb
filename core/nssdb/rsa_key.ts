/**
 * RSA private keys between PKCS #8 (what WebCrypto and TLS libraries take) and the PKCS #11
 * attributes NSS keeps in key4.db (CKA_MODULUS ... CKA_COEFFICIENT, unsigned big-endian).
 * RSA only: corosync-qnetd-certutil makes RSA keys, and that is all this codec handles.
 *
 * @module
 */
import {
  DER_TAG,
  DerError,
  encodeElement,
  encodeOid,
  encodeSequence,
  encodeUnsignedInteger,
  isOid,
  readOnly,
  readSmallInteger,
  sequenceOf,
  unsignedIntegerBytes,
} from "./der.ts";
import { CKA } from "./attributes.ts";

/** rsaEncryption */
export const RSA_ENCRYPTION_OID = "1.2.840.113549.1.1.1";

/** The numbers of an RSA private key, each unsigned big-endian without leading zeros. */
export interface RsaKeyParts {
  modulus: Uint8Array;
  publicExponent: Uint8Array;
  privateExponent: Uint8Array;
  prime1: Uint8Array;
  prime2: Uint8Array;
  exponent1: Uint8Array;
  exponent2: Uint8Array;
  coefficient: Uint8Array;
}

/** The order of the numbers in RSAPrivateKey (RFC 8017) after the version. */
export const RSA_PART_ORDER: readonly (keyof RsaKeyParts)[] = [
  "modulus",
  "publicExponent",
  "privateExponent",
  "prime1",
  "prime2",
  "exponent1",
  "exponent2",
  "coefficient",
];

/** The PKCS #11 attribute holding each private number of an RSA key (NSS encrypts these). */
export const RSA_PRIVATE_ATTRIBUTES: ReadonlyArray<readonly [keyof RsaKeyParts, number]> = [
  ["privateExponent", CKA.privateExponent],
  ["prime1", CKA.prime1],
  ["prime2", CKA.prime2],
  ["exponent1", CKA.exponent1],
  ["exponent2", CKA.exponent2],
  ["coefficient", CKA.coefficient],
];

/** The attribute of every number of an RSA key: the public ones, then the private ones. */
export const RSA_KEY_ATTRIBUTES: ReadonlyArray<readonly [keyof RsaKeyParts, number]> = [
  ["modulus", CKA.modulus],
  ["publicExponent", CKA.publicExponent],
  ...RSA_PRIVATE_ATTRIBUTES,
];

/** Leading zero bytes removed (NSS stores the magnitudes so). */
export function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** A PKCS #8 PrivateKeyInfo (DER) holding the RSA key. */
export function rsaPartsToPkcs8(parts: RsaKeyParts): Uint8Array {
  const rsaPrivateKey = encodeSequence([
    encodeUnsignedInteger(new Uint8Array([0])),
    ...RSA_PART_ORDER.map((name) => encodeUnsignedInteger(parts[name])),
  ]);
  return encodeSequence([
    encodeUnsignedInteger(new Uint8Array([0])),
    encodeSequence([encodeOid(RSA_ENCRYPTION_OID), encodeElement(DER_TAG.null, new Uint8Array())]),
    encodeElement(DER_TAG.octetString, rsaPrivateKey),
  ]);
}

/** The numbers of an RSA key in a PKCS #8 PrivateKeyInfo; {@link DerError} for anything else. */
export function pkcs8ToRsaParts(der: Uint8Array): RsaKeyParts {
  const info = readOnly(der, DER_TAG.sequence, "PKCS #8 key");
  const [version, algorithm, key] = sequenceOf(info, 3, "PKCS #8 key");
  readSmallInteger(version, "PKCS #8 version");
  const [oid] = sequenceOf(algorithm, 1, "PKCS #8 algorithm");
  if (!isOid(oid, RSA_ENCRYPTION_OID)) throw new DerError("PKCS #8 key: not an RSA key");
  if (key!.tag !== DER_TAG.octetString) throw new DerError("PKCS #8 key: OCTET STRING expected");
  const fields = sequenceOf(
    readOnly(key!.content, DER_TAG.sequence, "RSAPrivateKey"),
    9,
    "RSAPrivateKey",
  );
  const parts: Partial<RsaKeyParts> = {};
  RSA_PART_ORDER.forEach((name, i) => {
    parts[name] = stripLeadingZeros(unsignedIntegerBytes(fields[i + 1], `RSA ${name}`));
  });
  return parts as RsaKeyParts;
}
