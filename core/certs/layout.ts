/**
 * Where the QNet CA lives on disk: the files of corosync-qnetd-certutil's directory, which
 * `qnet certutil` writes as the C tool does (an NSS database, cert9.db/key4.db with the
 * nicknames "QNet CA" and "QNetd Cert", and the text files around it), and the PEM file names
 * of earlier qnet versions and of `qnet certutil --export-pem`.
 *
 * @module
 */

/** Default directory, the same as `DB_DIR` in corosync-qnetd-certutil. */
export const DEFAULT_CERT_DIR = "/etc/corosync/qnetd/nssdb";

/** The QNet CA certificate (PEM; earlier qnet versions and --export-pem). */
export const CA_CERT_FILE = "qnet-ca.pem";
/** The QNet CA private key (PKCS#8 PEM, mode 0600). Only `certutil -s` needs it. */
export const CA_KEY_FILE = "qnet-ca-key.pem";
/** The server certificate, subject `CN=Qnetd Server` (PEM). */
export const SERVER_CERT_FILE = "qnetd-cert.pem";
/** The server private key (PKCS#8 PEM, mode 0600). */
export const SERVER_KEY_FILE = "qnetd-key.pem";
/** The decimal serial-number counter shared with the C tool. */
export const SERIAL_FILE = "serial.txt";
/** The CA export for the nodes (NSS text dump + PEM), what `corosync-qdevice-net-certutil -i -c` takes. */
export const CA_EXPORT_FILE = "qnetd-cacert.crt";

/** Files of a C installation's NSS database; `-i` refuses to run next to one (as the C script). */
export const NSS_DB_FILES: readonly string[] = ["cert9.db", "cert8.db"];

/** The empty password file the C script gives NSS's certutil (`-f`). */
export const PWD_FILE = "pwdfile.txt";
/** The random seed file the C script gives NSS's certutil (`-z`). */
export const NOISE_FILE = "noise.txt";

/** NSS nicknames used by the C tools, needed to export their keys. */
export const NSS_CA_NICKNAME = "QNet CA";
/** NSS nickname of the server certificate in the C qnetd database. */
export const NSS_SERVER_NICKNAME = "QNetd Cert";

/** File name of the DER certificate signed for a cluster, as in corosync-qnetd-certutil. */
export function clusterCertFile(clusterName: string): string {
  return `cluster-${clusterName}.crt`;
}

/** The cluster name of a `cluster-<NAME>.crt` file name, or undefined for another file. */
export function clusterNameOfFile(fileName: string): string | undefined {
  const match = /^cluster-(.+)\.crt$/.exec(fileName);
  return match?.[1];
}
