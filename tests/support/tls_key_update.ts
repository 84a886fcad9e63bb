/**
 * TLS 1.3 KeyUpdate requests from a test client ({@linkcode MemoryClient}): the one OpenSSL call
 * the shared FFI module does not bind (`SSL_key_update`), bound here for the tests only.
 *
 * @module
 */
import { DEFAULT_LIBSSL_PATHS } from "../../net/openssl_ffi.ts";
import type { MemoryClient } from "./tls/memory_client.ts";
import { pathExists } from "./files.ts";

/** `SSL_KEY_UPDATE_REQUESTED` (ssl.h): the peer must answer with its own KeyUpdate. */
const SSL_KEY_UPDATE_REQUESTED = 1;

const SYMBOLS = {
  SSL_key_update: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;

function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib !== undefined) return lib;
  const path = DEFAULT_LIBSSL_PATHS.find((p) => pathExists(p));
  if (path === undefined) throw new Error(`no libssl.so.3 in ${DEFAULT_LIBSSL_PATHS.join(", ")}`);
  lib = Deno.dlopen(path, SYMBOLS).symbols;
  return lib;
}

/**
 * Has `client` (handshake done) ask for `count` key updates; each request is a TLS record
 * the client's next `takeOutgoing()` returns. Throws when OpenSSL refuses one.
 */
export function requestKeyUpdates(client: MemoryClient, count: number): void {
  const ssl = client.ssl;
  if (ssl === null) throw new Error("the TLS client is disposed");
  const { SSL_key_update, SSL_do_handshake } = symbols();
  for (let i = 0; i < count; i++) {
    if (SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) !== 1) {
      throw new Error(`SSL_key_update refused request ${i}`);
    }
    // Writes the KeyUpdate record into the client's write BIO.
    if (SSL_do_handshake(ssl) !== 1) throw new Error(`SSL_do_handshake failed at request ${i}`);
  }
}
