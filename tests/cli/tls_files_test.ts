import assert from "node:assert/strict";
import { KeyLoadError, readPemKeyMaterial, serverKeyFiles } from "../../cli/tls_files.ts";

Deno.test("serverKeyFiles() maps the default nickname to the files certutil writes", () => {
  assert.deepEqual(serverKeyFiles("/etc/corosync/qnetd/nssdb", "QNetd Cert"), {
    certFile: "/etc/corosync/qnetd/nssdb/qnetd-cert.pem",
    keyFile: "/etc/corosync/qnetd/nssdb/qnetd-key.pem",
    caFile: "/etc/corosync/qnetd/nssdb/qnet-ca.pem",
  });
});

Deno.test("serverKeyFiles() derives file names from another nickname", () => {
  const files = serverKeyFiles("/d", "My Server");
  assert.equal(files.certFile, "/d/my-server-cert.pem");
  assert.equal(files.keyFile, "/d/my-server-key.pem");
});

Deno.test("readPemKeyMaterial() reads certificate, key and CA as DER with their file names", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-pemkeys-" });
  try {
    const files = serverKeyFiles(dir, "QNetd Cert");
    const cert = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
    const chain = "-----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n";
    await Deno.writeTextFile(files.certFile, cert + chain);
    await Deno.writeTextFile(
      files.keyFile,
      "-----BEGIN PRIVATE KEY-----\nBwgJ\n-----END PRIVATE KEY-----\n",
    );
    // qnetd-cacert.crt style: a text dump before the PEM block.
    await Deno.writeTextFile(files.caFile, "Certificate:\n    Data: ...\n" + chain);
    const keys = await readPemKeyMaterial(dir, "QNetd Cert");
    assert.deepEqual(keys.certChainDer.map((d) => [...d]), [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual([...keys.keyDer], [7, 8, 9]);
    assert.deepEqual(keys.caCertsDer.map((d) => [...d]), [[4, 5, 6]]);
    assert.deepEqual(keys.origin, { cert: files.certFile, key: files.keyFile, ca: files.caFile });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readPemKeyMaterial() names the missing, empty or encrypted file in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-pemkeys-" });
  try {
    const files = serverKeyFiles(dir, "QNetd Cert");
    const cert = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
    const expectError = async (file: string, pattern: RegExp) => {
      const error = await readPemKeyMaterial(dir, "QNetd Cert").then(
        () => assert.fail("loaded"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof KeyLoadError, String(error));
      assert.equal(error.path, file);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\n/);
    };
    await expectError(
      files.certFile,
      /Cannot read .*qnetd-cert\.pem: No such file.*qnet certutil -i/,
    );
    await Deno.writeTextFile(files.certFile, "no pem here\n");
    await Deno.writeTextFile(files.caFile, cert);
    await Deno.writeTextFile(
      files.keyFile,
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    await expectError(files.certFile, /qnetd-cert\.pem holds no PEM certificate/);
    await Deno.writeTextFile(files.certFile, cert);
    await expectError(files.keyFile, /qnetd-key\.pem holds an encrypted private key: .*-nocrypt/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
