/**
 * The PEM key directory that earlier qnet versions wrote (`qnet certutil` before it wrote an
 * NSS database), read into memory for the TLS context. The C daemon reads an NSS database at
 * `nss_db_dir` and picks the server certificate by `cert_nickname`; these files sit in that
 * same directory, named after the nickname:
 *
 * | C (NSS)                          | PEM key directory                      |
 * | -------------------------------- | -------------------------------------- |
 * | `nss_db_dir`                     | the directory of the PEM files         |
 * | nickname `QNetd Cert` (default)  | `qnetd-cert.pem` + `qnetd-key.pem`     |
 * | any other nickname, e.g. `My Srv`| `my-srv-cert.pem` + `my-srv-key.pem`   |
 * | trusted CA `QNet CA`             | `qnet-ca.pem`                          |
 *
 * @module
 */
import { CA_CERT_FILE } from "../core/certs/layout.ts";
import { pemBlocks } from "../core/certs/pem.ts";
import { strerrorText } from "../core/error_text.ts";
import type { ServerKeyMaterial } from "../net/tls_server.ts";

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

/** Key material that cannot be loaded: `message` is one line naming `path` and what to do (as NssDbError). */
export class KeyLoadError extends Error {
  constructor(message: string, readonly path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyLoadError";
  }
}

/** PEM labels of an unencrypted private key OpenSSL decodes from DER. */
const KEY_LABELS: ReadonlySet<string> = new Set([
  "PRIVATE KEY",
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
]);

async function readText(file: string): Promise<string> {
  try {
    return new TextDecoder("latin1").decode(await Deno.readFile(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    const hint = error instanceof Deno.errors.NotFound
      ? ": create the key directory with 'qnet certutil -i' or set nss_db_dir"
      : "";
    throw new KeyLoadError(`Cannot read ${file}: ${strerrorText(error)}${hint}`, file, {
      cause: error,
    });
  }
}

/**
 * Reads the PEM files of {@link serverKeyFiles} into memory.
 *
 * @throws {KeyLoadError} naming the file that is missing, unreadable or holds no usable PEM.
 */
export async function readPemKeyMaterial(
  dir: string,
  nickname: string,
): Promise<ServerKeyMaterial> {
  return await readPemFiles(serverKeyFiles(dir, nickname));
}

/**
 * Reads a PEM certificate (optionally followed by its chain), its private key and the
 * trusted CA certificates into memory. Text around the PEM blocks is ignored.
 *
 * @throws {KeyLoadError} as {@link readPemKeyMaterial}.
 */
export async function readPemFiles(
  files: { certFile: string; keyFile: string; caFile: string },
): Promise<ServerKeyMaterial> {
  const [certText, keyText, caText] = await Promise.all(
    [files.certFile, files.keyFile, files.caFile].map(readText),
  );
  const certs = (text: string, file: string) => {
    const found = pemBlocks(text).filter((b) => b.label === "CERTIFICATE").map((b) => b.der);
    if (found.length === 0) {
      throw new KeyLoadError(
        `${file} holds no PEM certificate: restore it or re-create the directory with 'qnet certutil -i'`,
        file,
      );
    }
    return found;
  };
  const certChainDer = certs(certText!, files.certFile);
  const caCertsDer = certs(caText!, files.caFile);
  const key = pemBlocks(keyText!).find((b) => KEY_LABELS.has(b.label));
  if (key === undefined) {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText!);
    throw new KeyLoadError(
      encrypted
        ? `${files.keyFile} holds an encrypted private key: store it unencrypted ` +
          `(openssl pkcs8 -topk8 -nocrypt), mode 0600`
        : `${files.keyFile} holds no PEM private key: restore it or re-create the directory ` +
          `with 'qnet certutil -i'`,
      files.keyFile,
    );
  }
  return {
    certChainDer,
    keyDer: key.der,
    caCertsDer,
    origin: { cert: files.certFile, key: files.keyFile, ca: files.caFile },
  };
}
