/**
 * RSA key material in PEM: generation, PKCS#8 export and import, and the check that a key
 * belongs to a certificate. WebCrypto only; the PEM armour comes from @peculiar/x509.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { KeyMaterialError } from "./errors.ts";

/** RSA-2048, e = 65537, signing with SHA-256: what `certutil -S`/`-R` make by default. */
export const RSA_SIGNING: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

/** A fresh RSA-2048 key pair; the private key is extractable so that it can be saved. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(RSA_SIGNING, true, ["sign", "verify"]);
}

/** A private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what OpenSSL writes too). */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

/**
 * The RSA private key of a PEM text (the first `PRIVATE KEY` block; text around it, such as
 * the "Bag Attributes" that `openssl pkcs12` writes, is ignored), ready to sign with SHA-256.
 */
export async function importPrivateKeyPem(pem: string, what: string): Promise<CryptoKey> {
  const block = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(pem);
  if (block === null) {
    const other = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----/.exec(pem)?.[1];
    throw new KeyMaterialError(
      other === undefined
        ? `Cannot find a private key in ${what}`
        : `Cannot use the ${other} in ${what}: convert it to unencrypted PKCS#8 ` +
          `(openssl pkcs8 -topk8 -nocrypt)`,
    );
  }
  try {
    const der = x509.PemConverter.decodeFirst(block[0]);
    return await crypto.subtle.importKey("pkcs8", der, RSA_SIGNING, true, ["sign"]);
  } catch (cause) {
    throw new KeyMaterialError(`Cannot read the RSA private key in ${what}`, { cause });
  }
}

/** True when the RSA private key is the one whose public half is in `cert`. */
export async function keyMatchesCertificate(
  key: CryptoKey,
  cert: x509.X509Certificate,
): Promise<boolean> {
  const priv = await crypto.subtle.exportKey("jwk", key);
  let pub: JsonWebKey;
  try {
    pub = await crypto.subtle.exportKey(
      "jwk",
      await cert.publicKey.export(RSA_SIGNING, ["verify"]),
    );
  } catch {
    return false; // not an RSA certificate
  }
  return priv.n === pub.n && priv.e === pub.e;
}
