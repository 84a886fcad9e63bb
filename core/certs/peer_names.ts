/**
 * The names a client certificate is checked against, read the way NSS's
 * `CERT_VerifyCertName()` reads them for corosync-qnetd: the subjectAltName dNSNames when the
 * certificate has that extension (then the CN is ignored), otherwise the subject's CN.
 *
 * The daemon gets the peer certificate from OpenSSL as DER and parses it here, in JS, rather
 * than walking OpenSSL's structures through FFI pointers: Deno allows pointer views only with
 * unscoped `--allow-ffi`, and the daemon's ffi permission is scoped to libssl.
 *
 * @module
 */
import "reflect-metadata";
import { SubjectAlternativeNameExtension, X509Certificate } from "@peculiar/x509";

/** dNSNames of the SAN, or `[CN]` without a SAN; `[]` when neither can be read. */
export function certificateNames(der: Uint8Array): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Uint8Array.from(der));
  } catch {
    return [];
  }
  const hasSan = cert.extensions.some((e) => e.type === "2.5.29.17");
  if (hasSan) {
    try {
      const san = cert.getExtension(SubjectAlternativeNameExtension);
      return san?.names.items.filter((n) => n.type === "dns").map((n) => n.value) ?? [];
    } catch {
      // A SAN that cannot be parsed matches nothing, as in NSS.
      return [];
    }
  }
  const cn = cert.subjectName.getField("CN")[0];
  return cn === undefined ? [] : [cn];
}
