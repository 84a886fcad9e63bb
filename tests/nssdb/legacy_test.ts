/**
 * A key directory from an old installation: corosync-qnetd-certutil run against the legacy DBM
 * format (cert8.db, key3.db), as NSS before 3.35 made it. qnet refuses it with one line that
 * names the conversion; after that conversion (NSS keeps the old SHA-1/3DES encryption of the
 * keys in key4.db) qnet reads it and `qnet certutil -s` signs with its CA.
 */
import assert from "node:assert/strict";
import { NssDbError, readNssDb } from "../../cli/nss_db_files.ts";
import { parseCertificateFile } from "../../core/certs/ca_export.ts";
import {
  mustRun,
  needAll,
  needNssTools,
  needRealTools,
  ours,
  publicKeyOfCert,
  testNeeding,
} from "../support/mod.ts";

testNeeding(
  needAll(needRealTools(), needNssTools()),
  "legacy: an old DBM database is refused, converted as the message says, then read and signed with",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "qnet-nssdb-legacy-" });
    try {
      // The C script of an old installation: its certutil calls on dbm: databases.
      await Deno.mkdir(`${root}/qnetd`);
      const tool = `${root}/old-qnetd-certutil`;
      const script = (await Deno.readTextFile("/usr/bin/corosync-qnetd-certutil"))
        .replace(/^CONFIG_DIR=.*$/m, `CONFIG_DIR="${root}/qnetd"`)
        .replaceAll('-d "$DB_DIR"', '-d "dbm:$DB_DIR"');
      await Deno.writeTextFile(tool, script, { mode: 0o755 });
      await mustRun(tool, ["-i"]);
      const dir = `${root}/qnetd/nssdb`;
      assert.ok((await Deno.stat(`${dir}/cert8.db`)).isFile);

      let advice: string | undefined;
      try {
        await readNssDb(dir);
        assert.fail("a DBM database was read");
      } catch (error) {
        assert.ok(error instanceof NssDbError && error.kind === "legacy", String(error));
        assert.equal(error.path, `${dir}/cert8.db`);
        advice = /certutil( -\S+)+ sql:\S+/.exec(error.message)?.[0];
      }
      assert.ok(advice !== undefined);
      const [cmd, ...args] = advice.split(" ");
      await mustRun(cmd!, args);

      const m = await readNssDb(dir);
      const keyFile = `${root}/key.der`;
      await Deno.writeFile(keyFile, m.keyPkcs8Der);
      assert.equal(
        (await mustRun("openssl", ["pkey", "-inform", "DER", "-in", keyFile, "-pubout"])).stdout,
        await publicKeyOfCert(m.certDer),
      );
      // The trusted CA is the one the old tool exported for the nodes.
      const exported = parseCertificateFile(
        await Deno.readFile(`${dir}/qnetd-cacert.crt`),
        "qnetd-cacert.crt",
      );
      assert.deepEqual(m.caCertsDer, [new Uint8Array(exported.rawData)]);

      // And qnet certutil -s signs with the converted CA key, continuing serial.txt.
      await mustRun("openssl", [
        "req",
        ...["-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `${root}/node.key`],
        ...["-subj", "/CN=Legacy", "-outform", "DER", "-out", `${root}/node.crq`],
      ]);
      const signed = await ours(["-d", dir, "-s", "-c", `${root}/node.crq`, "-n", "Legacy"]);
      assert.equal(signed.code, 0, signed.stderr);
      await mustRun("openssl", [
        "x509",
        ...["-inform", "DER", "-in", `${dir}/cluster-Legacy.crt`, "-out", `${root}/c.pem`],
      ]);
      await mustRun("openssl", ["verify", "-CAfile", `${dir}/qnetd-cacert.crt`, `${root}/c.pem`]);
      assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), "103\n");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
