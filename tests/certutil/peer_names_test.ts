import "reflect-metadata";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as x509 from "@peculiar/x509";
import { certificateNames } from "../../core/certs/peer_names.ts";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const keys = await crypto.subtle.generateKey(ALG, false, ["sign", "verify"]) as CryptoKeyPair;

/** The same reading done with the full parser of @peculiar/x509: the oracle. */
function namesByLibrary(der: Uint8Array): string[] {
  const cert = new x509.X509Certificate(Uint8Array.from(der));
  if (cert.extensions.some((e) => e.type === "2.5.29.17")) {
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    return san?.names.items.filter((n) => n.type === "dns").map((n) => n.value) ?? [];
  }
  const cn = cert.subjectName.getField("CN")[0];
  return cn === undefined ? [] : [cn];
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
  assert.deepEqual(certificateNames(der), ["qnt", "*.example"]);
});

Deno.test("certificateNames() falls back to the first CN without a SAN, and to [] without either", async () => {
  assert.deepEqual(
    certificateNames(
      await certificate({ subject: "O=x, CN=first, CN=second", basicConstraints: true }),
    ),
    ["first"],
  );
  assert.deepEqual(
    certificateNames(await certificate({ subject: "O=x", basicConstraints: false })),
    [],
  );
  // A SAN with no dNSName matches nothing: the CN is not used then (NSS).
  assert.deepEqual(
    certificateNames(
      await certificate({
        subject: "CN=qnt",
        san: [{ type: "ip", value: "::1" }],
        basicConstraints: false,
      }),
    ),
    [],
  );
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
      assert.deepEqual(certificateNames(der), namesByLibrary(der));
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
    assert.deepEqual(certificateNames(der.subarray(0, length)), [], `truncated at ${length}`);
  }
  fc.assert(
    fc.property(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      const bad = der.slice();
      bad[at] = byte;
      // Whatever it finds is read from the bytes given, never made up.
      const latin1 = String.fromCharCode(...bad);
      for (const name of certificateNames(bad)) assert.ok(latin1.includes(name), name);
    }),
    { numRuns: 2000 },
  );
  assert.deepEqual(certificateNames(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), []);
});
