import assert from "node:assert/strict";
import { formatCaExport, formatNssTime, parseCertificateFile } from "../../core/certs/ca_export.ts";
import { KeyMaterialError } from "../../core/certs/errors.ts";
import { needRealTools, runCommand, Scratch, testNeeding } from "../support/mod.ts";

const NEED = needRealTools();

Deno.test("formatNssTime() prints GMT like NSS certutil", () => {
  assert.equal(formatNssTime(new Date("2126-11-22T00:31:11Z")), "Fri Nov 22 00:31:11 2126");
  assert.equal(formatNssTime(new Date("2026-03-05T09:08:07Z")), "Thu Mar 05 09:08:07 2026");
});

testNeeding(NEED, {
  name: "formatCaExport() rebuilds the real tool's qnetd-cacert.crt byte for byte",
  async fn() {
    await using s = await Scratch.create();
    assert.equal((await s.qnetd("-i")).code, 0);
    const real = await Deno.readFile(`${s.realDb}/qnetd-cacert.crt`);
    const cert = parseCertificateFile(real, "qnetd-cacert.crt");
    assert.equal(cert.subject, "CN=QNet CA");
    assert.equal(await formatCaExport(cert), new TextDecoder().decode(real));
  },
});

testNeeding(NEED, {
  name: "parseCertificateFile() reads the text+PEM export, plain PEM and DER alike",
  async fn() {
    await using s = await Scratch.create();
    assert.equal((await s.qnetd("-i")).code, 0);
    const exported = `${s.realDb}/qnetd-cacert.crt`;
    const der = await runCommand("openssl", [
      "x509",
      "-in",
      exported,
      "-outform",
      "DER",
      "-out",
      `${s.root}/ca.der`,
    ]);
    assert.equal(der.code, 0, der.stderr);
    const pem = await runCommand("openssl", ["x509", "-in", exported, "-out", `${s.root}/ca.pem`]);
    assert.equal(pem.code, 0, pem.stderr);
    const fromExport = parseCertificateFile(await Deno.readFile(exported), "export");
    for (const file of ["ca.der", "ca.pem"]) {
      const cert = parseCertificateFile(await Deno.readFile(`${s.root}/${file}`), file);
      assert.ok(cert.equal(fromExport), file);
    }
  },
});

Deno.test("parseCertificateFile() rejects empty and garbage input with the file name", () => {
  assert.throws(
    () => parseCertificateFile(new Uint8Array(), "empty.crt"),
    (e) => e instanceof KeyMaterialError && /empty\.crt: empty file/.test(e.message),
  );
  assert.throws(
    () => parseCertificateFile(new TextEncoder().encode("hello"), "junk.crt"),
    (e) => e instanceof KeyMaterialError && /junk\.crt/.test(e.message),
  );
});
