import "reflect-metadata";
import assert from "node:assert/strict";
import { createCaCertificate } from "../../core/certs/build.ts";
import { KeyMaterialError } from "../../core/certs/errors.ts";
import {
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  keyMatchesCertificate,
} from "../../core/certs/keys.ts";

Deno.test("exportPrivateKeyPem() writes PKCS#8 that importPrivateKeyPem() reads back", async () => {
  const keys = await generateKeyPair();
  const pem = await exportPrivateKeyPem(keys.privateKey);
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  const ca = await createCaCertificate(keys, { serial: 101n, now: new Date() });
  const back = await importPrivateKeyPem(`Bag Attributes\n    localKeyID: 01\n${pem}`, "x");
  assert.ok(await keyMatchesCertificate(back, ca));
});

Deno.test("keyMatchesCertificate() is false for another key", async () => {
  const keys = await generateKeyPair();
  const other = await generateKeyPair();
  const ca = await createCaCertificate(keys, { serial: 101n, now: new Date() });
  assert.equal(await keyMatchesCertificate(other.privateKey, ca), false);
});

Deno.test("importPrivateKeyPem() explains PKCS#1, encrypted and missing keys", async () => {
  const cases: [string, RegExp][] = [
    [
      "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
      /RSA PRIVATE KEY in k\.pem.*pkcs8/,
    ],
    [
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
      /ENCRYPTED/,
    ],
    ["nothing here", /Cannot find a private key in k\.pem/],
    [
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      /Cannot read the RSA private key/,
    ],
  ];
  for (const [pem, message] of cases) {
    await assert.rejects(
      importPrivateKeyPem(pem, "k.pem"),
      (e) => e instanceof KeyMaterialError && message.test(e.message),
    );
  }
});
