/**
 * The one error type of the TLS layer, {@link TlsError}, and how an OpenSSL failure becomes
 * one: OpenSSL's error queue as text, the verify result in words, and the NSS equivalent
 * the C daemon would have logged (nss_errors.ts).
 *
 * @module
 */
import { nssEquivalent } from "./nss_errors.ts";
import { drainErrorQueue, type OpenSslSymbols, X509Verify } from "./openssl_ffi.ts";

/**
 * A TLS failure. `message` carries OpenSSL's error queue as text; `code` and `nssMessage`
 * give the NSS error the C daemon would have logged for the same failure, when known
 * (`code` is -1 otherwise).
 */
export class TlsError extends Error {
  /** OpenSSL's packed error codes (`ERR_get_error()`), oldest first. */
  readonly opensslCodes: readonly bigint[];
  /** `SSL_get_verify_result()` at the time of the failure (0 = X509_V_OK). */
  readonly verifyResult: number;
  /** NSS error number the C daemon logs for this failure, or -1. */
  readonly code: number;
  /** NSS error text the C daemon logs for this failure, when known. */
  readonly nssMessage: string | undefined;

  constructor(
    message: string,
    details: { opensslCodes?: readonly bigint[]; verifyResult?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "TlsError";
    this.opensslCodes = details.opensslCodes ?? [];
    this.verifyResult = details.verifyResult ?? X509Verify.Ok;
    const nss = nssEquivalent(this.opensslCodes, this.verifyResult);
    this.code = nss?.code ?? -1;
    this.nssMessage = nss?.text;
  }
}

/**
 * X509_V_ERR_* texts for the verify results a client certificate can produce. Kept here, not
 * read from OpenSSL, because reading a C string needs a pointer view, which Deno allows only
 * with unscoped ffi (the daemon's ffi permission is scoped to libssl).
 */
const VERIFY_REASONS: ReadonlyMap<number, string> = new Map([
  [X509Verify.UnableToGetIssuerCert, "unable to get issuer certificate"],
  [X509Verify.UnableToDecryptCertSignature, "unable to decrypt certificate's signature"],
  [X509Verify.CertSignatureFailure, "certificate signature failure"],
  [X509Verify.CertNotYetValid, "certificate is not yet valid"],
  [X509Verify.CertHasExpired, "certificate has expired"],
  [X509Verify.DepthZeroSelfSignedCert, "self-signed certificate"],
  [X509Verify.SelfSignedCertInChain, "self-signed certificate in certificate chain"],
  [X509Verify.UnableToGetIssuerCertLocally, "unable to get local issuer certificate"],
  [X509Verify.UnableToVerifyLeafSignature, "unable to verify the first certificate"],
  [X509Verify.InvalidCa, "invalid CA certificate"],
  [X509Verify.InvalidPurpose, "unsupported certificate purpose"],
]);

/**
 * A {@link TlsError} for `what`, with OpenSSL's error queue (emptied here) and, when not
 * X509_V_OK, the verify result in words.
 */
export function tlsFailure(
  lib: OpenSslSymbols,
  what: string,
  verifyResult: number = X509Verify.Ok,
): TlsError {
  const { codes, lines } = drainErrorQueue(lib);
  let text = what;
  if (verifyResult !== X509Verify.Ok) {
    text += ` (certificate verification: ${VERIFY_REASONS.get(verifyResult) ?? verifyResult})`;
  }
  if (lines.length > 0) text += `: ${lines.join("; ")}`;
  return new TlsError(text, { opensslCodes: codes, verifyResult });
}
