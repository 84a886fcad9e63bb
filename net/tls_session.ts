/**
 * One server-side TLS connection over memory BIOs: the daemon keeps its plain `Deno.Conn`,
 * feeds what it reads to {@link TlsSession.receive} and writes what
 * {@link TlsSession.takeOutgoing} returns. It takes the place of the handshake driving in
 * qnetd's `qnetd_client_net_read()` (qdevices/, v3.0.3).
 *
 * @module
 */
import { certificateNames, NO_NAMES, type PeerCertNames } from "../core/certs/peer_names.ts";
import { concatBytes } from "../core/bytes.ts";
import {
  liveOpenSslObjects as live,
  type OpenSslSymbols,
  Ssl,
  TlsVersion,
  X509Verify,
} from "./openssl_ffi.ts";
import { TlsError, tlsFailure } from "./tls_error.ts";

/** `SSL_version()` values (TLS1_x_VERSION) and the names OpenSSL gives them. */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [TlsVersion.Tls1, "TLSv1"],
  [TlsVersion.Tls11, "TLSv1.1"],
  [TlsVersion.Tls12, "TLSv1.2"],
  [TlsVersion.Tls13, "TLSv1.3"],
]);

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
    if (ssl === null) throw tlsFailure(lib, "Cannot create an OpenSSL connection");
    live.created("SSL");
    const rbio = lib.BIO_new(lib.BIO_s_mem());
    const wbio = rbio === null ? null : lib.BIO_new(lib.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio !== null) lib.BIO_free(rbio);
      lib.SSL_free(ssl);
      live.freed("SSL");
      throw tlsFailure(lib, "Cannot create memory BIOs");
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
    return this.#ssl === null ? X509Verify.Ok : Number(this.#lib.SSL_get_verify_result(this.#ssl));
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
    const verify = this.#handshakeComplete
      ? X509Verify.Ok
      : Number(this.#lib.SSL_get_verify_result(ssl));
    this.#failed = tlsFailure(this.#lib, what, verify);
    return this.#failed;
  }

  /**
   * Names to match the cluster name against, read the way NSS's `CERT_VerifyCertName()`
   * does: the SAN dNSNames when the certificate has a subjectAltName extension, else the
   * (first) subject CN. Undefined when the peer sent no certificate.
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
