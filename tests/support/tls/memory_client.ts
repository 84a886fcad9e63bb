/**
 * An OpenSSL TLS client over memory BIOs, in the test process, so that hundreds of
 * handshakes against {@link TlsSession} run without sockets or child processes. It sends
 * SNI "Qnetd Server" like the real qdevice and verifies the server against the CA.
 *
 * @module
 */

import {
  cString,
  drainErrorQueue,
  liveOpenSslObjects as live,
  openSsl,
  type OpenSslSymbols,
  Ssl,
} from "../../../net/openssl_ffi.ts";
import type { TlsSession } from "../../../net/tls_server.ts";

/** Client key material; no cert/key means the client has no certificate. */
export interface ClientConfig {
  caFile: string;
  certFile?: string;
  keyFile?: string;
  maxVersion?: number;
}

/** A client `SSL_CTX`. */
export class MemoryClientContext implements Disposable {
  readonly lib: OpenSslSymbols = openSsl();
  ctx: Deno.PointerValue;

  constructor(cfg: ClientConfig) {
    const lib = this.lib;
    this.ctx = lib.SSL_CTX_new(lib.TLS_client_method());
    if (this.ctx === null) throw new Error("SSL_CTX_new failed");
    live.created("SSL_CTX");
    const ok = (rc: number | bigint, what: string) => {
      if (Number(rc) !== 1) throw new Error(`${what}: ${drainErrorQueue(lib).lines.join("; ")}`);
    };
    ok(lib.SSL_CTX_load_verify_locations(this.ctx, cString(cfg.caFile), null), "CA");
    lib.SSL_CTX_set_verify(this.ctx, Ssl.VerifyPeer, null);
    if (cfg.maxVersion !== undefined) {
      ok(
        lib.SSL_CTX_ctrl(this.ctx, Ssl.CtrlSetMaxProtoVersion, BigInt(cfg.maxVersion), null),
        "max version",
      );
    }
    if (cfg.certFile !== undefined && cfg.keyFile !== undefined) {
      ok(lib.SSL_CTX_use_certificate_chain_file(this.ctx, cString(cfg.certFile)), "cert");
      ok(lib.SSL_CTX_use_PrivateKey_file(this.ctx, cString(cfg.keyFile), Ssl.FiletypePem), "key");
    }
  }

  [Symbol.dispose](): void {
    if (this.ctx === null) return;
    this.lib.SSL_CTX_free(this.ctx);
    this.ctx = null;
    live.freed("SSL_CTX");
  }
}

const scratch = new Uint8Array(16 * 1024);

/** One client connection over memory BIOs. */
export class MemoryClient implements Disposable {
  readonly #lib: OpenSslSymbols;
  #ssl: Deno.PointerValue;
  readonly #rbio: Deno.PointerObject;
  readonly #wbio: Deno.PointerObject;
  failed = "";
  done = false;
  #queued: Uint8Array[] = [];

  constructor(context: MemoryClientContext) {
    const lib = this.#lib = context.lib;
    const ssl = lib.SSL_new(context.ctx);
    const rbio = lib.BIO_new(lib.BIO_s_mem());
    const wbio = lib.BIO_new(lib.BIO_s_mem());
    if (ssl === null || rbio === null || wbio === null) throw new Error("allocation failed");
    live.created("SSL");
    live.created("BIO");
    live.created("BIO");
    lib.SSL_set_bio(ssl, rbio, wbio);
    lib.SSL_ctrl(
      ssl,
      Ssl.CtrlSetTlsextHostname,
      BigInt(Ssl.TlsextNametypeHostName),
      cString("Qnetd Server"),
    );
    lib.SSL_set_connect_state(ssl);
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
  }

  /** The `SSL *` (null once disposed), for OpenSSL calls this class does not wrap. */
  get ssl(): Deno.PointerValue {
    return this.#ssl;
  }

  /** Feeds server bytes, advances the handshake, returns decrypted data. */
  receive(bytes: Uint8Array): Uint8Array {
    const lib = this.#lib;
    const ssl = this.#ssl!;
    if (bytes.length > 0) lib.BIO_write(this.#rbio, bytes, bytes.length);
    if (!this.done) {
      const rc = lib.SSL_do_handshake(ssl);
      if (rc !== 1) {
        this.#check(rc);
        return new Uint8Array(0);
      }
      this.done = true;
      for (const plain of this.#queued.splice(0)) this.send(plain);
    }
    const parts: number[] = [];
    for (;;) {
      const n = lib.SSL_read(ssl, scratch, scratch.length);
      if (n <= 0) {
        this.#check(n);
        break;
      }
      parts.push(...scratch.subarray(0, n));
    }
    return new Uint8Array(parts);
  }

  #check(rc: number): void {
    const err = this.#lib.SSL_get_error(this.#ssl!, rc);
    if (err === Ssl.ErrorWantRead || err === Ssl.ErrorZeroReturn) return;
    this.failed ||= drainErrorQueue(this.#lib).lines.join("; ") || `SSL error ${err}`;
  }

  /** Encrypts `plain`, or queues it until the handshake is done. */
  send(plain: Uint8Array): void {
    if (!this.done) {
      this.#queued.push(plain);
      return;
    }
    this.#lib.SSL_write(this.#ssl!, plain, plain.length);
  }

  /** The server's certificate as DER, or undefined when it sent none (or before the handshake). */
  peerCertificateDer(): Uint8Array | undefined {
    const lib = this.#lib;
    const x509 = lib.SSL_get1_peer_certificate(this.#ssl!);
    if (x509 === null) return undefined;
    const bio = lib.BIO_new(lib.BIO_s_mem());
    try {
      if (bio === null || lib.i2d_X509_bio(bio, x509) !== 1) return undefined;
      const der = new Uint8Array(Number(lib.BIO_ctrl_pending(bio)));
      return lib.BIO_read(bio, der, der.length) === der.length ? der : undefined;
    } finally {
      if (bio !== null) lib.BIO_free(bio);
      lib.X509_free(x509);
    }
  }

  takeOutgoing(): Uint8Array {
    const n = this.#lib.BIO_read(this.#wbio, scratch, scratch.length);
    return n > 0 ? scratch.slice(0, n) : new Uint8Array(0);
  }

  [Symbol.dispose](): void {
    if (this.#ssl === null) return;
    this.#lib.SSL_free(this.#ssl);
    this.#ssl = null;
    live.freed("SSL");
    live.freed("BIO", 2);
  }
}

/** What {@link pump} observed. */
export interface PumpResult {
  serverDone: boolean;
  serverError: Error | undefined;
  /** Plaintext the server received. */
  serverGot: Uint8Array;
  /** Plaintext the client received. */
  clientGot: Uint8Array;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Moves bytes between the two ends until nothing moves (at most 50 rounds). */
export function pump(client: MemoryClient, server: TlsSession): PumpResult {
  const result: PumpResult = {
    serverDone: false,
    serverError: undefined,
    serverGot: new Uint8Array(0),
    clientGot: new Uint8Array(0),
  };
  client.receive(new Uint8Array(0)); // ClientHello
  for (let round = 0; round < 50; round++) {
    const toServer = client.takeOutgoing();
    let moved = toServer.length > 0;
    if (result.serverError === undefined) {
      try {
        const r = server.receive(toServer);
        result.serverDone ||= r.handshakeDone;
        result.serverGot = join(result.serverGot, r.plaintext);
      } catch (error) {
        result.serverError = error as Error;
      }
    }
    const toClient = server.takeOutgoing();
    moved ||= toClient.length > 0;
    result.clientGot = join(result.clientGot, client.receive(toClient));
    if (!moved) break;
  }
  return result;
}
