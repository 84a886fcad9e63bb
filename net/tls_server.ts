/**
 * Server-side TLS for QNet's StartTLS upgrade, done by OpenSSL over memory BIOs: the daemon
 * keeps its plain `Deno.Conn`, feeds what it reads to {@link TlsSession.receive} and writes
 * what {@link TlsSession.takeOutgoing} returns. It takes the place of the NSS setup in
 * qnetd's `qnetd_instance_init_certs()` / `nss_sock_start_ssl_as_server()` and of the
 * handshake driving in `qnetd_client_net_read()` (qdevices/, v3.0.3).
 *
 * What matches the C daemon (reference/qnetd-protocol.md §6.2): TLS 1.2 and 1.3 only; no
 * session cache and no tickets; with client certificates required, the client must present
 * a certificate chaining to the QNet CA, checked by the library (chain and validity, no
 * expiry tolerance), otherwise the handshake fails; the SNI name "Qnetd Server" sent by the
 * real qdevice is accepted (no SNI callback is installed). Matching the cluster name against
 * the certificate is the caller's job, with {@link TlsSession.peerCertificateNames}.
 *
 * The TLS layer is split by concern: `tls_context.ts` (the `SSL_CTX`), `tls_session.ts` (one
 * connection over memory BIOs), `tls_error.ts` (the error type), `nss_errors.ts` (the NSS
 * errors the C daemon logs) and `openssl_ffi.ts` (the library binding). This module is the
 * entry point the daemon loads (lazily, only with TLS on) and re-exports their API.
 *
 * @module
 */

export { nssEquivalent, type NssError } from "./nss_errors.ts";
export { TlsError } from "./tls_error.ts";
export { type ServerKeyMaterial, type TlsServerConfig, TlsServerContext } from "./tls_context.ts";
export { TlsSession } from "./tls_session.ts";
