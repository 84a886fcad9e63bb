import "reflect-metadata";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as x509 from "@peculiar/x509";
import { certificateNames } from "../../core/certs/peer_names.ts";
import { cnOf, DerTag, describeNames, issueCertificate } from "../support/mod.ts";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const keys = await crypto.subtle.generateKey(ALG, false, ["sign", "verify"]) as CryptoKeyPair;

/** The same reading done with the full parser of @peculiar/x509: the oracle. */
function namesByLibrary(der: Uint8Array): string[] {
  const cert = new x509.X509Certificate(Uint8Array.from(der));
  const out: string[] = [];
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  for (const n of san?.names.items ?? []) {
    if (n.type === "dns") out.push(`dns:${n.value}`);
    else if (n.type === "ip") out.push(`ip:${n.value}`);
    else out.push("other");
  }
  const cn = cert.subjectName.getField("CN").at(-1);
  return cn === undefined ? out : [...out, `cn:${cn}`];
}

/** describeNames() with IPv4 entries written as the library writes them. */
function names(der: Uint8Array): string[] | undefined {
  return describeNames(certificateNames(der));
}

interface Shape {
  subject: string;
  san?: { type: "dns" | "ip" | "email"; value: string }[];
  /** Extensions before the SAN, so it is not always the first. */
  basicConstraints: boolean;
}

async function certificate(shape: Shape): Promise<Uint8Array> {
  const extensions: x509.Extension[] = [];
  if (shape.basicConstraints) extensions.push(new x509.BasicConstraintsExtension(false));
  if (shape.san !== undefined) extensions.push(new x509.SubjectAlternativeNameExtension(shape.san));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0a",
    name: shape.subject,
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter: new Date("2027-01-01T00:00:00Z"),
    keys,
    signingAlgorithm: ALG,
    extensions,
  });
  return new Uint8Array(cert.rawData);
}

Deno.test("certificateNames() reads the SAN dNSNames, ignoring the CN and other kinds", async () => {
  const der = await certificate({
    subject: "CN=ignored, O=QNet",
    san: [
      { type: "email", value: "a@b.c" },
      { type: "dns", value: "qnt" },
      { type: "ip", value: "10.0.0.1" },
      { type: "dns", value: "*.example" },
    ],
    basicConstraints: true,
  });
  assert.deepEqual(names(der), ["other", "dns:qnt", "ip:10.0.0.1", "dns:*.example", "cn:ignored"]);
});

Deno.test("certificateNames() reads the last CN, and nothing without one", async () => {
  assert.deepEqual(
    names(await certificate({ subject: "O=x, CN=first, CN=second", basicConstraints: true })),
    ["cn:second"],
  );
  assert.deepEqual(names(await certificate({ subject: "O=x", basicConstraints: false })), []);
});

Deno.test("certificateNames() agrees with @peculiar/x509 on generated certificates", async () => {
  const label = fc.stringMatching(/^[a-zA-Z0-9*-][a-zA-Z0-9.*-]{0,20}$/);
  const text = fc.string({ minLength: 1, maxLength: 12, unit: "grapheme" }).filter((s) =>
    !/[,=+<>#;"\\]/.test(s) && s.trim() === s
  );
  const shape = fc.record({
    cn: fc.option(text, { nil: undefined }),
    org: fc.option(label, { nil: undefined }),
    san: fc.option(
      fc.array(
        fc.oneof(
          label.map((value) => ({ type: "dns" as const, value })),
          fc.constant({ type: "ip" as const, value: "192.0.2.7" }),
        ),
        { maxLength: 4 },
      ),
      { nil: undefined },
    ),
    basicConstraints: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(shape, async ({ cn, org, san, basicConstraints }) => {
      const rdns = [org === undefined ? "" : `O=${org}`, cn === undefined ? "" : `CN=${cn}`]
        .filter((r) => r !== "");
      const der = await certificate({
        subject: rdns.length === 0 ? "O=qnet" : rdns.join(", "),
        ...(san === undefined ? {} : { san }),
        basicConstraints,
      });
      assert.deepEqual(names(der), namesByLibrary(der));
    }),
    { numRuns: 150 },
  );
});

Deno.test("certificateNames() never throws on truncated or corrupted certificates", async () => {
  const der = await certificate({
    subject: "CN=qnt",
    san: [{ type: "dns", value: "qnt" }],
    basicConstraints: true,
  });
  for (let length = 0; length < der.length; length++) {
    assert.deepEqual(names(der.subarray(0, length)), [], `truncated at ${length}`);
  }
  fc.assert(
    fc.property(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      const bad = der.slice();
      bad[at] = byte;
      // Whatever it finds is read from the bytes given, never made up.
      const read = certificateNames(bad);
      const found = [
        ...(read.altNames ?? []),
        ...(read.commonName ? [{ value: read.commonName }] : []),
      ];
      const text = String.fromCharCode(...bad);
      for (const entry of found) {
        if ("value" in entry) assert.ok(text.includes(String.fromCharCode(...entry.value)));
      }
    }),
    { numRuns: 2000 },
  );
  assert.deepEqual(names(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), []);
});

Deno.test("certificateNames() decodes the last CN as NSS's CERT_DecodeAVAValue()", async () => {
  const ca = await issueCertificate({ subject: [[cnOf("CA")]], ca: true });
  const commonName = async (value: Uint8Array, tag: number, first = "first") =>
    certificateNames(
      (await issueCertificate({ subject: [[cnOf(first)], [cnOf(value, tag)]] }, ca)).der,
    )
      .commonName;
  const utf8 = (bytes: Uint8Array | undefined) =>
    bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  assert.equal(utf8(await commonName(Uint8Array.of(0x67, 0xfc), DerTag.T61String)), "gü");
  assert.equal(utf8(await commonName(Uint8Array.of(0, 0x67, 0, 0xfc), DerTag.BmpString)), "gü");
  assert.equal(
    utf8(await commonName(Uint8Array.of(0xd8, 0x3d, 0xde, 0x00), DerTag.BmpString)),
    "\u{1f600}",
  );
  assert.equal(utf8(await commonName(Uint8Array.of(0, 0, 0, 0x67), 0x1c)), "g");
  // Types and values NSS refuses leave no CN, even with a good earlier one.
  assert.equal(await commonName(Uint8Array.of(0x67), DerTag.VisibleString), undefined);
  assert.equal(await commonName(Uint8Array.of(0xd8, 0, 0, 0x61), DerTag.BmpString), undefined);
  assert.equal(await commonName(Uint8Array.of(0, 0x11, 0, 0), 0x1c), undefined);
  assert.equal(await commonName(Uint8Array.of(0, 0x67, 0), DerTag.BmpString), undefined);
});
