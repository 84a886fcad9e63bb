import assert from "node:assert/strict";
import { keySourceOf, loadServerKeyMaterial } from "../../cli/server_keys.ts";
import { KeyLoadError, serverKeyFiles } from "../../cli/tls_files.ts";

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
    assert.ok(legacy instanceof KeyLoadError);
    assert.equal(legacy.file, `${dir}/cert8.db`);
    assert.match(legacy.message, /legacy \(DBM\) NSS database.*cert9\.db/);
    for (const e of [empty, legacy]) assert.doesNotMatch(e.message, /\n/);
  });
});
