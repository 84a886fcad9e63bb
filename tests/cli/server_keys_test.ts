import assert from "node:assert/strict";
import { keySourceOf, loadServerKeyMaterial } from "../../cli/server_keys.ts";
import { KeyLoadError, serverKeyFiles } from "../../cli/tls_files.ts";
import { NssDbError } from "../../cli/nss_db_files.ts";
import { certificateNames } from "../../core/certs/peer_names.ts";

/** The subject CN of a certificate, as text. */
const commonName = (der: Uint8Array) => {
  const cn = certificateNames(der).commonName;
  return cn === undefined ? undefined : new TextDecoder().decode(cn);
};
import { TlsServerContext } from "../../net/tls_server.ts";

/** A database as the real corosync-qnetd-certutil -i made it (tests/fixtures/README.md). */
const C_DB = new URL("../fixtures/nssdb/c-qnetd-certutil", import.meta.url).pathname;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "qnet-serverkeys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("keySourceOf() tells an empty, a PEM and a legacy NSS directory apart", async () => {
  await withDir(async (dir) => {
    assert.equal(keySourceOf(dir, "QNetd Cert"), "none");
    await Deno.writeTextFile(`${dir}/cert8.db`, "");
    assert.equal(keySourceOf(dir, "QNetd Cert"), "legacy-nssdb");
    await Deno.writeTextFile(serverKeyFiles(dir, "QNetd Cert").certFile, "");
    assert.equal(keySourceOf(dir, "QNetd Cert"), "pem");
  });
});

Deno.test("loadServerKeyMaterial() refuses an empty or legacy directory in one line naming the file", async () => {
  await withDir(async (dir) => {
    const failure = async () =>
      await loadServerKeyMaterial(dir, "QNetd Cert").then(() => assert.fail("loaded"), (e) => e);
    const empty = await failure();
    assert.ok(empty instanceof KeyLoadError);
    assert.match(
      empty.message,
      /holds no key material \(neither cert9\.db nor .*qnetd-cert\.pem\)/,
    );
    await Deno.writeTextFile(`${dir}/cert8.db`, "");
    const legacy = await failure();
    assert.ok(legacy instanceof NssDbError);
    assert.equal(legacy.kind, "legacy");
    assert.equal(legacy.path, `${dir}/cert8.db`);
    assert.match(legacy.message, /legacy \(DBM\) NSS database/);
    for (const e of [empty, legacy]) assert.doesNotMatch(e.message, /\n/);
  });
});

Deno.test("loadServerKeyMaterial() reads the database corosync-qnetd-certutil made, in place", async () => {
  const { keys, source } = await loadServerKeyMaterial(C_DB, "QNetd Cert");
  assert.equal(source, "nssdb");
  assert.equal(keys.certChainDer.length, 1);
  assert.equal(commonName(keys.certChainDer[0]!), "Qnetd Server");
  assert.equal(keys.caCertsDer.length, 1);
  assert.equal(commonName(keys.caCertsDer[0]!), "QNet CA");
  assert.equal(keys.origin.cert, `${C_DB}/cert9.db (nickname 'QNetd Cert')`);
  assert.equal(keys.origin.key, `${C_DB}/key4.db`);
  // OpenSSL takes it: the key matches the certificate.
  using _context = TlsServerContext.create({ keys, requireClientCert: true });
});

Deno.test("loadServerKeyMaterial(): the NSS database wins over PEM files in the same directory", async () => {
  await withDir(async (dir) => {
    for (const f of ["cert9.db", "key4.db", "pkcs11.txt"]) {
      await Deno.copyFile(`${C_DB}/${f}`, `${dir}/${f}`);
    }
    const files = serverKeyFiles(dir, "QNetd Cert");
    const pem = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
    await Deno.writeTextFile(files.certFile, pem);
    await Deno.writeTextFile(files.caFile, pem);
    await Deno.writeTextFile(
      files.keyFile,
      "-----BEGIN PRIVATE KEY-----\nBwgJ\n-----END PRIVATE KEY-----\n",
    );
    const { keys, source } = await loadServerKeyMaterial(dir, "QNetd Cert");
    assert.equal(source, "nssdb");
    assert.equal(commonName(keys.certChainDer[0]!), "Qnetd Server");
  });
});

Deno.test("loadServerKeyMaterial() names the database file for a missing nickname, a missing key4.db or a corrupt cert9.db", async () => {
  await withDir(async (dir) => {
    for (const f of ["cert9.db", "key4.db", "pkcs11.txt"]) {
      await Deno.copyFile(`${C_DB}/${f}`, `${dir}/${f}`);
    }
    const failure = async (nickname = "QNetd Cert") =>
      await loadServerKeyMaterial(dir, nickname).then(() => assert.fail("loaded"), (e) => e);
    const nickname = await failure("No Such Cert");
    assert.ok(nickname instanceof NssDbError);
    assert.equal(nickname.kind, "nickname");
    assert.match(nickname.message, /No Such Cert/);
    await Deno.remove(`${dir}/key4.db`);
    const missing = await failure();
    assert.ok(missing instanceof NssDbError);
    assert.equal(missing.path, `${dir}/key4.db`);
    await Deno.copyFile(`${C_DB}/key4.db`, `${dir}/key4.db`);
    const head = (await Deno.readFile(`${C_DB}/cert9.db`)).subarray(0, 1000);
    await Deno.writeFile(`${dir}/cert9.db`, head);
    const corrupt = await failure();
    assert.ok(corrupt instanceof NssDbError);
    assert.equal(corrupt.kind, "corrupt");
    assert.match(corrupt.message, /cert9\.db/);
    for (const e of [nickname, missing, corrupt]) assert.doesNotMatch(e.message, /\n/);
  });
});
