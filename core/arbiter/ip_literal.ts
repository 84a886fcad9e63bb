/**
 * Whether a cluster name is an IP address literal, as NSPR 4.35's `PR_StringToNetAddr()` on
 * glibc decides it: NSS's `CERT_VerifyCertName()` then compares it with the certificate's SAN
 * iPAddress entries instead of its dNSNames, and with the CN without wildcards.
 *
 * Without a `%`: NSPR's own `pr_inet_aton()` (BSD inet_aton: 1 to 4 parts, each decimal, octal
 * with a leading 0 or hex with 0x, 32-bit arithmetic that wraps, anything after a space
 * ignored), else glibc's `inet_pton(AF_INET6)`. With a `%`: getaddrinfo(AI_NUMERICHOST), an
 * IPv6 literal and a scope; only a numeric scope is recognised here (an interface name
 * depends on the host: such a cluster name is taken as a host name).
 *
 * @module
 */

/** An address in network byte order: 4 bytes (IPv4) or 16 (IPv6). */
export type IpAddress = Uint8Array;

const DOT = 0x2e;
const COLON = 0x3a;
const PERCENT = 0x25;
const ZERO = 0x30;
const MAX_U32 = 0xffffffff;
const IPV4_BYTES = 4;
const IPV6_BYTES = 16;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (isDigit(c)) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** C `isspace()` in the C locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** NSPR's `pr_inet_aton()`. */
function inetAton(s: Uint8Array): IpAddress | undefined {
  const parts: number[] = [];
  let i = 0;
  let c = s[i] ?? 0;
  let val = 0;
  let digit = false;
  for (;;) {
    if (!isDigit(c)) return undefined;
    val = 0;
    let base = 10;
    digit = false;
    if (c === ZERO) {
      c = s[++i] ?? 0;
      if (c === 0x78 || c === 0x58) {
        base = 16;
        c = s[++i] ?? 0;
      } else {
        base = 8;
        digit = true;
      }
    }
    for (;;) {
      if (isDigit(c)) {
        if (base === 8 && (c === 0x38 || c === 0x39)) return undefined;
        val = (val * base + (c - ZERO)) >>> 0;
      } else if (base === 16 && hexValue(c) >= 0) {
        val = ((val << 4) | hexValue(c)) >>> 0;
      } else break;
      c = s[++i] ?? 0;
      digit = true;
    }
    if (c !== DOT) break;
    if (parts.length >= 3 || val > 0xff) return undefined;
    parts.push(val);
    c = s[++i] ?? 0;
  }
  if (c !== 0 && !isSpace(c)) return undefined;
  if (!digit) return undefined;
  const limits = [MAX_U32, 0xffffff, 0xffff, 0xff];
  if (val > limits[parts.length]!) return undefined;
  let address = val;
  parts.forEach((part, n) => address += part * 2 ** (24 - 8 * n));
  return Uint8Array.of(
    address >>> 24,
    (address >>> 16) & 0xff,
    (address >>> 8) & 0xff,
    address & 0xff,
  );
}

/** glibc's `inet_pton4()` on the tail of an IPv6 literal. */
function inetPton4(s: Uint8Array): IpAddress | undefined {
  const out = new Uint8Array(IPV4_BYTES);
  let octets = 0;
  let sawDigit = false;
  let current = 0;
  for (const c of s) {
    if (isDigit(c)) {
      if (!sawDigit) {
        if (++octets > IPV4_BYTES) return undefined;
        sawDigit = true;
        current = 0;
      }
      current = current * 10 + (c - ZERO);
      if (current > 0xff) return undefined;
      out[octets - 1] = current;
    } else if (c === DOT && sawDigit) {
      if (octets === IPV4_BYTES) return undefined;
      sawDigit = false;
    } else return undefined;
  }
  return octets < IPV4_BYTES ? undefined : out;
}

/** glibc's `inet_pton6()`. */
function inetPton6(s: Uint8Array): IpAddress | undefined {
  const out = new Uint8Array(IPV6_BYTES);
  let i = 0;
  if (s.length === 0) return undefined;
  if (s[0] === COLON && s[1] !== COLON) return undefined;
  if (s[0] === COLON) i = 1;
  let token = i;
  let tp = 0;
  let gap = -1;
  let digits = 0;
  let val = 0;
  while (i < s.length) {
    const c = s[i++]!;
    const hex = hexValue(c);
    if (hex >= 0) {
      if (digits === 4) return undefined;
      val = (val << 4) | hex;
      digits++;
      continue;
    }
    if (c === COLON) {
      token = i;
      if (digits === 0) {
        if (gap !== -1) return undefined;
        gap = tp;
        continue;
      } else if (i === s.length) return undefined;
      if (tp + 2 > IPV6_BYTES) return undefined;
      out[tp++] = val >> 8;
      out[tp++] = val & 0xff;
      digits = 0;
      val = 0;
      continue;
    }
    if (c === DOT && tp + IPV4_BYTES <= IPV6_BYTES) {
      const v4 = inetPton4(s.subarray(token));
      if (v4 === undefined) return undefined;
      out.set(v4, tp);
      tp += IPV4_BYTES;
      digits = 0;
      break;
    }
    return undefined;
  }
  if (digits > 0) {
    if (tp + 2 > IPV6_BYTES) return undefined;
    out[tp++] = val >> 8;
    out[tp++] = val & 0xff;
  }
  if (gap !== -1) {
    if (tp === IPV6_BYTES) return undefined;
    const moved = out.slice(gap, tp);
    out.fill(0, gap);
    out.set(moved, IPV6_BYTES - moved.length);
    tp = IPV6_BYTES;
  }
  return tp === IPV6_BYTES ? out : undefined;
}

/** An IPv6 literal with a numeric scope (`fe80::1%2`), as getaddrinfo(AI_NUMERICHOST). */
function scoped(s: Uint8Array, percent: number): IpAddress | undefined {
  const scope = s.subarray(percent + 1);
  if (scope.length === 0 || !scope.every(isDigit)) return undefined;
  let value = 0;
  for (const c of scope) {
    value = value * 10 + (c - ZERO);
    if (value > MAX_U32) return undefined;
  }
  return inetPton6(s.subarray(0, percent));
}

/** The address `name` (a C string, no NUL) denotes for `PR_StringToNetAddr()`, if any. */
export function parseIpLiteral(name: Uint8Array): IpAddress | undefined {
  if (name.length === 0) return undefined;
  const percent = name.indexOf(PERCENT);
  if (percent !== -1) return scoped(name, percent);
  return inetAton(name) ?? inetPton6(name);
}
