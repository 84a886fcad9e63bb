/**
 * The client-certificate name check of the C daemon: NSS 3.87 `CERT_VerifyCertName(cert,
 * cluster_name)` (lib/certdb/certdb.c) as used by qnetd_client_msg_received_check_tls().
 *
 * - The host name is the PREINIT cluster name as a C string (cut at its first NUL); an empty
 *   one matches nothing.
 * - With a decodable subjectAltName (core/certs/peer_names.ts), `cert_VerifySubjectAltName()`:
 *   for a host name that is an IP literal (core/arbiter/ip_literal.ts) the iPAddress entries,
 *   else the dNSName entries, each first passed through `CERT_RFC1485_EscapeAndQuote()` (so a
 *   name with `,` `+` `=` `"` `\` `<` `>` `#` `;`, CR, LF, a doubled or edge space is quoted and
 *   never matches, and a control byte such as NUL becomes `\00`). When the SAN holds no entry
 *   of the kind looked for, NSS falls back to the CN; when it holds some, the CN is ignored.
 * - The CN is the LAST one, escaped by `avaToString()` (hex escapes for control bytes and
 *   DEL, a backslash before `"` and `\`, no quoting): `clusterA\0.evil` reads `clusterA\00.evil`
 *   and does not match `clusterA`. An IP-literal host name is then compared without wildcards.
 * - Comparisons are ASCII case-insensitive on bytes (`PL_strcasecmp`), with the RFC 6125
 *   wildcard rule of `cert_TestHostName()`.
 *
 * @module
 */
import type { PeerCertNames } from "../certs/peer_names.ts";
import { parseIpLiteral } from "./ip_literal.ts";

const DOT = 0x2e;
const STAR = 0x2a;
const BACKSLASH = 0x5c;
const DOUBLE_QUOTE = 0x22;
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DEL = 0x7f;
const FIRST_PRINTABLE = 0x20;
const ACE_PREFIX = new TextEncoder().encode("xn--");
const HEX = new TextEncoder().encode("0123456789abcdef");
/** RFC 1485 special characters (alg1485.c SPECIAL_CHAR). */
const SPECIAL = new Set([
  0x2c,
  0x3d,
  DOUBLE_QUOTE,
  CR,
  LF,
  0x2b,
  0x3c,
  0x3e,
  0x23,
  0x3b,
  BACKSLASH,
]);
/** Bytes of an IPv4 address and of an IPv4-mapped IPv6 address's prefix. */
const IPV4_BYTES = 4;
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/** `PORT_Strcasecmp(a, b) == 0` on byte strings. */
function equalsIgnoreCase(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (lower(a[i]!) !== lower(b[i]!)) return false;
  return true;
}

/** Bytes up to the first NUL, as C string functions see them. */
function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul === -1 ? bytes : bytes.subarray(0, nul);
}

/** alg1485.c NEEDS_HEX_ESCAPE: control bytes and DEL become `\xx`. */
function needsHexEscape(c: number): boolean {
  return c < FIRST_PRINTABLE || c === DEL;
}

/** alg1485.c NEEDS_ESCAPE: `"` and `\` get a backslash. */
function needsEscape(c: number): boolean {
  return c === DOUBLE_QUOTE || c === BACKSLASH;
}

function optionalSpace(c: number): boolean {
  return c === SPACE || c === CR || c === LF;
}

/**
 * alg1485.c `escapeAndQuote()`: `quote` is minimalEscapeAndQuote (SAN dNSNames), else
 * minimalEscape (the CN through avaToString()).
 */
export function escapeName(value: Uint8Array, quote: boolean): Uint8Array {
  let needsQuoting = false;
  if (quote) {
    // cert_RFC1485_GetRequiredLen(): the branches in its order, so that a byte escaped with a
    // hex code (CR, LF) or a backslash (`"`, `\`) never asks for quotes by itself.
    let last = 0;
    for (const c of value) {
      if (needsHexEscape(c) || needsEscape(c)) {
        // Escaped, not quoted.
      } else if (SPECIAL.has(c) || (optionalSpace(c) && optionalSpace(last))) {
        needsQuoting = true;
      }
      last = c;
    }
    if (value.length > 0 && (optionalSpace(value[0]!) || optionalSpace(value.at(-1)!))) {
      needsQuoting = true;
    }
  }
  const out: number[] = [];
  if (needsQuoting) out.push(DOUBLE_QUOTE);
  for (const c of value) {
    if (needsHexEscape(c)) out.push(BACKSLASH, HEX[c >> 4]!, HEX[c & 0x0f]!);
    else if (needsEscape(c)) out.push(BACKSLASH, c);
    else out.push(c);
  }
  if (needsQuoting) out.push(DOUBLE_QUOTE);
  return Uint8Array.from(out);
}

/** `cert_TestHostName(cn, hn)` without the legacy shell-expression mode. */
export function testHostName(certName: Uint8Array, hostName: Uint8Array): boolean {
  const cn = cString(certName);
  const hn = cString(hostName);
  const wildcard = cn.indexOf(STAR);
  const firstCnDot = cn.indexOf(DOT);
  const secondCnDot = firstCnDot === -1 ? -1 : cn.indexOf(DOT, firstCnDot + 1);
  const firstHnDot = hn.indexOf(DOT);
  if (
    wildcard !== -1 && secondCnDot !== -1 && secondCnDot + 1 < cn.length && firstHnDot !== -1 &&
    firstCnDot - wildcard === 1 && secondCnDot - firstCnDot > 1 &&
    cn.lastIndexOf(STAR) === wildcard &&
    hn.length >= wildcard && equalsIgnoreCase(cn.subarray(0, wildcard), hn.subarray(0, wildcard)) &&
    equalsIgnoreCase(cn.subarray(firstCnDot), hn.subarray(firstHnDot)) &&
    (!equalsIgnoreCase(hn.subarray(0, ACE_PREFIX.length), ACE_PREFIX) || wildcard === 0)
  ) {
    return true;
  }
  return equalsIgnoreCase(hn, cn);
}

/** The 16-byte form of an address (IPv4 as IPv4-mapped IPv6). */
function asIpv6(address: Uint8Array): Uint8Array {
  return address.length === IPV4_BYTES
    ? Uint8Array.from([...IPV4_MAPPED_PREFIX, ...address])
    : address;
}

function sameAddress(entry: Uint8Array, host: Uint8Array): boolean {
  if (entry.length !== IPV4_BYTES && entry.length !== 16) return false;
  const a = asIpv6(entry);
  const b = asIpv6(host);
  return a.every((byte, i) => byte === b[i]);
}

/**
 * True if a client certificate with `names` may join the cluster whose PREINIT name is
 * `clusterName`: `CERT_VerifyCertName(cert, cluster_name) == SECSuccess`.
 */
export function certNameMatches(names: PeerCertNames, clusterName: Uint8Array): boolean {
  const hn = cString(clusterName);
  if (hn.length === 0) return false;
  const ip = parseIpLiteral(hn);
  let relevant = 0;
  for (const entry of names.altNames ?? []) {
    if (ip === undefined && entry.kind === "dns") {
      if (testHostName(escapeName(entry.value, true), hn)) return true;
      relevant++;
    } else if (ip !== undefined && entry.kind === "ip") {
      if (sameAddress(entry.value, ip)) return true;
      relevant++;
    }
  }
  if (relevant > 0 || names.commonName === undefined) return false;
  const cn = escapeName(names.commonName, false);
  return ip === undefined ? testHostName(cn, hn) : equalsIgnoreCase(hn, cn);
}
