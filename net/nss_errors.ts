/**
 * NSS error emulation: the NSS error (number and text) that the C qnetd logs for a TLS
 * failure, derived from what OpenSSL reports for the same failure (its error queue and the
 * X509 verify result).
 *
 * @module
 */
import { ErrCode, SslReason, X509Verify } from "./openssl_ffi.ts";

/** An NSS error as corosync-qnetd logs it: `(<code>): <text>`. */
export interface NssError {
  readonly code: number;
  readonly text: string;
}

/** SEC_ERROR_UNKNOWN_ISSUER, the answer to two verify results. */
const UNKNOWN_ISSUER: NssError = {
  code: -8179, // SEC_ERROR_UNKNOWN_ISSUER
  text: "Peer's Certificate issuer is not recognized.",
};

/**
 * What NSS (and so the C qnetd) reports for the handshake failures OpenSSL reports by
 * X509 verify result. Each row was seen in the real corosync-qnetd 3.0.3 log
 * ("Unhandled error when reading from client. Disconnecting client (<code>): <text>").
 */
const NSS_BY_VERIFY_RESULT = new Map<number, NssError>([
  [X509Verify.CertHasExpired, {
    code: -8181, // SEC_ERROR_EXPIRED_CERTIFICATE
    text: "Peer's Certificate has expired.",
  }],
  [X509Verify.CertSignatureFailure, {
    code: -8182, // SEC_ERROR_BAD_SIGNATURE
    text: "Peer's certificate has an invalid signature.",
  }],
  [X509Verify.UnableToGetIssuerCert, UNKNOWN_ISSUER],
  [X509Verify.UnableToGetIssuerCertLocally, UNKNOWN_ISSUER],
  [X509Verify.DepthZeroSelfSignedCert, {
    code: -8172, // SEC_ERROR_UNTRUSTED_ISSUER
    text: "Peer's certificate issuer has been marked as not trusted by the user.",
  }],
]);

/** The same, by OpenSSL SSL-library reason code (ssl/sslerr.h); also seen in the real log. */
const NSS_BY_SSL_REASON = new Map<number, NssError>([
  [SslReason.PeerDidNotReturnACertificate, {
    code: -12285, // SSL_ERROR_NO_CERTIFICATE
    text: "Unable to find the certificate or key necessary for authentication.",
  }],
  [SslReason.UnsupportedProtocol, {
    code: -12279, // SSL_ERROR_UNSUPPORTED_VERSION
    text: "Peer using unsupported version of security protocol.",
  }],
  [SslReason.Tlsv1AlertInternalError, {
    code: -12188, // SSL_ERROR_INTERNAL_ERROR_ALERT
    text: "Peer reports it experienced an internal error.",
  }],
]);

/**
 * Translates OpenSSL's view of a failure (error queue, verify result) into the NSS error the
 * C daemon would have logged, or undefined when no equivalent is known.
 */
export function nssEquivalent(
  opensslCodes: readonly bigint[],
  verifyResult: number,
): NssError | undefined {
  for (const packed of [...opensslCodes].reverse()) {
    if ((packed & ErrCode.SystemFlag) !== 0n) continue; // a system (errno) error
    if (Number((packed >> ErrCode.LibOffset) & ErrCode.LibMask) !== ErrCode.LibSsl) continue;
    const reason = Number(packed & ErrCode.ReasonMask);
    if (reason === SslReason.CertificateVerifyFailed) {
      return NSS_BY_VERIFY_RESULT.get(verifyResult);
    }
    const nss = NSS_BY_SSL_REASON.get(reason);
    if (nss !== undefined) return nss;
  }
  return undefined;
}
