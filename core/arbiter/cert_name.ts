/**
 * The client-certificate name check of the C daemon: NSS `CERT_VerifyCertName(cert,
 * cluster_name)` as used by qnetd_client_msg_received_check_tls().
 *
 * NSS compares the host name (here the PREINIT cluster name, as a C string) with each SAN
 * dNSName when the certificate has a SAN, else with the subject CN: ASCII
 * case-insensitively, with the RFC 6125 wildcard rule of `cert_TestHostName()` (certdb.c).
 * The caller passes the names already chosen (SAN dNSNames, or [CN]).
 *
 * @module
 */

const encoder = new TextEncoder();

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

const DOT = 0x2e;
const STAR = 0x2a;

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
    (!equalsIgnoreCase(hn.subarray(0, 4), encoder.encode("xn--")) || wildcard === 0)
  ) {
    return true;
  }
  return equalsIgnoreCase(hn, cn);
}

/**
 * True if the certificate `names` (SAN dNSNames, or [CN] without a SAN) match the cluster
 * name bytes the client sent in PREINIT.
 */
export function certNameMatches(names: readonly string[], clusterName: Uint8Array): boolean {
  return names.some((name) => testHostName(encoder.encode(name), clusterName));
}
