/**
 * The few fields of an X.509 certificate that NSS copies into cert9.db's columns: issuer,
 * serial number (the whole DER INTEGER), subject, and the RSA modulus whose SHA-1 is the CKA_ID
 * that ties a certificate to its private key (PK11_MakeIDFromPubKey); and the validity, by which
 * NSS picks the best of several certificates with one nickname.
 *
 * @module
 */
import {
  DER_TAG,
  type DerElement,
  DerError,
  isOid,
  readChildren,
  readOnly,
  sequenceOf,
  unsignedIntegerBytes,
} from "./der.ts";
import { RSA_ENCRYPTION_OID, stripLeadingZeros } from "./rsa_key.ts";

/** Tag of the explicit `[0] version` of a TBSCertificate. */
const VERSION_TAG = 0xa0;
/** Tag of a BIT STRING. */
const BIT_STRING = 0x03;
/** Tags of the two Time forms of a validity. */
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

/** What cert9.db stores about a certificate besides its DER. */
export interface CertificateFields {
  issuer: Uint8Array;
  serialNumber: Uint8Array;
  subject: Uint8Array;
  /** notBefore and notAfter, milliseconds since the epoch. */
  validity: { notBefore: number; notAfter: number };
  /** RSA modulus and exponent of the subject key (undefined for a non-RSA key). */
  rsaPublicKey: { modulus: Uint8Array; publicExponent: Uint8Array } | undefined;
}

/** Reads the fields; {@link DerError} when `der` is not a certificate. */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = readOnly(der, DER_TAG.sequence, "certificate");
  const [tbs] = sequenceOf(cert, 3, "certificate");
  const fields = sequenceOf(tbs, 6, "TBSCertificate");
  const at = fields[0]!.tag === VERSION_TAG ? 1 : 0;
  const serial = fields[at];
  const [notBefore, notAfter] = sequenceOf(fields[at + 3], 2, "validity");
  const issuer = fields[at + 2];
  const subject = fields[at + 4];
  const spki = fields[at + 5];
  if (serial?.tag !== DER_TAG.integer) throw new DerError("certificate: serial number expected");
  if (issuer?.tag !== DER_TAG.sequence || subject?.tag !== DER_TAG.sequence) {
    throw new DerError("certificate: issuer and subject expected");
  }
  const [algorithm, bits] = sequenceOf(spki, 2, "SubjectPublicKeyInfo");
  const [oid] = sequenceOf(algorithm, 1, "public key algorithm");
  let rsaPublicKey: CertificateFields["rsaPublicKey"];
  if (isOid(oid, RSA_ENCRYPTION_OID)) {
    if (bits!.tag !== BIT_STRING || bits!.content[0] !== 0) {
      throw new DerError("certificate: public key BIT STRING expected");
    }
    const key = readOnly(bits!.content.subarray(1), DER_TAG.sequence, "RSAPublicKey");
    const [n, e] = readChildren(key.content);
    rsaPublicKey = {
      modulus: stripLeadingZeros(unsignedIntegerBytes(n, "RSA modulus")),
      publicExponent: stripLeadingZeros(unsignedIntegerBytes(e, "RSA exponent")),
    };
  }
  return {
    validity: { notBefore: readTime(notBefore!), notAfter: readTime(notAfter!) },
    issuer: issuer.encoded,
    serialNumber: serial.encoded,
    subject: subject.encoded,
    rsaPublicKey,
  };
}

/** A UTCTime (years 1950-2049, RFC 5280) or GeneralizedTime `...Z` as epoch milliseconds. */
function readTime(element: DerElement): number {
  const text = String.fromCharCode(...element.content);
  const match = element.tag === UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : element.tag === GENERALIZED_TIME
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  if (match === null) throw new DerError("certificate: validity time expected");
  const [, y, mo, d, h, mi, se] = match.map(Number) as number[];
  const year = element.tag === UTC_TIME ? (y! < 50 ? 2000 + y! : 1900 + y!) : y!;
  return Date.UTC(year, mo! - 1, d!, h!, mi!, se!);
}
