/**
 * The server's OpenSSL `SSL_CTX`, set up like the C daemon's NSS server socket in
 * qnetd's `qnetd_instance_init_certs()` / `nss_sock_start_ssl_as_server()` (qdevices/,
 * v3.0.3): TLS 1.2 and 1.3 only, no session cache and no tickets, and, with client
 * certificates required, a client certificate that chains to the QNet CA.
 *
 * @module
 */
import {
  cString,
  liveOpenSslObjects as live,
  openSsl,
  type OpenSslSymbols,
  Ssl,
} from "./openssl_ffi.ts";
import { TlsError, tlsFailure } from "./tls_error.ts";
import { TlsSession } from "./tls_session.ts";

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
