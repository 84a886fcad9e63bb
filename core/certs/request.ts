/**
 * Reading the certificate request (CSR) that `corosync-qdevice-net-certutil -r` writes: DER
 * PKCS#10, its signature checked. Where NSS `certutil -C` (and so the C script) fails late or
 * half-way, this fails first and says why, so that no serial number is used up.
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
  return request;
}
