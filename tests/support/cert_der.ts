/**
 * Certificates built byte by byte, for tests that need subjects and subjectAltNames no
 * certificate tool writes (two CNs, a NUL in a CN, T61/BMP strings, a SAN without a DNS name,
 * an IP address entry): a small DER writer and an RSA (PKCS#1 v1.5, SHA-256) signer on
 * WebCrypto. Also writes a CA, a server certificate and their keys as PEM files.
 *
 * @module
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const KEY_PARAMS = {
  ...SIGNING,
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;

/** DER tags used here. */
export const DerTag = {
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  T61String: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  VisibleString: 0x1a,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
  Boolean: 0x01,
  Version: 0xa0,
  Extensions: 0xa3,
  /** SanEntry alternatives (RFC 5280). */
  Rfc822Name: 0x81,
  DnsName: 0x82,
  IpAddress: 0x87,
} as const;

/** One TLV. */
export function derTlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const length = content.reduce((n, c) => n + c.length, 0);
  const header = length < 0x80
    ? [tag, length]
    : length < 0x100
    ? [tag, 0x81, length]
    : [tag, 0x82, length >> 8, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header);
  let at = header.length;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function oid(text: string): Uint8Array {
  const [a, b, ...rest] = text.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) groups.unshift(0x80 | (v & 0x7f));
    bytes.push(...groups);
  }
  return derTlv(DerTag.Oid, Uint8Array.from(bytes));
}

const COMMON_NAME = "2.5.4.3";
const ORGANIZATION = "2.5.4.10";
const SHA256_WITH_RSA = derTlv(DerTag.Sequence, oid("1.2.840.113549.1.1.11"), derTlv(DerTag.Null));

/** One attribute of a Name: a CN unless `type` says otherwise; `tag` is its string type. */
export interface NameAttribute {
  readonly value: Uint8Array | string;
  readonly tag?: number;
  readonly type?: "CN" | "O";
}

/** A Name: RDNs in order, each a set of attributes. */
export type NameRdns = readonly (readonly NameAttribute[])[];

const enc = new TextEncoder();

function bytesOf(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? enc.encode(value) : value;
}

/** The DER of a Name. */
export function derName(rdns: NameRdns): Uint8Array {
  return derTlv(
    DerTag.Sequence,
    ...rdns.map((rdn) =>
      derTlv(
        DerTag.Set,
        ...rdn.map((a) =>
          derTlv(
            DerTag.Sequence,
            oid(a.type === "O" ? ORGANIZATION : COMMON_NAME),
            derTlv(a.tag ?? DerTag.Utf8String, bytesOf(a.value)),
          )
        ),
      )
    ),
  );
}

/** A CN as UTF8String. */
export function cnOf(value: Uint8Array | string, tag: number = DerTag.Utf8String): NameAttribute {
  return { value, tag };
}

/** One SanEntry: `[tag, bytes]`, e.g. `[DerTag.DnsName, "node"]`. */
export type SanEntry = readonly [number, Uint8Array | string];

function utcTime(date: Date): Uint8Array {
  const text = date.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  return derTlv(DerTag.UtcTime, enc.encode(text));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return derTlv(
    DerTag.Sequence,
    oid(id),
    ...(critical ? [derTlv(DerTag.Boolean, Uint8Array.of(0xff))] : []),
    derTlv(DerTag.OctetString, value),
  );
}

/** A key pair and the DER of its certificate. */
export interface IssuedCertificate {
  readonly der: Uint8Array;
  readonly subject: Uint8Array;
  readonly keys: CryptoKeyPair;
}

let serial = 0x1000 + Math.floor(Math.random() * 0x3000);

/** What goes into one certificate. */
export interface CertificateSpec {
  readonly subject: NameRdns;
  /** The subjectAltName's GeneralNames; none without it, `[]` for an empty one. */
  readonly san?: readonly SanEntry[];
  /** Issue it as a CA. */
  readonly ca?: boolean;
}

/** Issues a certificate for `spec`, signed by `issuer` (self-signed without one). */
export async function issueCertificate(
  spec: CertificateSpec,
  issuer?: IssuedCertificate,
): Promise<IssuedCertificate> {
  const keys = await crypto.subtle.generateKey(KEY_PARAMS, true, ["sign", "verify"]);
  const subject = derName(spec.subject);
  const extensions: Uint8Array[] = [];
  if (spec.ca) {
    extensions.push(
      extension(
        "2.5.29.19",
        true,
        derTlv(DerTag.Sequence, derTlv(DerTag.Boolean, Uint8Array.of(0xff))),
      ),
    );
  }
  if (spec.san !== undefined) {
    const names = spec.san.map(([tag, value]) => derTlv(tag, bytesOf(value)));
    extensions.push(extension("2.5.29.17", false, derTlv(DerTag.Sequence, ...names)));
  }
  const now = Date.now();
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const tbs = derTlv(
    DerTag.Sequence,
    derTlv(DerTag.Version, derTlv(DerTag.Integer, Uint8Array.of(2))),
    derTlv(DerTag.Integer, Uint8Array.of((serial >> 8) & 0x7f, serial++ & 0xff)),
    SHA256_WITH_RSA,
    issuer?.subject ?? subject,
    derTlv(DerTag.Sequence, utcTime(new Date(now - DAY_MS)), utcTime(new Date(now + 30 * DAY_MS))),
    subject,
    spki,
    ...(extensions.length === 0
      ? []
      : [derTlv(DerTag.Extensions, derTlv(DerTag.Sequence, ...extensions))]),
  );
  const signer = (issuer ?? { keys }).keys.privateKey;
  const signature = new Uint8Array(await crypto.subtle.sign(SIGNING, signer, tbs));
  const der = derTlv(
    DerTag.Sequence,
    tbs,
    SHA256_WITH_RSA,
    derTlv(DerTag.BitString, Uint8Array.of(0), signature),
  );
  return { der, subject, keys };
}

function pem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der)).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Writes `issued` as `<base>.pem` and its key as `<base>-key.pem`; returns both paths. */
export async function writeCertificatePem(
  issued: IssuedCertificate,
  base: string,
): Promise<{ certFile: string; keyFile: string }> {
  const key = new Uint8Array(await crypto.subtle.exportKey("pkcs8", issued.keys.privateKey));
  await Deno.writeTextFile(`${base}.pem`, pem("CERTIFICATE", issued.der));
  await Deno.writeTextFile(`${base}-key.pem`, pem("PRIVATE KEY", key));
  return { certFile: `${base}.pem`, keyFile: `${base}-key.pem` };
}
