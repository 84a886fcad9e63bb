/**
 * The client side of QNet's StartTLS for the load generator: OpenSSL over memory BIOs, as
 * in the daemon (`net/tls_server.ts`), because Deno's own TLS cannot act as the real
 * qdevice: `Deno.startTls` takes no client certificate, and rustls refuses the SNI name
 * "Qnetd Server" that corosync-qdevice sends (its `net_nss_qnetd_cn`).
 *
 * Like `nss_sock_start_ssl_as_client()` in qdevices/nss-sock.c, each session sends the SNI
 * name "Qnetd Server", verifies the server's chain against the QNet CA and presents the
 * cluster's client certificate. One `SSL_CTX` per cluster certificate, shared by the
 * cluster's nodes.
 *
 * @module
 */
import {
  cString,
  drainErrorQueue,
  openSsl,
  type OpenSslSymbols,
  Ssl,
} from "../../net/openssl_ffi.ts";

/** The server name the real qdevice sends and expects (QDEVICE_NET_DEFAULT_NSS_QNETD_CN). */
export const QNETD_SERVER_NAME = "Qnetd Server";

/** Where the client key material is; plain data, so it can be posted to a Worker. */
export interface TlsClientFiles {
  /** PEM QNet CA, to verify the server. */
  readonly caFile: string;
  /** PEM private key behind every cluster certificate. */
  readonly keyFile: string;
  /** Directory of `cluster-<name>.pem` client certificates. */
  readonly certDir: string;
}

/** Path of the client certificate for `cluster` under `certDir`. */
export function clusterCertPath(certDir: string, cluster: string): string {
  return `${certDir}/cluster-${cluster}.pem`;
}

/** A TLS failure of the client (setup or handshake), with OpenSSL's error lines. */
export class TlsClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsClientError";
  }
}

/** Client `SSL_CTX`s, one per cluster, made on first use; `close()` frees them all. */
export class TlsClientContexts {
  readonly lib: OpenSslSymbols;
  readonly #files: TlsClientFiles;
  readonly #contexts = new Map<string, Deno.PointerObject>();

  constructor(files: TlsClientFiles) {
    this.lib = openSsl();
    this.#files = files;
  }

  /** The context presenting `cluster`'s certificate. */
  forCluster(cluster: string): Deno.PointerObject {
    const known = this.#contexts.get(cluster);
    if (known !== undefined) return known;
    const lib = this.lib;
    const ctx = lib.SSL_CTX_new(lib.TLS_client_method());
    if (ctx === null) throw new TlsClientError("SSL_CTX_new failed");
    const check = (ok: boolean, what: string) => {
      if (ok) return;
      lib.SSL_CTX_free(ctx);
      throw new TlsClientError(`${what}: ${drainErrorQueue(lib).lines.join("; ")}`);
    };
    const f = this.#files;
    check(lib.SSL_CTX_load_verify_locations(ctx, cString(f.caFile), null) === 1, "CA file");
    lib.SSL_CTX_set_verify(ctx, Ssl.VerifyPeer, null);
    // NSS on the real client offers TLS 1.2 and 1.3 (and older, which qnetd refuses anyway).
    lib.SSL_CTX_ctrl(ctx, Ssl.CtrlSetMinProtoVersion, BigInt(Ssl.Tls12Version), null);
    lib.SSL_CTX_ctrl(ctx, Ssl.CtrlMode, BigInt(Ssl.ModeReleaseBuffers), null);
    const cert = cString(clusterCertPath(f.certDir, cluster));
    check(lib.SSL_CTX_use_certificate_chain_file(ctx, cert) === 1, `certificate of ${cluster}`);
    const key = cString(f.keyFile);
    check(lib.SSL_CTX_use_PrivateKey_file(ctx, key, Ssl.FiletypePem) === 1, "client key");
    this.#contexts.set(cluster, ctx);
    return ctx;
  }

  /** Frees every context (sessions made from them must be closed first). */
  close(): void {
    for (const ctx of this.#contexts.values()) this.lib.SSL_CTX_free(ctx);
    this.#contexts.clear();
  }
}

/** Shared read buffer: sessions run one at a time on an isolate's thread. */
const scratch = new Uint8Array(64 * 1024);
const EMPTY = new Uint8Array(0);

/**
 * One client session. Feed it the bytes read from the socket (`receive`), give it the
 * plaintext to send (`send`, queued until the handshake is done), and write out what
 * `takeOutgoing()` returns after each call.
 */
export class TlsClientSession {
  readonly #lib: OpenSslSymbols;
  #ssl: Deno.PointerObject | null;
  readonly #rbio: Deno.PointerObject;
  readonly #wbio: Deno.PointerObject;
  #queued: Uint8Array[] = [];
  /** True once the handshake has completed. */
  handshakeDone = false;

  constructor(contexts: TlsClientContexts, cluster: string) {
    const lib = this.#lib = contexts.lib;
    const ssl = lib.SSL_new(contexts.forCluster(cluster));
    if (ssl === null) throw new TlsClientError("SSL_new failed");
    const rbio = lib.BIO_new(lib.BIO_s_mem());
    const wbio = lib.BIO_new(lib.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio !== null) lib.BIO_free(rbio);
      if (wbio !== null) lib.BIO_free(wbio);
      lib.SSL_free(ssl);
      throw new TlsClientError("BIO_new failed");
    }
    lib.SSL_set_bio(ssl, rbio, wbio); // The SSL owns both BIOs from here on.
    const name = cString(QNETD_SERVER_NAME);
    lib.SSL_ctrl(ssl, Ssl.CtrlSetTlsextHostname, BigInt(Ssl.TlsextNametypeHostName), name);
    lib.SSL_set_connect_state(ssl);
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
  }

  /** Starts the handshake (the ClientHello is then in `takeOutgoing()`). */
  start(): void {
    this.receive(EMPTY);
  }

  /**
   * Takes bytes from the server, advances the handshake and returns the plaintext now
   * readable (possibly empty).
   *
   * @throws {TlsClientError} when the handshake or the record layer fails.
   */
  receive(bytes: Uint8Array): Uint8Array {
    const lib = this.#lib;
    const ssl = this.#live();
    if (bytes.length > 0) lib.BIO_write(this.#rbio, bytes, bytes.length);
    if (!this.handshakeDone) {
      const rc = lib.SSL_do_handshake(ssl);
      if (rc !== 1) {
        this.#check(rc, "handshake");
        return EMPTY;
      }
      this.handshakeDone = true;
      for (const plain of this.#queued) this.#write(plain);
      this.#queued = [];
    }
    let out: Uint8Array = EMPTY;
    for (;;) {
      const n = lib.SSL_read(ssl, scratch, scratch.length);
      if (n <= 0) {
        this.#check(n, "read");
        return out;
      }
      out = out.length === 0 ? scratch.slice(0, n) : join(out, scratch.subarray(0, n));
    }
  }

  /** Encrypts `plain`, or keeps it until the handshake is done. */
  send(plain: Uint8Array): void {
    if (this.handshakeDone) this.#write(plain);
    else this.#queued.push(plain);
  }

  /** The TLS records waiting to go to the server (empty if none). */
  takeOutgoing(): Uint8Array {
    const lib = this.#lib;
    if (this.#ssl === null) return EMPTY;
    let out: Uint8Array = EMPTY;
    while (Number(lib.BIO_ctrl_pending(this.#wbio)) > 0) {
      const n = lib.BIO_read(this.#wbio, scratch, scratch.length);
      if (n <= 0) break;
      out = out.length === 0 ? scratch.slice(0, n) : join(out, scratch.subarray(0, n));
    }
    return out;
  }

  /** Frees the session (and its BIOs). Idempotent. */
  close(): void {
    if (this.#ssl === null) return;
    this.#lib.SSL_free(this.#ssl);
    this.#ssl = null;
  }

  #write(plain: Uint8Array): void {
    const rc = this.#lib.SSL_write(this.#live(), plain, plain.length);
    if (rc <= 0) this.#check(rc, "write");
  }

  #live(): Deno.PointerObject {
    if (this.#ssl === null) throw new TlsClientError("TLS session already closed");
    return this.#ssl;
  }

  #check(rc: number, what: string): void {
    const lib = this.#lib;
    const err = lib.SSL_get_error(this.#live(), rc);
    if (err === Ssl.ErrorWantRead || err === Ssl.ErrorWantWrite) return;
    if (err === Ssl.ErrorZeroReturn) throw new TlsClientError(`TLS ${what}: closed by the server`);
    const lines = drainErrorQueue(lib).lines.join("; ");
    const verify = Number(lib.SSL_get_verify_result(this.#live()));
    throw new TlsClientError(
      `TLS ${what} failed (SSL error ${err}${verify === 0 ? "" : `, verify ${verify}`})` +
        (lines === "" ? "" : `: ${lines}`),
    );
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
