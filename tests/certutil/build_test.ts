import "reflect-metadata";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import {
  CA_SUBJECT,
  createCaCertificate,
  createServerCertificate,
  SERVER_SUBJECT,
  signCertificateRequest,
} from "../../core/certs/build.ts";
import { generateKeyPair, RSA_SIGNING } from "../../core/certs/keys.ts";
import { parseCertificateRequest } from "../../core/certs/request.ts";

const NOW = new Date("2026-11-22T00:31:11.500Z");

/** The fields of the TBSCertificate, from the library's generic ASN.1 dump (4-space level). */
function tbsFields(cert: x509.X509Certificate): string[] {
  const lines = cert.toString("asn").split("\n");
  const end = lines.findIndex((l, i) => i > 1 && /^ {2}\S/.test(l)); // signatureAlgorithm
  return lines.slice(2, end).filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim());
}

/** The CA and server certificates made once, and a request like the node tool's. */
async function fixture() {
  const caKeys = await generateKeyPair();
  const ca = await createCaCertificate(caKeys, { serial: 101n, now: NOW });
  const issuer = { cert: ca, key: caKeys.privateKey };
  const serverKeys = await generateKeyPair();
  const server = await createServerCertificate(issuer, serverKeys.publicKey, {
    serial: 102n,
    now: NOW,
  });
  return { caKeys, ca, issuer, server, serverKeys };
}

Deno.test("createCaCertificate() makes a self-signed v3 CA with only basicConstraints", async () => {
  const { ca, caKeys } = await fixture();
  assert.equal(ca.subject, CA_SUBJECT);
  assert.equal(ca.issuer, CA_SUBJECT);
  assert.equal(ca.serialNumber, "65");
  assert.equal(ca.notBefore.toISOString(), "2026-11-22T00:31:11.000Z");
  assert.equal(ca.notAfter.toISOString(), "2126-11-22T00:31:11.000Z");
  assert.deepEqual([...ca.extensions].map((e) => [e.type, e.critical]), [["2.5.29.19", true]]);
  const bc = ca.getExtension(x509.BasicConstraintsExtension);
  assert.equal(bc?.ca, true);
  assert.equal(bc?.pathLength, 0);
  assert.ok(await ca.verify({ publicKey: caKeys.publicKey, signatureOnly: true }));
  assert.equal(ca.signatureAlgorithm.name, "RSASSA-PKCS1-v1_5");
  assert.equal((ca.signatureAlgorithm as RsaHashedKeyAlgorithm).hash.name, "SHA-256");
  const fields = tbsFields(ca);
  assert.deepEqual(fields.map((f) => f.split(" ")[0]), [
    "[0]", // version v3
    "INTEGER",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
    "[3]", // extensions
  ]);
  assert.match(ca.toString("asn"), /\[0\] :\n\s+INTEGER : 2\n/);
});

Deno.test("createServerCertificate() makes a CA-signed leaf with no extensions field", async () => {
  const { ca, server, serverKeys } = await fixture();
  assert.equal(server.subject, SERVER_SUBJECT);
  assert.equal(server.issuer, CA_SUBJECT);
  assert.equal(server.serialNumber, "66");
  assert.equal(server.extensions.length, 0);
  // v3, and no [3] field at all (not even an empty one).
  assert.deepEqual(tbsFields(server).map((f) => f.split(" ")[0]), [
    "[0]",
    "INTEGER",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
    "SEQUENCE",
  ]);
  assert.ok(await server.verify({ publicKey: ca.publicKey, signatureOnly: true }));
  const certKey = await crypto.subtle.exportKey(
    "jwk",
    await server.publicKey.export(RSA_SIGNING, ["verify"]),
  );
  const ownKey = await crypto.subtle.exportKey("jwk", serverKeys.publicKey);
  assert.equal(certKey.n, ownKey.n);
});

Deno.test("signCertificateRequest() copies subject and key of the request, nothing else", async () => {
  const { ca, issuer } = await fixture();
  const nodeKeys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=Cluster1",
    keys: nodeKeys,
    signingAlgorithm: RSA_SIGNING,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)],
  });
  const request = await parseCertificateRequest(new Uint8Array(csr.rawData), "req");
  const cert = await signCertificateRequest(issuer, request, { serial: 103n, now: NOW });
  assert.equal(cert.subject, "CN=Cluster1");
  assert.equal(cert.serialNumber, "67");
  assert.equal(cert.extensions.length, 0);
  assert.deepEqual(new Uint8Array(cert.publicKey.rawData), new Uint8Array(csr.publicKey.rawData));
  assert.ok(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }));
});

Deno.test("createCaCertificate() and createServerCertificate() write names as PrintableString", async () => {
  const { ca } = await fixture();
  const name = ca.subjectName.toJSON();
  assert.deepEqual(name, [{ CN: ["QNet CA"] }]);
  assert.match(ca.toString("asn"), /PrintableString : 'QNet CA'/);
  const { server } = await fixture();
  assert.match(server.toString("asn"), /PrintableString : 'Qnetd Server'/);
});
