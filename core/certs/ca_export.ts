/**
 * The CA export file `qnetd-cacert.crt`: what init_qnetd_ca() in corosync-qnetd-certutil.sh
 * writes with `certutil -L -n "QNet CA"` (a text dump) followed by `certutil -L -a` (the PEM,
 * base64 lines ending in CRLF). The nodes import it with `corosync-qdevice-net-certutil -i -c`,
 * whose NSS certutil skips the text and reads the PEM block.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { KeyMaterialError } from "./errors.ts";
import { RSA_SIGNING } from "./keys.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const BASIC_CONSTRAINTS_OID = "2.5.29.19";
const SHA256_RSA_NAME = "PKCS #1 SHA-256 With RSA Encryption";

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** A time as NSS prints it, in GMT: `Sun Nov 22 00:31:11 2026`. */
export function formatNssTime(date: Date): string {
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${pad2(date.getUTCDate())} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} ` +
    `${date.getUTCFullYear()}`;
}

function hexBytes(bytes: Uint8Array, upper = false): string[] {
  return [...bytes].map((b) => {
    const h = b.toString(16).padStart(2, "0");
    return upper ? h.toUpperCase() : h;
  });
}

/** Bytes as NSS's hex dump: 16 per line, colon-separated, a colon at the end of all but the last. */
function hexDump(bytes: Uint8Array, indent: string): string[] {
  const hex = hexBytes(bytes);
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 16) {
    const last = i + 16 >= hex.length;
    lines.push(indent + hex.slice(i, i + 16).join(":") + (last ? "" : ":"));
  }
  return lines;
}

function base64UrlToBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function serialLines(hex: string, indent: string): string[] {
  const value = BigInt(`0x${hex || "0"}`);
  if (hex.length <= 8) return [`${indent}Serial Number: ${value} (0x${value.toString(16)})`];
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  return [`${indent}Serial Number:`, ...hexDump(bytes, indent + "    ")];
}

function extensionLines(ext: x509.Extension): string[] {
  const lines: string[] = [];
  if (ext.type === BASIC_CONSTRAINTS_OID) {
    const bc = new x509.BasicConstraintsExtension(ext.rawData);
    lines.push("            Name: Certificate Basic Constraints");
    if (ext.critical) lines.push("            Critical: True");
    const data = !bc.ca
      ? "Is not a CA."
      : bc.pathLength === undefined
      ? "Is a CA with no maximum path length."
      : `Is a CA with a maximum path length of ${bc.pathLength}.`;
    lines.push(`            Data: ${data}`);
  } else {
    lines.push(`            Name: OID.${ext.type}`);
    if (ext.critical) lines.push("            Critical: True");
  }
  lines.push("");
  return lines;
}

async function digestLine(algorithm: string, data: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, data));
  return "        " + hexBytes(digest, true).join(":");
}

/**
 * The text part of the export: the layout of `certutil -L -n "QNet CA"` for the QNet CA, down to
 * the trust flags NSS shows for it (CT from the script's `-t "CT,,"`, u because its key is in the
 * database). Only people read it; importers skip to the PEM block.
 */
export async function formatCaDump(cert: x509.X509Certificate): Promise<string> {
  const jwk = await crypto.subtle.exportKey(
    "jwk",
    await cert.publicKey.export(RSA_SIGNING, ["verify"]),
  );
  const modulus = stripLeadingZeros(base64UrlToBytes(jwk.n ?? ""));
  const exponent = BigInt(`0x${hexBytes(base64UrlToBytes(jwk.e ?? "")).join("") || "0"}`);
  const lines = [
    "Certificate:",
    "    Data:",
    "        Version: 3 (0x2)",
    ...serialLines(cert.serialNumber, "        "),
    `        Signature Algorithm: ${SHA256_RSA_NAME}`,
    `        Issuer: "${cert.issuer}"`,
    "        Validity:",
    `            Not Before: ${formatNssTime(cert.notBefore)}`,
    `            Not After : ${formatNssTime(cert.notAfter)}`,
    `        Subject: "${cert.subject}"`,
    "        Subject Public Key Info:",
    "            Public Key Algorithm: PKCS #1 RSA Encryption",
    "            RSA Public Key:",
    "                Modulus:",
    ...hexDump(modulus, "                    "),
    `                Exponent: ${exponent} (0x${exponent.toString(16)})`,
  ];
  if (cert.extensions.length > 0) {
    lines.push("        Signed Extensions:", ...cert.extensions.flatMap(extensionLines));
  }
  lines.push(
    `    Signature Algorithm: ${SHA256_RSA_NAME}`,
    "    Signature:",
    ...hexDump(new Uint8Array(cert.signature), "        "),
    "    Fingerprint (SHA-256):",
    await digestLine("SHA-256", cert.rawData),
    "    Fingerprint (SHA1):",
    await digestLine("SHA-1", cert.rawData),
    "",
    "    Mozilla-CA-Policy: false (attribute missing)",
    "    Certificate Trust Flags:",
    "        SSL Flags:",
    "            Valid CA",
    "            Trusted CA",
    "            User",
    "            Trusted Client CA",
    "        Email Flags:",
    "            User",
    "        Object Signing Flags:",
    "            User",
    "",
  );
  return lines.join("\n") + "\n";
}

/** The PEM as `certutil -a` writes it: 64-column base64 lines joined by CRLF. */
export function formatNssPem(der: ArrayBuffer): string {
  const b64 = x509.PemConverter.encode(der, "CERTIFICATE").split(/\r?\n/).slice(1, -1);
  return `-----BEGIN CERTIFICATE-----\n${b64.join("\r\n")}\n-----END CERTIFICATE-----\n`;
}

/** The whole `qnetd-cacert.crt`: text dump, then PEM. */
export async function formatCaExport(cert: x509.X509Certificate): Promise<string> {
  return await formatCaDump(cert) + formatNssPem(cert.rawData);
}

/**
 * The certificate in a file that holds one in DER, or in PEM with any text around it (such as
 * `qnetd-cacert.crt`, or the output of `openssl pkcs12`): the first CERTIFICATE block wins.
 */
export function parseCertificateFile(
  bytes: Uint8Array<ArrayBuffer>,
  what: string,
): x509.X509Certificate {
  if (bytes.length === 0) {
    throw new KeyMaterialError(`Cannot parse the certificate in ${what}: empty file`);
  }
  const text = new TextDecoder("latin1").decode(bytes);
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text);
  try {
    return block === null
      ? new x509.X509Certificate(bytes)
      : new x509.X509Certificate(x509.PemConverter.decodeFirst(block[0]));
  } catch (cause) {
    throw new KeyMaterialError(`Cannot parse the certificate in ${what}`, { cause });
  }
}
