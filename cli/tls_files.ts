/**
 * Where the daemon finds its TLS key material. The C daemon reads an NSS database at
 * `nss_db_dir` and picks the server certificate by `cert_nickname`; qnet keeps both setting
 * names and reads PEM files that `qnet certutil` writes into that same directory:
 *
 * | C (NSS)                          | qnet                                   |
 * | -------------------------------- | -------------------------------------- |
 * | `nss_db_dir`                     | the directory of the PEM files         |
 * | nickname `QNetd Cert` (default)  | `qnetd-cert.pem` + `qnetd-key.pem`     |
 * | any other nickname, e.g. `My Srv`| `my-srv-cert.pem` + `my-srv-key.pem`   |
 * | trusted CA `QNet CA`             | `qnet-ca.pem`                          |
 *
 * @module
 */
import { CA_CERT_FILE } from "../core/certs/layout.ts";

/** The three files the TLS context needs, for a directory and a certificate nickname. */
export function serverKeyFiles(
  dir: string,
  nickname: string,
): { certFile: string; keyFile: string; caFile: string } {
  // "QNetd Cert" -> "qnetd": lower case, non-alphanumerics to "-", a trailing "cert" dropped.
  const slug = nickname.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const base = slug.replace(/-?cert$/, "") || "qnetd";
  return {
    certFile: `${dir}/${base}-cert.pem`,
    keyFile: `${dir}/${base}-key.pem`,
    caFile: `${dir}/${CA_CERT_FILE}`,
  };
}
