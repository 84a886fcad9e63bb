/**
 * The names a client certificate is checked against, read the way NSS 3.87 reads them for
 * corosync-qnetd's `CERT_VerifyCertName()` (lib/certdb/certdb.c, alg1485.c, genname.c,
 * xconst.c, secname.c):
 *
 * - the subjectAltName entries, when the certificate has that extension and NSS can decode it
 *   (`CERT_DecodeAltNameExtension()`): an empty GeneralNames, or one entry NSS cannot decode,
 *   makes the whole extension count as absent;
 * - the LAST subject CN (`CERT_GetCommonName()` = `CERT_GetLastNameElement()`, "the most
 *   specific"), converted to UTF-8 as `CERT_DecodeAVAValue()` converts it: UTF8String,
 *   PrintableString and IA5String as they are, T61String as ISO-8859-1, BMPString as UCS-2,
 *   UniversalString as UCS-4. Any other string type (VisibleString, ...) gives no CN at all,
 *   even when an earlier CN would have been readable.
 *
 * The matching itself (escaping, wildcards, IP literals) is core/arbiter/cert_name.ts.
 *
 * The daemon gets the peer certificate from OpenSSL as DER, after OpenSSL has verified it
 * against the QNet CA, and reads the fields here, in JS, rather than walking OpenSSL's
 * structures through FFI pointers: Deno allows pointer views only with unscoped
 * `--allow-ffi`, and the daemon's ffi permission is scoped to libssl.
 *
 * This is a walk over a handful of DER tags, not a certificate parser: a full parse with
 * @peculiar/x509 cost about 0.35 ms per TLS client (plus 100 ms to load the library on the
 * first handshake), a fifth of the daemon's CPU per TLS client in a reconnect storm.
 * tests/certutil/peer_names_test.ts checks it against @peculiar/x509 on generated
 * certificates and against malformed input.
 *
 * @module
 */

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const OCTET_STRING = 0x04;
const VERSION = 0xa0; // [0] EXPLICIT
const EXTENSIONS = 0xa3; // [3] EXPLICIT

/** Directory string tags NSS's CERT_DecodeAVAValue() accepts. */
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const T61_STRING = 0x14;
const IA5_STRING = 0x16;
const UNIVERSAL_STRING = 0x1c;
const BMP_STRING = 0x1e;

/**
 * GeneralName CHOICE: the tag byte NSS's template for each alternative expects, indexed by
 * `(tag & 0x0f)` as CERT_DecodeGeneralName() picks the alternative.
 */
const GENERAL_NAME_TAGS = [
  0xa0, // otherName [0] constructed
  0x81, // rfc822Name [1] IA5String
  0x82, // dNSName [2] IA5String
  0xa3, // x400Address [3] constructed
  0xa4, // directoryName [4] EXPLICIT Name
  0xa5, // ediPartyName [5] constructed
  0x86, // uniformResourceIdentifier [6] IA5String
  0x87, // iPAddress [7] OCTET STRING
  0x88, // registeredID [8] OBJECT IDENTIFIER
] as const;
const DNS_NAME = 0x82;
const IP_ADDRESS = 0x87;
const DIRECTORY_NAME = 0xa4;
const OTHER_NAME = 0xa0;
const OTHER_NAME_VALUE = 0xa0; // [0] EXPLICIT inside otherName

/** 2.5.29.17 and 2.5.4.3, the content bytes of their OIDs. */
const SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11];
const COMMON_NAME = [0x55, 0x04, 0x03];

/** One subjectAltName entry: a dNSName or iPAddress with its raw bytes, or another kind. */
export type AltName =
  | { readonly kind: "dns"; readonly value: Uint8Array }
  | { readonly kind: "ip"; readonly value: Uint8Array }
  | { readonly kind: "other" };

/** What NSS's name check reads from a client certificate. */
export interface PeerCertNames {
  /** The SAN entries; undefined when the extension is absent, empty or undecodable. */
  readonly altNames: readonly AltName[] | undefined;
  /** The last subject CN in UTF-8; undefined when there is none or NSS cannot decode it. */
  readonly commonName: Uint8Array | undefined;
}

/** A certificate that offers no name: matches no cluster. */
export const NO_NAMES: PeerCertNames = Object.freeze({
  altNames: undefined,
  commonName: undefined,
});

/** One DER element: its tag and where its content lies in the buffer. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

class DerError extends Error {}

/** The element at `pos`, which must end at or before `limit`. */
function element(der: Uint8Array, pos: number, limit: number): Element {
  if (pos + 2 > limit) throw new DerError("truncated");
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tag");
  let length = der[pos + 1]!;
  let start = pos + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new DerError("bad length");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start++]!;
  }
  if (start + length > limit) throw new DerError("truncated");
  return { tag, start, end: start + length };
}

/** The elements inside `parent`, in order. */
function children(der: Uint8Array, parent: Element): Element[] {
  const out: Element[] = [];
  for (let pos = parent.start; pos < parent.end;) {
    const child = element(der, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expect(e: Element | undefined, tag: number): Element {
  if (e === undefined || e.tag !== tag) throw new DerError(`expected tag ${tag}`);
  return e;
}

function isOid(der: Uint8Array, e: Element, oid: readonly number[]): boolean {
  if (e.tag !== OID || e.end - e.start !== oid.length) return false;
  return oid.every((byte, i) => der[e.start + i] === byte);
}

/** Appends the UTF-8 encoding of `point` as NSS's converters write it (no surrogate check). */
function pushUtf8(out: number[], point: number): void {
  if (point < 0x80) out.push(point);
  else if (point < 0x800) out.push(0xc0 | (point >> 6), 0x80 | (point & 0x3f));
  else if (point < 0x10000) {
    out.push(0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f));
  } else {
    out.push(
      0xf0 | (point >> 18),
      0x80 | ((point >> 12) & 0x3f),
      0x80 | ((point >> 6) & 0x3f),
      0x80 | (point & 0x3f),
    );
  }
}

/** `PORT_UCS2_UTF8Conversion()`: pairs of surrogates combine, a lone one fails. */
function ucs2ToUtf8(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = bytes[i]! * 256 + bytes[i + 1]!;
    if ((unit & 0xfc00) === 0xd800) {
      if (bytes.length - i <= 2 || (bytes[i + 2]! & 0xfc) !== 0xdc) return undefined;
      const low = bytes[i + 2]! * 256 + bytes[i + 3]!;
      pushUtf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
      i += 2;
    } else if ((unit & 0xfc00) === 0xdc00) {
      return undefined;
    } else {
      pushUtf8(out, unit);
    }
  }
  return Uint8Array.from(out);
}

/** `PORT_UCS4_UTF8Conversion()`: code points above U+10FFFF fail. */
function ucs4ToUtf8(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    if (bytes[i]! > 0 || bytes[i + 1]! > 0x10) return undefined;
    pushUtf8(out, (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return Uint8Array.from(out);
}

/** `PORT_ISO88591_UTF8Conversion()`. */
function latin1ToUtf8(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const byte of bytes) pushUtf8(out, byte);
  return Uint8Array.from(out);
}

/** `CERT_DecodeAVAValue()`: the value in UTF-8, or undefined for a type NSS refuses. */
function directoryString(der: Uint8Array, e: Element): Uint8Array | undefined {
  const bytes = der.subarray(e.start, e.end);
  switch (e.tag) {
    case UTF8_STRING:
    case PRINTABLE_STRING:
    case IA5_STRING:
      return bytes.slice();
    case T61_STRING:
      return latin1ToUtf8(bytes);
    case BMP_STRING:
      return ucs2ToUtf8(bytes);
    case UNIVERSAL_STRING:
      return ucs4ToUtf8(bytes);
    default:
      return undefined;
  }
}

/** The AVAs of a Name (RDNs in order, attributes of an RDN in order), each [type, value]. */
function attributes(der: Uint8Array, name: Element): Array<[Element, Element]> {
  const out: Array<[Element, Element]> = [];
  for (const rdn of children(der, expect(name, SEQUENCE))) {
    for (const attribute of children(der, expect(rdn, SET))) {
      const [type, value, extra] = children(der, expect(attribute, SEQUENCE));
      if (type === undefined || value === undefined || extra !== undefined || type.tag !== OID) {
        throw new DerError("bad attribute");
      }
      out.push([type, value]);
    }
  }
  return out;
}

/** `CERT_GetCommonName()`: the last CN of the Name, decoded. */
function lastCommonName(der: Uint8Array, name: Element): Uint8Array | undefined {
  let last: Element | undefined;
  for (const [type, value] of attributes(der, name)) {
    if (isOid(der, type, COMMON_NAME)) last = value;
  }
  return last === undefined ? undefined : directoryString(der, last);
}

/** One GeneralName as `CERT_DecodeGeneralName()` decodes it; throws where NSS fails. */
function generalName(der: Uint8Array, name: Element): AltName {
  const index = name.tag & 0x0f;
  if (index >= GENERAL_NAME_TAGS.length || GENERAL_NAME_TAGS[index] !== name.tag) {
    throw new DerError("unknown GeneralName");
  }
  switch (name.tag) {
    case DNS_NAME:
      return { kind: "dns", value: der.slice(name.start, name.end) };
    case IP_ADDRESS:
      return { kind: "ip", value: der.slice(name.start, name.end) };
    case DIRECTORY_NAME: {
      const [inner, extra] = children(der, name);
      if (extra !== undefined) throw new DerError("bad directoryName");
      attributes(der, expect(inner, SEQUENCE));
      return { kind: "other" };
    }
    case OTHER_NAME: {
      const [type, value, extra] = children(der, name);
      if (type?.tag !== OID || value?.tag !== OTHER_NAME_VALUE || extra !== undefined) {
        throw new DerError("bad otherName");
      }
      return { kind: "other" };
    }
    default:
      return { kind: "other" };
  }
}

/** `CERT_DecodeAltNameExtension()`: undefined when empty or when any entry fails. */
function altNames(der: Uint8Array, value: Element): AltName[] | undefined {
  try {
    const [names, extra] = children(der, value);
    if (extra !== undefined) return undefined;
    const list = children(der, expect(names, SEQUENCE)).map((name) => generalName(der, name));
    return list.length === 0 ? undefined : list;
  } catch {
    return undefined;
  }
}

/** The SAN entries and last CN of a DER certificate; {@linkcode NO_NAMES} if unreadable. */
export function certificateNames(der: Uint8Array): PeerCertNames {
  let subject: Element;
  let san: Element | undefined;
  try {
    const certificate = expect(element(der, 0, der.length), SEQUENCE);
    const tbs = expect(children(der, certificate)[0], SEQUENCE);
    const fields = children(der, tbs);
    // serialNumber, signature, issuer, validity, subject: subject is the fifth after version.
    subject = expect(fields[(fields[0]?.tag === VERSION ? 1 : 0) + 4], SEQUENCE);
    const extensions = fields.find((field) => field.tag === EXTENSIONS);
    if (extensions !== undefined) {
      const list = expect(element(der, extensions.start, extensions.end), SEQUENCE);
      for (const extension of children(der, list)) {
        const parts = children(der, expect(extension, SEQUENCE));
        if (parts[0] !== undefined && isOid(der, parts[0], SUBJECT_ALT_NAME)) {
          san = expect(parts[parts.length - 1], OCTET_STRING);
          break;
        }
      }
    }
  } catch {
    return NO_NAMES;
  }
  let commonName: Uint8Array | undefined;
  try {
    commonName = lastCommonName(der, subject);
  } catch {
    // A subject that cannot be read has no CN.
  }
  return { altNames: san === undefined ? undefined : altNames(der, san), commonName };
}
