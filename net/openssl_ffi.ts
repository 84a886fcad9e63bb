/**
 * The one place that talks to OpenSSL 3 through `Deno.dlopen`. Deno's own TLS cannot serve
 * the real qdevice (rustls rejects its SNI name "Qnetd Server", and client certificates are
 * not verified), so the daemon drives OpenSSL's libssl over memory BIOs instead: see
 * `tls_server.ts`.
 *
 * Only `libssl.so.3` is opened. Its libcrypto symbols (BIO, ERR, X509, ...) resolve through
 * the same handle because libcrypto is a dependency of libssl, so one `--allow-ffi=<path>`
 * suffices. Nothing is loaded until {@link openSsl} is first called, so a daemon running
 * without TLS needs no FFI permission at all.
 *
 * The symbol set is kept minimal; numbers for the C macros that wrap `*_ctrl()` calls are
 * below, as named constants.
 *
 * @module
 */
import { errorText } from "../core/error_text.ts";

/** Where Debian/Ubuntu (multiarch), then Fedora/RHEL/SUSE, then others keep libssl.so.3. */
export const DEFAULT_LIBSSL_PATHS: readonly string[] = [
  `/usr/lib/${Deno.build.arch}-linux-gnu/libssl.so.3`,
  "/usr/lib64/libssl.so.3",
  "/usr/lib/libssl.so.3",
];

const SYMBOLS = {
  // libssl: context
  TLS_server_method: { parameters: [], result: "pointer" },
  TLS_client_method: { parameters: [], result: "pointer" }, // test client only
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_set_options: { parameters: ["pointer", "u64"], result: "u64" },
  SSL_CTX_set_num_tickets: { parameters: ["pointer", "usize"], result: "i32" },
  // files: the test client only (the daemon hands its key material over in memory)
  SSL_CTX_use_certificate_chain_file: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_CTX_use_PrivateKey_file: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_load_verify_locations: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
  SSL_load_client_CA_file: { parameters: ["buffer"], result: "pointer" },
  SSL_CTX_set_client_CA_list: { parameters: ["pointer", "pointer"], result: "void" },
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "pointer"], result: "void" },
  // libssl/libcrypto: key material from memory (DER through a memory BIO)
  d2i_X509_bio: { parameters: ["pointer", "pointer"], result: "pointer" },
  d2i_PrivateKey_bio: { parameters: ["pointer", "pointer"], result: "pointer" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_use_certificate: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_use_PrivateKey: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_get_cert_store: { parameters: ["pointer"], result: "pointer" },
  X509_STORE_add_cert: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_add_client_CA: { parameters: ["pointer", "pointer"], result: "i32" },
  // libssl: connection
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" }, // test client SNI
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" }, // test client only
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_get_version: { parameters: ["pointer"], result: "pointer" },
  SSL_version: { parameters: ["pointer"], result: "i32" },
  i2d_X509_bio: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_get1_peer_certificate: { parameters: ["pointer"], result: "pointer" },
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  // libcrypto: memory BIOs
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_free: { parameters: ["pointer"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  // libcrypto: error queue
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_clear_error: { parameters: [], result: "void" },
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  // libcrypto: reading names out of the peer certificate
  X509_free: { parameters: ["pointer"], result: "void" },
  X509_get_subject_name: { parameters: ["pointer"], result: "pointer" },
  X509_NAME_get_index_by_NID: { parameters: ["pointer", "i32", "i32"], result: "i32" },
  X509_NAME_get_entry: { parameters: ["pointer", "i32"], result: "pointer" },
  X509_NAME_ENTRY_get_data: { parameters: ["pointer"], result: "pointer" },
  X509_get_ext_d2i: { parameters: ["pointer", "i32", "buffer", "pointer"], result: "pointer" },
  GENERAL_NAMES_free: { parameters: ["pointer"], result: "void" },
  GENERAL_NAME_get0_value: { parameters: ["pointer", "buffer"], result: "pointer" },
  OPENSSL_sk_num: { parameters: ["pointer"], result: "i32" },
  OPENSSL_sk_value: { parameters: ["pointer", "i32"], result: "pointer" },
  ASN1_STRING_to_UTF8: { parameters: ["buffer", "pointer"], result: "i32" },
  CRYPTO_free: { parameters: ["pointer", "pointer", "i32"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound OpenSSL functions. */
export type OpenSslSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Numbers behind OpenSSL's C macros and enums (from ssl.h, tls1.h, x509v3.h, obj_mac.h). */
export const Ssl = {
  CtrlMode: 33, // SSL_CTX_set_mode()
  CtrlSetSessCacheMode: 44, // SSL_CTX_set_session_cache_mode()
  CtrlSetTlsextHostname: 55, // SSL_set_tlsext_host_name()
  CtrlChainCert: 89, // SSL_CTX_add0/add1_chain_cert() (larg 1: add1, the context takes a reference)
  CtrlSetMinProtoVersion: 123, // SSL_CTX_set_min_proto_version()
  CtrlSetMaxProtoVersion: 124, // SSL_CTX_set_max_proto_version()
  ModeReleaseBuffers: 0x10, // SSL_MODE_RELEASE_BUFFERS
  SessCacheOff: 0, // SSL_SESS_CACHE_OFF
  OpNoTicket: 1n << 14n, // SSL_OP_NO_TICKET
  Tls12Version: 0x0303,
  Tls13Version: 0x0304,
  TlsextNametypeHostName: 0,
  FiletypePem: 1, // SSL_FILETYPE_PEM
  VerifyNone: 0,
  VerifyPeer: 1,
  VerifyFailIfNoPeerCert: 2,
  ErrorNone: 0,
  ErrorSsl: 1,
  ErrorWantRead: 2,
  ErrorWantWrite: 3,
  ErrorSyscall: 5,
  ErrorZeroReturn: 6,
  NidCommonName: 13, // NID_commonName
  NidSubjectAltName: 85, // NID_subject_alt_name
  GenDns: 2, // GEN_DNS
} as const;

/** `SSL_version()` values (TLS1_x_VERSION in tls1.h / prov_ssl.h). */
export const TlsVersion = {
  Tls1: 0x0301, // TLS1_VERSION
  Tls11: 0x0302, // TLS1_1_VERSION
  Tls12: 0x0303, // TLS1_2_VERSION
  Tls13: 0x0304, // TLS1_3_VERSION
} as const;

/** `SSL_get_verify_result()` values (X509_V_* in x509_vfy.h) that a client certificate can produce. */
export const X509Verify = {
  Ok: 0, // X509_V_OK
  UnableToGetIssuerCert: 2, // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
  UnableToDecryptCertSignature: 4, // X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE
  CertSignatureFailure: 7, // X509_V_ERR_CERT_SIGNATURE_FAILURE
  CertNotYetValid: 9, // X509_V_ERR_CERT_NOT_YET_VALID
  CertHasExpired: 10, // X509_V_ERR_CERT_HAS_EXPIRED
  DepthZeroSelfSignedCert: 18, // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
  SelfSignedCertInChain: 19, // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
  UnableToGetIssuerCertLocally: 20, // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
  UnableToVerifyLeafSignature: 21, // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
  InvalidCa: 24, // X509_V_ERR_INVALID_CA
  InvalidPurpose: 26, // X509_V_ERR_INVALID_PURPOSE
} as const;

/** SSL-library reason codes (SSL_R_* in sslerr.h) that the daemon translates. */
export const SslReason = {
  CertificateVerifyFailed: 134, // SSL_R_CERTIFICATE_VERIFY_FAILED
  PeerDidNotReturnACertificate: 199, // SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE
  UnsupportedProtocol: 258, // SSL_R_UNSUPPORTED_PROTOCOL
  Tlsv1AlertInternalError: 1080, // SSL_R_TLSV1_ALERT_INTERNAL_ERROR
} as const;

/** How `ERR_get_error()` packs a library and a reason into one code (err.h, OpenSSL 3). */
export const ErrCode = {
  SystemFlag: 0x80000000n, // ERR_SYSTEM_FLAG: the rest is an errno
  LibOffset: 23n, // ERR_LIB_OFFSET
  LibMask: 0xffn, // ERR_LIB_MASK
  ReasonMask: 0x7fffffn, // ERR_REASON_MASK
  LibSsl: 20, // ERR_LIB_SSL
} as const;

/** Raised when libssl.so.3 cannot be opened (missing, wrong version, or no FFI permission). */
export class OpenSslLoadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OpenSslLoadError";
  }
}

/**
 * Counts of the OpenSSL objects this program holds, by kind ("SSL_CTX", "SSL", "BIO",
 * "X509", ...). Every allocation site calls `created()` and every free `freed()`, so tests
 * can prove that a connection leaves nothing behind.
 */
export class LiveObjects {
  #counts = new Map<string, number>();

  /** Records that one object of `kind` was allocated. */
  created(kind: string): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
  }

  /** Records that `n` objects of `kind` were released. */
  freed(kind: string, n = 1): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) - n);
  }

  /** Objects currently held, all kinds together. */
  get total(): number {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }

  /** A copy of the per-kind counts (zero entries included). */
  snapshot(): Map<string, number> {
    return new Map(this.#counts);
  }
}

/** The process-wide tally of live OpenSSL objects. */
export const liveOpenSslObjects = new LiveObjects();

const loaded = new Map<string, OpenSslSymbols>();

/**
 * Opens libssl.so.3 (once per path) and returns its bound symbols. With no path the
 * {@link DEFAULT_LIBSSL_PATHS} are tried in order. Absolute paths keep `--allow-ffi` scoped.
 *
 * @throws {OpenSslLoadError} "Cannot load libssl.so.3 (OpenSSL 3): ..." with every attempt's
 *   reason and the package to install.
 */
export function openSsl(libraryPath?: string): OpenSslSymbols {
  const candidates = libraryPath === undefined ? DEFAULT_LIBSSL_PATHS : [libraryPath];
  for (const path of candidates) {
    const symbols = loaded.get(path);
    if (symbols !== undefined) return symbols;
  }
  const reasons: string[] = [];
  let firstError: unknown;
  for (const path of candidates) {
    try {
      const symbols = Deno.dlopen(path, SYMBOLS).symbols;
      loaded.set(path, symbols);
      return symbols;
    } catch (error) {
      firstError ??= error;
      reasons.push(`${path}: ${errorText(error)}`);
    }
  }
  throw new OpenSslLoadError(
    `Cannot load libssl.so.3 (OpenSSL 3): ${reasons.join("; ")}. ` +
      "Install OpenSSL 3 (Debian/Ubuntu: package libssl3 or libssl3t64; Fedora/RHEL: " +
      "openssl-libs); qnet loads it from these paths only",
    { cause: firstError },
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated copy of `text` to pass as a C string. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** Reads a C string that OpenSSL owns (static or internal: not freed here). */
export function readCString(pointer: Deno.PointerValue): string | undefined {
  return pointer === null ? undefined : new Deno.UnsafePointerView(pointer).getCString();
}

/**
 * Empties OpenSSL's (thread-local) error queue into readable lines, oldest first, e.g.
 * "error:0A000412:SSL routines::sslv3 alert bad certificate".
 */
export function drainErrorQueue(lib: OpenSslSymbols): { codes: bigint[]; lines: string[] } {
  const codes: bigint[] = [];
  const lines: string[] = [];
  const buf = new Uint8Array(256);
  for (let i = 0; i < 64; i++) {
    const code = BigInt(lib.ERR_get_error());
    if (code === 0n) break;
    lib.ERR_error_string_n(code, buf, BigInt(buf.length));
    const end = buf.indexOf(0);
    codes.push(code);
    lines.push(decoder.decode(buf.subarray(0, end < 0 ? buf.length : end)));
  }
  return { codes, lines };
}

/**
 * Converts an ASN1_STRING (any string type OpenSSL knows) to a JS string, freeing the UTF-8
 * copy OpenSSL makes. Undefined when the conversion fails.
 */
export function asn1ToString(lib: OpenSslSymbols, asn1: Deno.PointerValue): string | undefined {
  if (asn1 === null) return undefined;
  const out = new BigUint64Array(1);
  const length = lib.ASN1_STRING_to_UTF8(out, asn1);
  const pointer = Deno.UnsafePointer.create(out[0] ?? 0n);
  if (length < 0 || pointer === null) return undefined;
  liveOpenSslObjects.created("UTF8 string");
  try {
    return decoder.decode(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length)));
  } finally {
    lib.CRYPTO_free(pointer, null, 0);
    liveOpenSslObjects.freed("UTF8 string");
  }
}
