/**
 * The server's OpenSSL `SSL_CTX`, set up like the C daemon's NSS server socket in
 * qnetd's `qnetd_instance_init_certs()` / `nss_sock_start_ssl_as_server()` (qdevices/,
 * v3.0.3): TLS 1.2 and 1.3 only, no session cache and no tickets, and, with client
 * certificates required, a client certificate that chains to the QNet CA.
 *
 * @module
 */
import { liveOpenSslObjects as live, openSsl, type OpenSslSymbols, Ssl } from "./openssl_ffi.ts";
import { TlsError, tlsFailure } from "./tls_error.ts";
import { TlsSession } from "./tls_session.ts";

/**
 * The server's key material in memory, as DER: whoever read it (an NSS database, PEM files)
 * says where it came from in `origin`, which the error messages quote.
 */
export interface ServerKeyMaterial {
  /** The server certificate first, then any chain certificates, each DER. */
  readonly certChainDer: readonly Uint8Array[];
  /** The server certificate's private key: PKCS#8 PrivateKeyInfo (or a traditional key), DER. */
  readonly keyDer: Uint8Array;
  /** The trusted CA certificates (the QNet CA), each DER: trust anchors and the CA list sent. */
  readonly caCertsDer: readonly Uint8Array[];
  /** Where each part came from, e.g. a file name, for messages. */
  readonly origin: { readonly cert: string; readonly key: string; readonly ca: string };
}

/** Key material and policy for {@link TlsServerContext.create}. */
export interface TlsServerConfig {
  /** Certificate, key and trusted CAs, already read. */
  keys: ServerKeyMaterial;
  /** The `-c` option: request and require a client certificate. */
  requireClientCert: boolean;
  /** Absolute path of libssl.so.3; default: the usual distribution paths. */
  libraryPath?: string;
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
   * Loads libssl (on first use) and builds the context from key material in memory:
   * OpenSSL reads no file.
   *
   * @throws {OpenSslLoadError} when libssl.so.3 cannot be loaded.
   * @throws {TlsError} when a part cannot be decoded or the key does not match the certificate.
   */
  static create(cfg: TlsServerConfig): TlsServerContext {
    const lib = openSsl(cfg.libraryPath);
    lib.ERR_clear_error();
    const ctx = lib.SSL_CTX_new(lib.TLS_server_method());
    if (ctx === null) throw tlsFailure(lib, "Cannot create an OpenSSL context");
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
      if (!ok) throw tlsFailure(lib, what);
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

    const { keys } = cfg;
    const [leaf, ...chain] = keys.certChainDer;
    check(leaf !== undefined, `No server certificate in '${keys.origin.cert}'`);
    this.#withCertificate(leaf!, keys.origin.cert, (x509) => {
      check(
        lib.SSL_CTX_use_certificate(ctx, x509) === 1,
        `Cannot load the server certificate from '${keys.origin.cert}'`,
      );
    });
    for (const der of chain) {
      this.#withCertificate(der, keys.origin.cert, (x509) => {
        check(
          lib.SSL_CTX_ctrl(ctx, Ssl.CtrlChainCert, 1n, x509) === 1n,
          `Cannot add a chain certificate from '${keys.origin.cert}'`,
        );
      });
    }
    const pkey = this.#decode(
      keys.keyDer,
      lib.d2i_PrivateKey_bio,
      `Cannot load the server private key from '${keys.origin.key}'`,
    );
    live.created("EVP_PKEY");
    try {
      check(
        lib.SSL_CTX_use_PrivateKey(ctx, pkey) === 1,
        `Cannot load the server private key from '${keys.origin.key}'`,
      );
    } finally {
      lib.EVP_PKEY_free(pkey);
      live.freed("EVP_PKEY");
    }
    check(
      lib.SSL_CTX_check_private_key(ctx) === 1,
      `The private key in '${keys.origin.key}' does not match the certificate in '${keys.origin.cert}'`,
    );
    check(keys.caCertsDer.length > 0, `No CA certificate in '${keys.origin.ca}'`);
    const store = lib.SSL_CTX_get_cert_store(ctx); // owned by the context
    for (const der of uniqueDer(keys.caCertsDer)) {
      this.#withCertificate(der, keys.origin.ca, (x509) => {
        check(
          lib.X509_STORE_add_cert(store, x509) === 1,
          `Cannot load the CA certificate from '${keys.origin.ca}'`,
        );
        if (cfg.requireClientCert) {
          check(
            lib.SSL_CTX_add_client_CA(ctx, x509) === 1,
            `Cannot read the CA names from '${keys.origin.ca}'`,
          );
        }
      });
    }
    lib.SSL_CTX_set_verify(
      ctx,
      cfg.requireClientCert ? Ssl.VerifyPeer | Ssl.VerifyFailIfNoPeerCert : Ssl.VerifyNone,
      null,
    );
  }

  /** Decodes one DER object through a memory BIO with `d2i` (d2i_X509_bio, d2i_PrivateKey_bio). */
  #decode(
    der: Uint8Array,
    d2i: (bio: Deno.PointerValue, out: null) => Deno.PointerValue,
    what: string,
  ): Deno.PointerObject {
    const lib = this.#lib;
    const bio = lib.BIO_new(lib.BIO_s_mem());
    if (bio === null) throw tlsFailure(lib, "Cannot create a memory BIO");
    live.created("BIO");
    try {
      const copy = Uint8Array.from(der); // BIO_write copies; a fresh buffer keeps FFI happy
      if (lib.BIO_write(bio, copy, copy.length) !== copy.length) throw tlsFailure(lib, what);
      const object = d2i(bio, null);
      if (object === null) throw tlsFailure(lib, what);
      return object;
    } finally {
      lib.BIO_free(bio);
      live.freed("BIO");
    }
  }

  /** Decodes a DER certificate, hands it to `use`, then drops this reference to it. */
  #withCertificate(der: Uint8Array, origin: string, use: (x509: Deno.PointerObject) => void): void {
    const x509 = this.#decode(
      der,
      this.#lib.d2i_X509_bio,
      `Cannot decode a certificate from '${origin}'`,
    );
    live.created("X509");
    try {
      use(x509);
    } finally {
      this.#lib.X509_free(x509);
      live.freed("X509");
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

/** `certs` without byte-for-byte repeats, in first-seen order. */
function uniqueDer(certs: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return certs.filter((der) => {
    const key = der.toBase64();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
