/**
 * Making the QNet certificates, as corosync-qnetd-certutil does with NSS certutil:
 * the CA (`init_qnetd_ca()`, `certutil -S -x`), the server certificate (`certutil -S -c`)
 * and a cluster certificate from a request (`sign_cluster_cert()`, `certutil -C`).
 *
 * All are X.509 v3, RSA/SHA-256, valid 1200 months, names as PrintableString. The CA has one
 * extension, basicConstraints critical CA:TRUE pathlen:0; the others have no extensions field
 * at all (NSS omits it; @peculiar/x509 would write an empty one, see {@link dropExtensions}).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { RSA_SIGNING } from "./keys.ts";
import { serialToHex } from "./serial.ts";
import { validityFrom } from "./validity.ts";

/** Subject of the CA (`CA_SUBJECT` in the C script). */
export const CA_SUBJECT = "CN=QNet CA";
/** Subject of the server certificate (`SERVER_SUBJECT`); the qdevice client checks this CN. */
export const SERVER_SUBJECT = "CN=Qnetd Server";

/** The signing algorithm of every certificate: sha256WithRSAEncryption. */
const SIGNING: RsaHashedImportParams = { name: RSA_SIGNING.name, hash: "SHA-256" };

/** What every certificate needs besides its names and key. */
export interface IssueParams {
  /** Serial number, from serial.txt. */
  serial: bigint;
  /** Creation time; the validity is computed from it. */
  now: Date;
}

/** The ASN.1 object behind an X509Certificate: only what {@link dropExtensions} touches. */
interface CertificateAsn {
  tbsCertificate: { extensions?: unknown };
  tbsCertificateRaw?: unknown;
  signatureValue: ArrayBuffer;
}

/**
 * Removes the extensions field from a certificate without extensions and signs it again.
 * @peculiar/x509 always encodes `[3] SEQUENCE {}` there, which RFC 5280 does not allow
 * (SIZE (1..MAX)) and NSS never writes; the certificate must match NSS's byte layout. The
 * library's own ASN.1 objects are edited and re-encoded, nothing is encoded by hand.
 */
async function dropExtensions(
  cert: x509.X509Certificate,
  signingKey: CryptoKey,
): Promise<x509.X509Certificate> {
  if (cert.extensions.length > 0) return cert;
  const asn = Reflect.get(cert, "asn") as CertificateAsn;
  asn.tbsCertificate.extensions = undefined;
  asn.tbsCertificateRaw = undefined;
  const draft = new x509.X509Certificate(asn as unknown as ArrayBuffer);
  const tbs = Reflect.get(draft, "tbs") as ArrayBuffer;
  asn.signatureValue = await crypto.subtle.sign(SIGNING, signingKey, tbs);
  return new x509.X509Certificate(new x509.X509Certificate(asn as unknown as ArrayBuffer).rawData);
}

/** The self-signed QNet CA (port of the `certutil -S -x ... -2` step of init_qnetd_ca()). */
export async function createCaCertificate(
  keys: CryptoKeyPair,
  params: IssueParams,
): Promise<x509.X509Certificate> {
  return await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialToHex(params.serial),
    name: CA_SUBJECT,
    ...validityFrom(params.now),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
}

/** What signing a leaf certificate needs from the CA. */
export interface Issuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

async function issueLeaf(
  issuer: Issuer,
  subject: x509.Name,
  publicKey: x509.PublicKey | CryptoKey,
  params: IssueParams,
): Promise<x509.X509Certificate> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialToHex(params.serial),
    subject,
    issuer: issuer.cert.subjectName,
    ...validityFrom(params.now),
    publicKey,
    signingKey: issuer.key,
    signingAlgorithm: SIGNING,
  });
  return await dropExtensions(cert, issuer.key);
}

/** The server certificate `CN=Qnetd Server` (the second `certutil -S` of init_qnetd_ca()). */
export async function createServerCertificate(
  issuer: Issuer,
  publicKey: CryptoKey,
  params: IssueParams,
): Promise<x509.X509Certificate> {
  return await issueLeaf(issuer, new x509.Name(SERVER_SUBJECT), publicKey, params);
}

/**
 * A cluster certificate for a verified request (port of sign_cluster_cert(), `certutil -C`):
 * the request's subject and public key, nothing else copied (NSS copies no requested
 * extensions either). The cluster name is not checked against the subject, as in C.
 */
export async function signCertificateRequest(
  issuer: Issuer,
  request: x509.Pkcs10CertificateRequest,
  params: IssueParams,
): Promise<x509.X509Certificate> {
  return await issueLeaf(issuer, request.subjectName, request.publicKey, params);
}
