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
 * @module
 */

import { certificateNames, NO_NAMES, type PeerCertNames } from "../core/certs/peer_names.ts";
import {
  cString,
  drainErrorQueue,
  liveOpenSslObjects as live,
  openSsl,
  type OpenSslSymbols,
  Ssl,
} from "./openssl_ffi.ts";
import { concatBytes } from "../core/bytes.ts";

/** Key material and policy for {@link TlsServerContext.create}. */
export interface TlsServerConfig {
  /** PEM server certificate (optionally followed by its chain). */
  certFile: string;
  /** PEM private key of the server certificate. */
  keyFile: string;
  /** PEM QNet CA: trust anchor for client certificates and the CA list sent to clients. */
  caFile: string;
  /** The `-c` option: request and require a client certificate. */
  requireClientCert: boolean;
  /** Absolute path of libssl.so.3; default: the usual distribution paths. */
  libraryPath?: string;
}

/** An NSS error as corosync-qnetd logs it: `(<code>): <text>`. */
export interface NssError {
  readonly code: number;
  readonly text: string;
}

/**
 * What NSS (and so the C qnetd) reports for the handshake failures OpenSSL reports by
 * X509 verify result. Each row was seen in the real corosync-qnetd 3.0.3 log
 * ("Unhandled error when reading from client. Disconnecting client (<code>): <text>").
 */
const NSS_BY_VERIFY_RESULT = new Map<number, NssError>([
  [10, { code: -8181, text: "Peer's Certificate has expired." }], // CERT_HAS_EXPIRED
  [7, { code: -8182, text: "Peer's certificate has an invalid signature." }], // CERT_SIGNATURE_FAILURE
  [2, { code: -8179, text: "Peer's Certificate issuer is not recognized." }], // UNABLE_TO_GET_ISSUER_CERT
  [20, { code: -8179, text: "Peer's Certificate issuer is not recognized." }], // ..._LOCALLY
  [18, {
    code: -8172, // DEPTH_ZERO_SELF_SIGNED_CERT
    text: "Peer's certificate issuer has been marked as not trusted by the user.",
  }],
]);

/** The same, by OpenSSL SSL-library reason code (ssl/sslerr.h); also seen in the real log. */
const NSS_BY_SSL_REASON = new Map<number, NssError>([
  [199, {
    code: -12285,
    text: "Unable to find the certificate or key necessary for authentication.",
  }], // PEER_DID_NOT_RETURN_A_CERTIFICATE
  [258, { code: -12279, text: "Peer using unsupported version of security protocol." }], // UNSUPPORTED_PROTOCOL
  [1080, { code: -12188, text: "Peer reports it experienced an internal error." }], // TLSV1_ALERT_INTERNAL_ERROR
]);

const ERR_LIB_SSL = 20;
const SSL_R_CERTIFICATE_VERIFY_FAILED = 134;

/**
 * Translates OpenSSL's view of a failure (error queue, verify result) into the NSS error the
 * C daemon would have logged, or undefined when no equivalent is known.
 */
export function nssEquivalent(
  opensslCodes: readonly bigint[],
  verifyResult: number,
): NssError | undefined {
  for (const packed of [...opensslCodes].reverse()) {
    if ((packed & 0x80000000n) !== 0n) continue; // a system (errno) error
    if (Number((packed >> 23n) & 0xffn) !== ERR_LIB_SSL) continue;
    const reason = Number(packed & 0x7fffffn);
    if (reason === SSL_R_CERTIFICATE_VERIFY_FAILED) return NSS_BY_VERIFY_RESULT.get(verifyResult);
    const nss = NSS_BY_SSL_REASON.get(reason);
    if (nss !== undefined) return nss;
  }
  return undefined;
}

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
    this.verifyResult = details.verifyResult ?? 0;
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
  [2, "unable to get issuer certificate"],
  [4, "unable to decrypt certificate's signature"],
  [7, "certificate signature failure"],
  [9, "certificate is not yet valid"],
  [10, "certificate has expired"],
  [18, "self-signed certificate"],
  [19, "self-signed certificate in certificate chain"],
  [20, "unable to get local issuer certificate"],
  [21, "unable to verify the first certificate"],
  [24, "invalid CA certificate"],
  [26, "unsupported certificate purpose"],
]);

/** `SSL_version()` values (TLS1_x_VERSION) and the names OpenSSL gives them. */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0301, "TLSv1"],
  [0x0302, "TLSv1.1"],
  [0x0303, "TLSv1.2"],
  [0x0304, "TLSv1.3"],
]);

function failure(lib: OpenSslSymbols, what: string, verifyResult = 0): TlsError {
  const { codes, lines } = drainErrorQueue(lib);
  let text = what;
  if (verifyResult !== 0) {
    text += ` (certificate verification: ${VERIFY_REASONS.get(verifyResult) ?? verifyResult})`;
  }
  if (lines.length > 0) text += `: ${lines.join("; ")}`;
  return new TlsError(text, { opensslCodes: codes, verifyResult });
}

/**
 * An OpenSSL `SSL_CTX` set up like the C daemon's NSS server socket. Sessions keep their own
 * reference to the context, so disposing it while sessions are open is safe.
 */
export class TlsServerContext implements Disposable {
  readonly #lib: OpenSslSymbols;
  #ctx: Deno.PointerValue;

  private constructor(lib: OpenSslSymbols, ctx: Deno.PointerObject) {
    this.#lib = lib;
    this.#ctx = ctx;
  }

  /**
   * Loads libssl (on first use) and builds the context from PEM files.
   *
   * @throws {OpenSslLoadError} when libssl.so.3 cannot be loaded.
   * @throws {TlsError} when a file cannot be loaded or the key does not match the certificate.
   */
  static create(cfg: TlsServerConfig): TlsServerContext {
    const lib = openSsl(cfg.libraryPath);
    lib.ERR_clear_error();
    const ctx = lib.SSL_CTX_new(lib.TLS_server_method());
    if (ctx === null) throw failure(lib, "Cannot create an OpenSSL context");
    live.created("SSL_CTX");
    const context = new TlsServerContext(lib, ctx);
    try {
      context.#configure(cfg);
    } catch (error) {
      context[Symbol.dispose]();
      throw error;
    }
    return context;
  }

  #configure(cfg: TlsServerConfig): void {
    const lib = this.#lib;
    const ctx = this.#ctx;
    const check = (ok: boolean, what: string) => {
      if (!ok) throw failure(lib, what);
    };
    check(
      lib.SSL_CTX_ctrl(ctx, Ssl.CtrlSetMinProtoVersion, BigInt(Ssl.Tls12Version), null) === 1n &&
        lib.SSL_CTX_ctrl(ctx, Ssl.CtrlSetMaxProtoVersion, BigInt(Ssl.Tls13Version), null) === 1n,
      "Cannot restrict the TLS versions to 1.2-1.3",
    );
    // NSS qnetd runs without a session ID cache; no tickets either, so nothing outlives a
    // connection. Idle connections give their record buffers back.
    lib.SSL_CTX_ctrl(ctx, Ssl.CtrlSetSessCacheMode, BigInt(Ssl.SessCacheOff), null);
    lib.SSL_CTX_set_options(ctx, Ssl.OpNoTicket);
    check(lib.SSL_CTX_set_num_tickets(ctx, 0n) === 1, "Cannot turn off TLS 1.3 tickets");
    lib.SSL_CTX_ctrl(ctx, Ssl.CtrlMode, BigInt(Ssl.ModeReleaseBuffers), null);

    check(
      lib.SSL_CTX_use_certificate_chain_file(ctx, cString(cfg.certFile)) === 1,
      `Cannot load the server certificate from '${cfg.certFile}'`,
    );
    check(
      lib.SSL_CTX_use_PrivateKey_file(ctx, cString(cfg.keyFile), Ssl.FiletypePem) === 1,
      `Cannot load the server private key from '${cfg.keyFile}'`,
    );
    check(
      lib.SSL_CTX_check_private_key(ctx) === 1,
      `The private key in '${cfg.keyFile}' does not match the certificate in '${cfg.certFile}'`,
    );
    check(
      lib.SSL_CTX_load_verify_locations(ctx, cString(cfg.caFile), null) === 1,
      `Cannot load the CA certificate from '${cfg.caFile}'`,
    );
    if (cfg.requireClientCert) {
      const names = lib.SSL_load_client_CA_file(cString(cfg.caFile));
      check(names !== null, `Cannot read the CA names from '${cfg.caFile}'`);
      lib.SSL_CTX_set_client_CA_list(ctx, names); // the context owns the list from here
      lib.SSL_CTX_set_verify(ctx, Ssl.VerifyPeer | Ssl.VerifyFailIfNoPeerCert, null);
    } else {
      lib.SSL_CTX_set_verify(ctx, Ssl.VerifyNone, null);
    }
  }

  /** A new server-side connection state (`SSL` with a read and a write memory BIO). */
  newSession(): TlsSession {
    if (this.#ctx === null) throw new TlsError("Cannot start a session on a disposed context");
    return new TlsSession(this.#lib, this.#ctx);
  }

  /** Releases this reference to the `SSL_CTX` (live sessions hold their own). Idempotent. */
  [Symbol.dispose](): void {
    if (this.#ctx === null) return;
    this.#lib.SSL_CTX_free(this.#ctx);
    this.#ctx = null;
    live.freed("SSL_CTX");
  }
}

/** Shared buffer for SSL_read/BIO_read: calls are synchronous, so one suffices. */
const scratch = new Uint8Array(16 * 1024);
const EMPTY = new Uint8Array(0);

/**
 * One TLS connection, server side. The caller moves bytes between the socket and the session;
 * the session never touches the socket. After {@link receive} throws, the session is dead,
 * but {@link takeOutgoing} still returns the alert OpenSSL wants the peer to see.
 */
export class TlsSession implements Disposable {
  readonly #lib: OpenSslSymbols;
  #ssl: Deno.PointerValue;
  readonly #rbio: Deno.PointerObject;
  readonly #wbio: Deno.PointerObject;
  #handshakeComplete = false;
  #failed: TlsError | undefined;
  #peerClosed = false;
  #shutdownSent = false;
  #queued: Uint8Array[] = [];

  /** Use {@link TlsServerContext.newSession}. */
  constructor(lib: OpenSslSymbols, ctx: Deno.PointerObject) {
    this.#lib = lib;
    lib.ERR_clear_error();
    const ssl = lib.SSL_new(ctx);
    if (ssl === null) throw failure(lib, "Cannot create an OpenSSL connection");
    live.created("SSL");
    const rbio = lib.BIO_new(lib.BIO_s_mem());
    const wbio = rbio === null ? null : lib.BIO_new(lib.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio !== null) lib.BIO_free(rbio);
      lib.SSL_free(ssl);
      live.freed("SSL");
      throw failure(lib, "Cannot create memory BIOs");
    }
    live.created("BIO");
    live.created("BIO");
    lib.SSL_set_bio(ssl, rbio, wbio); // the SSL owns both BIOs from here
    lib.SSL_set_accept_state(ssl);
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
  }

  /** The handshake has finished (and client verification, if required, passed). */
  get handshakeComplete(): boolean {
    return this.#handshakeComplete;
  }

  /** The peer sent close_notify. */
  get peerClosed(): boolean {
    return this.#peerClosed;
  }

  /** The negotiated protocol, e.g. "TLSv1.3"; undefined before the handshake completes. */
  get protocol(): string | undefined {
    if (!this.#handshakeComplete || this.#ssl === null) return undefined;
    const version = this.#lib.SSL_version(this.#ssl);
    return PROTOCOL_NAMES.get(version) ?? `0x${version.toString(16)}`;
  }

  /** `SSL_get_verify_result()`: 0 (X509_V_OK) when the client certificate verified. */
  get verifyResult(): number {
    return this.#ssl === null ? 0 : Number(this.#lib.SSL_get_verify_result(this.#ssl));
  }

  #live(): Deno.PointerObject {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#ssl === null) throw new TlsError("Cannot use a disposed TLS session");
    return this.#ssl;
  }

  /**
   * Feeds bytes received from the socket. Returns the decrypted application bytes (maybe
   * none) and whether the handshake completed during this call.
   *
   * @throws {TlsError} on a fatal alert, a handshake failure or a bad record; the session
   *   cannot be used afterwards.
   */
  receive(cipher: Uint8Array): { plaintext: Uint8Array; handshakeDone: boolean } {
    const ssl = this.#live();
    const lib = this.#lib;
    lib.ERR_clear_error();
    if (cipher.length > 0 && lib.BIO_write(this.#rbio, cipher, cipher.length) !== cipher.length) {
      throw this.#fail("Cannot buffer received TLS bytes");
    }
    let handshakeDone = false;
    if (!this.#handshakeComplete) {
      const rc = lib.SSL_do_handshake(ssl);
      if (rc !== 1) {
        this.#check(rc, "TLS handshake failed");
        return { plaintext: EMPTY, handshakeDone: false };
      }
      this.#handshakeComplete = true;
      handshakeDone = true;
      const queued = this.#queued;
      this.#queued = [];
      for (const plain of queued) this.#write(ssl, plain);
    }
    const parts: Uint8Array[] = [];
    while (!this.#peerClosed) {
      const n = lib.SSL_read(ssl, scratch, scratch.length);
      if (n <= 0) {
        this.#check(n, "Cannot read TLS data");
        break;
      }
      parts.push(scratch.slice(0, n));
    }
    return { plaintext: concatBytes(parts), handshakeDone };
  }

  /** Encrypts application bytes; before the handshake completes they are queued. */
  send(plain: Uint8Array): void {
    const ssl = this.#live();
    if (plain.length === 0) return;
    if (!this.#handshakeComplete) {
      this.#queued.push(plain.slice());
      return;
    }
    this.#lib.ERR_clear_error();
    this.#write(ssl, plain);
  }

  #write(ssl: Deno.PointerObject, plain: Uint8Array): void {
    // Memory BIOs never block and partial writes are off, so SSL_write takes it all.
    const n = this.#lib.SSL_write(ssl, plain, plain.length);
    if (n !== plain.length) {
      this.#check(n, "Cannot encrypt TLS data");
      throw this.#fail("Cannot encrypt TLS data");
    }
  }

  /**
   * Queues a close_notify alert (SSL_shutdown), as NSS does when qnetd closes a TLS socket;
   * {@link takeOutgoing} then returns it. Does nothing before the handshake completed or
   * after a failure. Idempotent.
   */
  shutdown(): void {
    if (this.#ssl === null || !this.#handshakeComplete || this.#failed !== undefined) return;
    if (this.#shutdownSent) return;
    this.#shutdownSent = true;
    this.#lib.ERR_clear_error();
    this.#lib.SSL_shutdown(this.#ssl); // 0: sent, the peer's close_notify not awaited
    this.#lib.ERR_clear_error();
  }

  /** Bytes OpenSSL wants on the wire (handshake records, encrypted data, alerts). */
  takeOutgoing(): Uint8Array {
    if (this.#ssl === null) return EMPTY;
    const lib = this.#lib;
    const parts: Uint8Array[] = [];
    for (;;) {
      const pending = Number(lib.BIO_ctrl_pending(this.#wbio));
      if (pending <= 0) break;
      const n = lib.BIO_read(this.#wbio, scratch, Math.min(pending, scratch.length));
      if (n <= 0) break;
      parts.push(scratch.slice(0, n));
    }
    return concatBytes(parts);
  }

  /** Classifies a non-positive return of SSL_*: returns if OpenSSL just needs more input. */
  #check(rc: number, what: string): void {
    const ssl = this.#ssl!;
    switch (this.#lib.SSL_get_error(ssl, rc)) {
      case Ssl.ErrorWantRead:
      case Ssl.ErrorWantWrite:
        return;
      case Ssl.ErrorZeroReturn:
        this.#peerClosed = true;
        return;
      default:
        throw this.#fail(what);
    }
  }

  #fail(what: string): TlsError {
    const ssl = this.#ssl!;
    const verify = this.#handshakeComplete ? 0 : Number(this.#lib.SSL_get_verify_result(ssl));
    this.#failed = failure(this.#lib, what, verify);
    return this.#failed;
  }

  /**
   * Names to match the cluster name against, read the way NSS's `CERT_VerifyCertName()`
   * does (core/certs/peer_names.ts). Undefined when the peer sent no certificate.
   */
  peerCertificateNames(): PeerCertNames | undefined {
    if (this.#ssl === null) return undefined;
    const lib = this.#lib;
    const x509 = lib.SSL_get1_peer_certificate(this.#ssl);
    if (x509 === null) return undefined;
    live.created("X509");
    const bio = lib.BIO_new(lib.BIO_s_mem());
    try {
      if (bio === null) return NO_NAMES;
      live.created("BIO");
      // DER out through a memory BIO into our buffer, then parsed in JS: no pointer views.
      if (lib.i2d_X509_bio(bio, x509) !== 1) return NO_NAMES;
      const der = new Uint8Array(Number(lib.BIO_ctrl_pending(bio)));
      if (lib.BIO_read(bio, der, der.length) !== der.length) return NO_NAMES;
      return certificateNames(der);
    } finally {
      if (bio !== null) {
        lib.BIO_free(bio);
        live.freed("BIO");
      }
      lib.X509_free(x509);
      live.freed("X509");
    }
  }

  /** Frees the `SSL` and its two BIOs. Idempotent. */
  [Symbol.dispose](): void {
    if (this.#ssl === null) return;
    this.#lib.SSL_free(this.#ssl);
    this.#ssl = null;
    this.#queued = [];
    live.freed("SSL");
    live.freed("BIO", 2);
  }
}
