/**
 * certificateNotAfter(): the `notAfter` the metrics export for the server and CA
 * certificates, read from the DER, checked against @peculiar/x509 and the real `openssl x509`.
 */
import assert from "node:assert/strict";
import { createCaCertificate } from "../../core/certs/build.ts";
import { generateKeyPair } from "../../core/certs/keys.ts";
import { certificateNotAfter, CertificateParseError } from "../../core/certs/not_after.ts";
import { needProgram, testNeeding } from "../support/mod.ts";

const keys = await generateKeyPair();
/** Made 1940: valid to 2040, a UTCTime; made 2026: valid to 2126, a GeneralizedTime. */
const certs = await Promise.all(
  ["1940-03-04T05:06:07Z", "2026-12-05T07:00:00Z"].map((now) =>
    createCaCertificate(keys, { serial: 1n, now: new Date(now) })
  ),
);
const pem = (der: ArrayBuffer) =>
  `-----BEGIN CERTIFICATE-----\n${
    btoa(String.fromCharCode(...new Uint8Array(der))).replace(/.{64}/g, "$&\n")
  }\n-----END CERTIFICATE-----\n`;

Deno.test("certificateNotAfter() reads UTCTime and GeneralizedTime, DER and PEM", () => {
  assert.deepEqual(
    certs.map((c) => new Date(certificateNotAfter(new Uint8Array(c.rawData))).toISOString()),
    ["2040-03-04T05:06:07.000Z", "2126-12-05T07:00:00.000Z"],
  );
  for (const cert of certs) {
    // As the C tools write the CA file: a text dump first, then the PEM block.
    const text = `Certificate:\n    Data:\n        Version: 3 (0x2)\n${pem(cert.rawData)}`;
    assert.equal(
      certificateNotAfter(new TextEncoder().encode(text)),
      cert.notAfter.getTime(),
    );
  }
});

Deno.test("certificateNotAfter() refuses what is not a certificate", () => {
  for (
    const bad of [
      new Uint8Array(),
      new TextEncoder().encode("no pem here"),
      new Uint8Array([0x30, 0x82, 0xff]),
      new Uint8Array(certs[0]!.rawData).subarray(0, 40),
    ]
  ) {
    assert.throws(() => certificateNotAfter(bad), CertificateParseError);
  }
});

testNeeding(needProgram("openssl"), "certificateNotAfter() agrees with openssl x509", async () => {
  for (const cert of certs) {
    const child = new Deno.Command("openssl", {
      args: ["x509", "-noout", "-enddate"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(pem(cert.rawData)));
    await writer.close();
    const out = new TextDecoder().decode((await child.output()).stdout);
    const openssl = Date.parse(out.trim().replace(/^notAfter=/, ""));
    assert.equal(certificateNotAfter(new Uint8Array(cert.rawData)), openssl, out);
  }
});
