/**
 * Reading the certificate request (CSR) that `corosync-qdevice-net-certutil -r` writes: DER
 * PKCS#10, its signature checked. Where NSS `certutil -C` (and so the C script) fails late or
 * half-way, this fails first and says why, so that no serial number is used up.
 *
 * Beyond the C script, which signs them: a subject with more than one CN, or with a NUL in any
 * of its names, is refused. With two CNs, NSS-based arbiters (corosync-qnetd) match the last
 * and other software the first, so one certificate would unlock different clusters; a NUL cuts
 * the name short wherever it is handled as a C string (the NUL-prefix attack).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { CertificateRequestError } from "./errors.ts";

const PEM_START = new TextEncoder().encode("-----BEGIN");

function startsWithPem(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return PEM_START.every((b, j) => bytes[i + j] === b);
}

/** Tag of a DER SEQUENCE (universal, constructed). */
const DER_SEQUENCE = 0x30;
/** The parts of a PKCS#10 CertificationRequest: info, signature algorithm, signature. */
const REQUEST_PARTS = 3;

/**
 * The end of the DER element at `at` (header and content), or undefined when its header is
 * cut off or its length runs past `end`. Long-form lengths only (DER has no indefinite form).
 */
function derElementEnd(der: Uint8Array, at: number, end: number): number | undefined {
  const first = der[at + 1];
  if (first === undefined || at + 2 > end) return undefined;
  let length = first;
  let header = 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > end) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[at + 2 + i]!;
    header += n;
  }
  const elementEnd = at + header + length;
  return elementEnd <= end ? elementEnd : undefined;
}

/**
 * True when `der` is exactly one SEQUENCE of the three parts of a request, each within it and
 * together filling it. The x509 library reads fields past a SEQUENCE's declared length (a
 * fuzzer found a request with a too-short outer length accepted); OpenSSL refuses those.
 */
function framedAsRequest(der: Uint8Array): boolean {
  if (der[0] !== DER_SEQUENCE || derElementEnd(der, 0, der.length) !== der.length) return false;
  let at = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  for (let part = 0; part < REQUEST_PARTS; part++) {
    const next = derElementEnd(der, at, der.length);
    if (next === undefined) return false;
    at = next;
  }
  return at === der.length;
}

/**
 * Parses a DER certificate request and verifies its self-signature. `what` names the input in
 * error messages (the file name).
 */
export async function parseCertificateRequest(
  der: Uint8Array<ArrayBuffer>,
  what: string,
): Promise<x509.Pkcs10CertificateRequest> {
  if (der.length === 0) throw new CertificateRequestError(`Certificate request ${what} is empty`);
  if (startsWithPem(der)) {
    throw new CertificateRequestError(
      `Certificate request ${what} is PEM; it must be DER as corosync-qdevice-net-certutil -r ` +
        `writes it (convert with: openssl req -inform PEM -outform DER -in ${what} -out req.crq)`,
    );
  }
  let request: x509.Pkcs10CertificateRequest;
  try {
    if (!framedAsRequest(der)) throw new RangeError("DER lengths do not frame one request");
    request = new x509.Pkcs10CertificateRequest(der);
    // Touch the parts a certificate is made of, so that a damaged structure fails here.
    void request.subjectName.toString();
    void request.publicKey.rawData;
  } catch (cause) {
    throw new CertificateRequestError(
      `Cannot parse certificate request ${what}: not a DER PKCS#10 request`,
      { cause },
    );
  }
  let valid: boolean;
  try {
    valid = await request.verify();
  } catch (cause) {
    throw new CertificateRequestError(
      `Cannot verify the signature of certificate request ${what}`,
      { cause },
    );
  }
  if (!valid) {
    throw new CertificateRequestError(
      `The signature of certificate request ${what} does not verify: the request is damaged ` +
        `or was not made with the key it carries`,
    );
  }
  checkSubjectNames(request, what);
  return request;
}

/** The subject's common name OID. */
const COMMON_NAME = "2.5.4.3";
/** The code point C string handling stops at. */
const NUL = "\0";

/** Refuses a subject with more than one CN or a NUL in any name (see the module doc). */
function checkSubjectNames(request: x509.Pkcs10CertificateRequest, what: string): void {
  const cns = request.subjectName.getField(COMMON_NAME);
  if (cns.length > 1) {
    throw new CertificateRequestError(
      `Certificate request ${what} has ${cns.length} CNs in its subject ` +
        `(${cns.map((cn) => JSON.stringify(cn)).join(", ")}): corosync-qnetd matches the last ` +
        `one and other software the first, so the certificate would unlock a different cluster ` +
        `depending on the arbiter; make a request with one CN, the cluster name`,
    );
  }
  for (const rdn of request.subjectName.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const bad = values.find((value) => value.includes(NUL));
      if (bad !== undefined) {
        throw new CertificateRequestError(
          `Certificate request ${what} has a NUL character in its subject's ${type} ` +
            `${JSON.stringify(bad)}: a name with a NUL is read up to the NUL by some software ` +
            `and whole by other (the NUL-prefix attack); make a request without it`,
        );
      }
    }
  }
}
