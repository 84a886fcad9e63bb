/**
 * The end of a certificate's validity (`notAfter`), read straight from its DER: the metrics
 * export it so that an alert fires before the server or CA certificate expires. Only the
 * path to the field is walked (Certificate → TBSCertificate → Validity, RFC 5280 §4.1); the
 * certificate is not verified here, OpenSSL does that when it loads it.
 *
 * @module
 */

const TAG_SEQUENCE = 0x30;
const TAG_VERSION = 0xa0;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** A certificate that cannot be read. */
export class CertificateParseError extends Error {
  override name = "CertificateParseError";
}

interface Tlv {
  readonly tag: number;
  /** Offset of the value. */
  readonly start: number;
  /** Offset just past the value. */
  readonly end: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new CertificateParseError("truncated DER");
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) {
      throw new CertificateParseError("bad DER length");
    }
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  if (start + length > limit) throw new CertificateParseError("truncated DER");
  return { tag, start, end: start + length };
}

function expect(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag) throw new CertificateParseError(`not a certificate (${what})`);
  return tlv;
}

/** A UTCTime or GeneralizedTime in `Z` form, as ms since the epoch. */
function readTime(der: Uint8Array, tlv: Tlv): number {
  const text = new TextDecoder("latin1").decode(der.subarray(tlv.start, tlv.end));
  const match = tlv.tag === TAG_UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : tlv.tag === TAG_GENERALIZED_TIME
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  if (match === null) throw new CertificateParseError(`bad validity time ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  // RFC 5280 §4.1.2.5.1: a two-digit year YY >= 50 is 19YY, else 20YY.
  const year = tlv.tag === TAG_UTC_TIME ? (y! >= 50 ? 1900 + y! : 2000 + y!) : y!;
  return Date.UTC(year, mo! - 1, d!, h!, mi!, s!);
}

/** The DER of the first certificate in `data` (PEM, possibly after text, or DER). */
function certificateDer(data: Uint8Array): Uint8Array {
  if (data[0] === TAG_SEQUENCE) return data;
  const match = PEM_CERTIFICATE.exec(new TextDecoder("latin1").decode(data));
  if (match === null) throw new CertificateParseError("no PEM certificate block");
  const binary = atob(match[1]!.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * `notAfter` of the (first) certificate in `data`, ms since the epoch.
 *
 * @throws {CertificateParseError} when `data` holds no readable certificate.
 */
export function certificateNotAfter(data: Uint8Array): number {
  const der = certificateDer(data);
  const cert = expect(readTlv(der, 0, der.length), TAG_SEQUENCE, "Certificate");
  const tbs = expect(readTlv(der, cert.start, cert.end), TAG_SEQUENCE, "TBSCertificate");
  let field = readTlv(der, tbs.start, tbs.end);
  if (field.tag === TAG_VERSION) field = readTlv(der, field.end, tbs.end);
  // serialNumber, signature, issuer, then validity.
  for (let i = 0; i < 3; i++) field = readTlv(der, field.end, tbs.end);
  const validity = expect(field, TAG_SEQUENCE, "Validity");
  const notBefore = readTlv(der, validity.start, validity.end);
  return readTime(der, readTlv(der, notBefore.end, validity.end));
}
