/**
 * Why a TLS handshake failed, as a short label for the metrics: the NSS error the C daemon
 * would have logged (net/tls_server.ts maps OpenSSL's errors to it), else the certificate
 * verify result, else a generic reason. The error is read by its fields, not `instanceof`:
 * importing tls_server.ts here would load the OpenSSL bindings into daemons run with `-s off`.
 *
 * @module
 */

/** NSS error codes (see NSS_BY_VERIFY_RESULT and NSS_BY_SSL_REASON in tls_server.ts). */
const REASON_BY_NSS_CODE: ReadonlyMap<number, string> = new Map([
  [-8181, "certificate_expired"],
  [-8182, "certificate_bad_signature"],
  [-8179, "certificate_unknown_issuer"],
  [-8172, "certificate_untrusted_issuer"],
  [-12285, "no_client_certificate"],
  [-12279, "protocol_version"],
  [-12188, "peer_internal_error"],
]);

/** What a handshake that ended without an error (the peer went away) counts as. */
export const TLS_ABORTED_REASON = "aborted";

/** The failure reason label for `error`, thrown while the handshake was running. */
export function tlsFailureReason(error: unknown): string {
  if (!(error instanceof Error) || error.name !== "TlsError") return "io_error";
  const { code, verifyResult } = error as Error & { code?: unknown; verifyResult?: unknown };
  const known = typeof code === "number" ? REASON_BY_NSS_CODE.get(code) : undefined;
  if (known !== undefined) return known;
  if (typeof verifyResult === "number" && verifyResult !== 0) return "certificate_invalid";
  return "handshake_error";
}
