import assert from "node:assert/strict";
import {
  cString,
  drainErrorQueue,
  LiveObjects,
  openSsl,
  OpenSslLoadError,
  readCString,
} from "../../net/openssl_ffi.ts";

// Loaded once up front so the test sanitizers do not see the library handle as a leak.
const lib = openSsl();

Deno.test("openSsl() names libssl.so.3 and the package to install when loading fails", () => {
  assert.throws(() => openSsl("/nonexistent/dir/libssl.so.3"), (error: unknown) => {
    assert.ok(error instanceof OpenSslLoadError);
    assert.match(error.message, /^Cannot load libssl\.so\.3 \(OpenSSL 3\): /);
    assert.match(error.message, /\/nonexistent\/dir\/libssl\.so\.3: /);
    assert.match(error.message, /libssl3/);
    assert.ok(error.cause instanceof Error);
    return true;
  });
});

Deno.test("openSsl() opens a library once and returns the same symbols afterwards", () => {
  assert.equal(openSsl(), lib);
});

Deno.test("openSsl() resolves libcrypto symbols through the libssl handle", () => {
  assert.notEqual(lib.BIO_s_mem(), null);
  assert.equal(typeof lib.ERR_get_error, "function");
});

Deno.test("drainErrorQueue() turns OpenSSL's error queue into readable lines", () => {
  lib.ERR_clear_error();
  assert.deepEqual(drainErrorQueue(lib), { codes: [], lines: [] });
  // Reading a missing file queues a system error and a PEM/SSL error.
  assert.equal(lib.SSL_load_client_CA_file(cString("/nonexistent/ca.pem")), null);
  const { codes, lines } = drainErrorQueue(lib);
  assert.ok(lines.length > 0);
  assert.equal(codes.length, lines.length);
  for (const line of lines) assert.match(line, /^error:[0-9A-F]{8}:/);
  assert.match(lines.join("\n"), /No such file or directory/);
  assert.deepEqual(drainErrorQueue(lib).lines, []);
});

Deno.test("cString() NUL-terminates UTF-8 and readCString() reads it back", () => {
  const bytes = cString("Qnetd Server é");
  assert.equal(bytes.at(-1), 0);
  assert.equal(readCString(Deno.UnsafePointer.of(bytes)), "Qnetd Server é");
  assert.equal(readCString(null), undefined);
});

Deno.test("LiveObjects counts creations and frees per kind", () => {
  const live = new LiveObjects();
  live.created("SSL");
  live.created("BIO");
  live.created("BIO");
  assert.equal(live.total, 3);
  live.freed("BIO", 2);
  assert.deepEqual(live.snapshot(), new Map([["SSL", 1], ["BIO", 0]]));
  live.freed("SSL");
  assert.equal(live.total, 0);
});
