/**
 * readNssDb() on a database the real corosync-qnetd-certutil 3.0.3 made (tests/fixtures/nssdb/
 * c-qnetd-certutil): the server certificate by nickname, its private key (decrypted from
 * key4.db, HMAC checked) and the CA trusted for client authentication.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import assert from "node:assert/strict";
import { NssDbError, readNssDb } from "../../cli/nss_db_files.ts";
import { parseCertificateFile } from "../../core/certs/ca_export.ts";

/** The NssDbError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<NssDbError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NssDbError, String(error));
    return error;
  }
  throw new assert.AssertionError({ message: "expected an NssDbError" });
}

const FIXTURE = new URL("../fixtures/nssdb/c-qnetd-certutil", import.meta.url).pathname;

Deno.test("readNssDb: the server certificate, key and CA of a C-made database", async () => {
  const m = await readNssDb(FIXTURE);
  const cert = new x509.X509Certificate(new Uint8Array(m.certDer));
  assert.equal(cert.subject, "CN=Qnetd Server");
  assert.equal(m.caCertsDer.length, 1);
  const ca = new x509.X509Certificate(new Uint8Array(m.caCertsDer[0]!));
  assert.equal(ca.subject, "CN=QNet CA");
  // The CA is the one the C tool exported for the nodes.
  const exported = parseCertificateFile(
    await Deno.readFile(`${FIXTURE}/qnetd-cacert.crt`),
    "qnetd-cacert.crt",
  );
  assert.deepEqual(new Uint8Array(ca.rawData), new Uint8Array(exported.rawData));
  assert.ok(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }));
  // The key belongs to the certificate: a signature made with it verifies with the cert's key.
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("pkcs8", new Uint8Array(m.keyPkcs8Der), alg, false, [
    "sign",
  ]);
  const data = new TextEncoder().encode("qnet");
  const signature = await crypto.subtle.sign(alg, key, data);
  const pub = await cert.publicKey.export(alg, ["verify"]);
  assert.ok(await crypto.subtle.verify(alg, pub, signature, data));
});

Deno.test("readNssDb: the CA's own key is found by its nickname too", async () => {
  const m = await readNssDb(FIXTURE, "QNet CA");
  assert.equal(new x509.X509Certificate(new Uint8Array(m.certDer)).subject, "CN=QNet CA");
});

Deno.test("readNssDb: an unknown nickname is a 'nickname' error naming cert9.db", async () => {
  const error = await rejection(readNssDb(FIXTURE, "No Such"));
  assert.equal(error.kind, "nickname");
  assert.equal(error.path, `${FIXTURE}/cert9.db`);
  assert.ok(error.message.includes("'QNetd Cert'"), error.message);
  assert.ok(!error.message.includes("\n"));
});

Deno.test("readNssDb: no database, a legacy database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-read-" });
  try {
    const missing = await rejection(readNssDb(dir));
    assert.equal(missing.kind, "missing");
    assert.equal(missing.path, `${dir}/cert9.db`);
    await Deno.writeFile(`${dir}/cert8.db`, new Uint8Array(16));
    const legacy = await rejection(readNssDb(dir));
    assert.equal(legacy.kind, "legacy");
    assert.equal(legacy.path, `${dir}/cert8.db`);
    assert.ok(legacy.message.includes("certutil"), legacy.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
