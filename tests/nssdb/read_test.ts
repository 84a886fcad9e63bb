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
import { mustRun, needNssTools, testNeeding } from "../support/mod.ts";

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

Deno.test("readNssDb: a database NSS converted from DBM (legacy SHA-1/3DES keys)", async () => {
  const dir = new URL("../fixtures/nssdb/c-qnetd-certutil-dbm-converted", import.meta.url).pathname;
  const m = await readNssDb(dir);
  const cert = new x509.X509Certificate(new Uint8Array(m.certDer));
  assert.equal(cert.subject, "CN=Qnetd Server");
  const exported = parseCertificateFile(
    await Deno.readFile(`${dir}/qnetd-cacert.crt`),
    "qnetd-cacert.crt",
  );
  assert.deepEqual(m.caCertsDer, [new Uint8Array(exported.rawData)]);
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("pkcs8", new Uint8Array(m.keyPkcs8Der), alg, false, [
    "sign",
  ]);
  const data = new TextEncoder().encode("qnet");
  const pub = await cert.publicKey.export(alg, ["verify"]);
  assert.ok(await crypto.subtle.verify(alg, pub, await crypto.subtle.sign(alg, key, data), data));
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

testNeeding(
  needNssTools(),
  "readNssDb: a database NSS's own tools built (certutil -N -A, pk12util -i) from openssl keys",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-read-" });
    try {
      const sh = (cmd: string, ...args: string[]) => mustRun(cmd, args, dir);
      await sh("certutil", "-N", "-d", `sql:${dir}`, "--empty-password");
      await sh(
        "openssl",
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${dir}/ca.key`],
        ...["-out", `${dir}/ca.pem`, "-subj", "/CN=Other CA", "-days", "30"],
        ...["-addext", "basicConstraints=critical,CA:TRUE"],
      );
      await sh(
        "openssl",
        ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${dir}/s.key`],
        ...["-out", `${dir}/s.csr`, "-subj", "/CN=Qnetd Server"],
      );
      await sh(
        "openssl",
        ...[
          "x509",
          "-req",
          "-in",
          `${dir}/s.csr`,
          "-CA",
          `${dir}/ca.pem`,
          "-CAkey",
          `${dir}/ca.key`,
        ],
        ...["-set_serial", "5", "-days", "30", "-out", `${dir}/s.pem`],
      );
      await sh(
        "certutil",
        "-A",
        "-d",
        `sql:${dir}`,
        "-n",
        "QNet CA",
        "-t",
        "CT,,",
        "-i",
        `${dir}/ca.pem`,
      );
      await sh(
        "openssl",
        ...["pkcs12", "-export", "-name", "My Server", "-inkey", `${dir}/s.key`],
        ...["-in", `${dir}/s.pem`, "-passout", "pass:", "-out", `${dir}/s.p12`],
      );
      await sh("pk12util", "-i", `${dir}/s.p12`, "-d", `sql:${dir}`, "-W", "");

      const m = await readNssDb(dir, "My Server");
      assert.equal(new x509.X509Certificate(new Uint8Array(m.certDer)).subject, "CN=Qnetd Server");
      assert.equal(m.caCertsDer.length, 1);
      assert.equal(
        new x509.X509Certificate(new Uint8Array(m.caCertsDer[0]!)).subject,
        "CN=Other CA",
      );
      await Deno.writeFile(`${dir}/ours.der`, m.keyPkcs8Der);
      assert.equal(
        (await mustRun("openssl", ["pkey", "-inform", "DER", "-in", `${dir}/ours.der`, "-pubout"]))
          .stdout,
        (await mustRun("openssl", ["pkey", "-in", `${dir}/s.key`, "-pubout"])).stdout,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
