/**
 * The names a client certificate is checked against, read the way NSS's
 * `CERT_VerifyCertName()` reads them for corosync-qnetd: the subjectAltName dNSNames when the
 * certificate has that extension (then the CN is ignored), otherwise the subject's first CN.
 *
 * The daemon gets the peer certificate from OpenSSL as DER, after OpenSSL has verified it
 * against the QNet CA, and reads the two fields here, in JS, rather than walking OpenSSL's
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
import { bytesToByteString } from "../byte_string.ts";

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const OCTET_STRING = 0x04;
const VERSION = 0xa0; // [0] EXPLICIT
const EXTENSIONS = 0xa3; // [3] EXPLICIT
const DNS_NAME = 0x82; // GeneralName [2] IMPLICIT IA5String

/** 2.5.29.17 and 2.5.4.3, the content bytes of their OIDs. */
const SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11];
const COMMON_NAME = [0x55, 0x04, 0x03];

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

const utf8 = new TextDecoder();

/** A directory string as text (NSS converts every kind to UTF-8 before comparing). */
function directoryString(der: Uint8Array, e: Element): string {
  const bytes = der.subarray(e.start, e.end);
  switch (e.tag) {
    case 0x0c: // UTF8String
      return utf8.decode(bytes);
    case 0x1e: { // BMPString: UTF-16BE
      let text = "";
      for (let i = 0; i + 1 < bytes.length; i += 2) {
        text += String.fromCharCode(bytes[i]! * 256 + bytes[i + 1]!);
      }
      return text;
    }
    case 0x1c: { // UniversalString: UTF-32BE
      let text = "";
      for (let i = 0; i + 3 < bytes.length; i += 4) {
        const point = ((bytes[i]! * 256 + bytes[i + 1]!) * 256 + bytes[i + 2]!) * 256 +
          bytes[i + 3]!;
        text += point <= 0x10ffff ? String.fromCodePoint(point) : "\ufffd";
      }
      return text;
    }
    default: // PrintableString, IA5String, TeletexString, VisibleString: one byte a character
      return bytesToByteString(bytes);
  }
}

/** The dNSNames of a subjectAltName extension's value. */
function altDnsNames(der: Uint8Array, value: Element): string[] {
  const names = expect(element(der, value.start, value.end), SEQUENCE);
  return children(der, names)
    .filter((name) => name.tag === DNS_NAME)
    .map((name) => bytesToByteString(der.subarray(name.start, name.end)));
}

/** The first CN of a Name (RDNs in order, attributes of an RDN in order). */
function firstCommonName(der: Uint8Array, name: Element): string | undefined {
  for (const rdn of children(der, expect(name, SEQUENCE))) {
    for (const attribute of children(der, expect(rdn, SET))) {
      const [type, value] = children(der, expect(attribute, SEQUENCE));
      if (type !== undefined && value !== undefined && isOid(der, type, COMMON_NAME)) {
        return directoryString(der, value);
      }
    }
  }
  return undefined;
}

/** dNSNames of the SAN, or `[CN]` without a SAN; `[]` when neither can be read. */
export function certificateNames(der: Uint8Array): string[] {
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
    return [];
  }
  try {
    if (san !== undefined) return altDnsNames(der, san);
    const cn = firstCommonName(der, subject);
    return cn === undefined ? [] : [cn];
  } catch {
    // A SAN or subject that cannot be read matches nothing, as in NSS.
    return [];
  }
}
