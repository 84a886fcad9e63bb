/**
 * The writer (createNssDb, addPrivateKey, addCertificate) checked by NSS itself: certutil -L
 * lists the nicknames with the same trust flags as the database corosync-qnetd-certutil made
 * (tests/fixtures/nssdb/c-qnetd-certutil), certutil -K lists the same keys (same CKA_IDs), and
 * pk12util -o exports each key (NSS decrypted it and accepted its HMACs).
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { createServerCertificate } from "../../core/certs/build.ts";
import { generateKeyPair, RSA_SIGNING } from "../../core/certs/keys.ts";
import {
  addCertificate,
  addPrivateKey,
  createNssDb,
  loadNssDb,
  NssDbError,
  readNssDb,
} from "../../cli/nss_db_files.ts";
import { type NssObject, PRIVATE_ATTRIBUTES } from "../../core/nssdb/attributes.ts";
import type { NssDbContent } from "../../core/nssdb/read.ts";
import {
  mustRun,
  needAll,
  needNssTools,
  needProgram,
  nssExportKeyPem,
  nssListCertificates,
  nssListKeys,
  publicKeyOfCert,
  publicKeyOfPem,
  testNeeding,
} from "../support/mod.ts";

const FIXTURE = new URL("../fixtures/nssdb/c-qnetd-certutil", import.meta.url).pathname;

/** A copy of the C database's content, written by our writer into a new directory. */
async function rewriteFixture(dir: string): Promise<void> {
  const server = await readNssDb(FIXTURE, "QNetd Cert");
  const ca = await readNssDb(FIXTURE, "QNet CA");
  await createNssDb(dir);
  await addPrivateKey(dir, ca.keyPkcs8Der);
  await addCertificate(dir, "QNet CA", ca.certDer, "CT,,");
  await addPrivateKey(dir, server.keyPkcs8Der);
  await addCertificate(dir, "QNetd Cert", server.certDer, "u,u,u");
}

Deno.test("writer: what it writes reads back the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
  try {
    await rewriteFixture(dir);
    const ours = await readNssDb(dir);
    const theirs = await readNssDb(FIXTURE);
    assert.deepEqual(ours.certDer, theirs.certDer);
    assert.deepEqual(ours.keyPkcs8Der, theirs.keyPkcs8Der);
    assert.deepEqual(ours.caCertsDer, theirs.caCertsDer);
    for (const name of ["cert9.db", "key4.db", "pkcs11.txt"]) {
      assert.ok((await Deno.stat(`${dir}/${name}`)).isFile, name);
    }
    assert.equal(
      await Deno.readTextFile(`${dir}/pkcs11.txt`),
      (await Deno.readTextFile(`${FIXTURE}/pkcs11.txt`)).replace(
        /configdir='[^']*'/,
        `configdir='${dir}'`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer: createNssDb refuses an existing database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
  try {
    await createNssDb(dir);
    await assert.rejects(() => createNssDb(dir), Deno.errors.AlreadyExists);
    await assert.rejects(() => addCertificate(dir, "x", new Uint8Array([1, 2, 3]), "CT,,"));
    await assert.rejects(
      () => addCertificate(dir, "x", new Uint8Array([0x30, 0]), "u,u,u"),
      NssDbError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testNeeding(needNssTools(), "writer: NSS's certutil -L/-K and pk12util -o accept it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
  try {
    await rewriteFixture(dir);
    assert.equal(await nssListCertificates(dir), await nssListCertificates(FIXTURE));
    assert.equal(await nssListKeys(dir, true), await nssListKeys(FIXTURE, true));
    for (const nickname of ["QNet CA", "QNetd Cert"]) {
      const cert = (await readNssDb(dir, nickname)).certDer;
      assert.equal(
        await publicKeyOfPem(await nssExportKeyPem(dir, nickname)),
        await publicKeyOfCert(cert),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * An object's attributes as comparable text: encrypted values (random salt and IV) as their
 * length class only, everything else in hex.
 */
function describe(object: NssObject): string {
  return [...object.attributes].sort(([a], [b]) => a - b).map(([type, value]) =>
    PRIVATE_ATTRIBUTES.has(type)
      ? `${type.toString(16)}=<encrypted>`
      : `${type.toString(16)}=${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`
  ).join(" ");
}

/** The metaData ids with object ids replaced by the described object's position. */
function metaShape(content: NssDbContent): string[] {
  const index = new Map<number, string>();
  const all = [...content.publicObjects, ...content.privateObjects];
  const sorted = all.map((o) => [describe(o), o.id] as const).sort(([a], [b]) => a < b ? -1 : 1);
  sorted.forEach(([, id], i) => index.set(id, `#${i}`));
  return [...content.meta.keys()].map((id) =>
    id.replace(/^(sig_\w+?_)([0-9a-f]{8})_/, (_, p, hex) => `${p}${index.get(parseInt(hex, 16))}_`)
  ).sort();
}

Deno.test("writer: every object, attribute and signature entry as NSS wrote them for the C tool", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
  try {
    await rewriteFixture(dir);
    const ours = await loadNssDb(dir);
    const theirs = await loadNssDb(FIXTURE);
    for (const table of ["publicObjects", "privateObjects"] as const) {
      assert.deepEqual(
        ours[table].map(describe).sort(),
        theirs[table].map(describe).sort(),
        table,
      );
    }
    assert.deepEqual(metaShape(ours), metaShape(theirs));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Ports of the nssdb range for selfserv (41000-41999, see the task's port plan). */
const SELFSERV_PORTS = { first: 41510, last: 41599 };

/**
 * The serial of the certificate NSS's selfserv serves for `nickname` (PK11_FindCertFromNickname),
 * on the first port of the range it can bind (a port of the range may be held by another
 * program's outgoing connection: they are within the kernel's ephemeral range).
 */
async function servedByNss(dir: string, nickname: string): Promise<bigint> {
  let lastError: unknown;
  for (let port = SELFSERV_PORTS.first; port <= SELFSERV_PORTS.last; port++) {
    try {
      return await servedByNssOn(dir, nickname, port);
    } catch (error) {
      if (!(error instanceof BindError)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** selfserv could not bind its port. */
class BindError extends Error {}

async function servedByNssOn(dir: string, nickname: string, port: number): Promise<bigint> {
  const server = new Deno.Command("selfserv", {
    args: ["-d", `sql:${dir}`, "-n", nickname, "-p", String(port), "-w", ""],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = server.status.then((s) => {
    exited = true;
    return s;
  });
  const stderr = new Response(server.stderr).text();
  try {
    let listening = false;
    for (let attempt = 0; attempt < 100 && !exited && !listening; attempt++) {
      const conn = await Deno.connect({ port }).catch(() => undefined);
      conn?.close();
      listening = conn !== undefined;
      if (!listening) await new Promise((r) => setTimeout(r, 100));
    }
    if (!listening) {
      if (!exited) server.kill("SIGTERM");
      await status;
      const text = await stderr;
      if (/PR_Bind/.test(text)) throw new BindError(`port ${port}: ${text}`);
      throw new Error(`selfserv on port ${port} did not listen: ${text}`);
    }
    const client = await new Deno.Command("openssl", {
      args: ["s_client", "-connect", `127.0.0.1:${port}`, "-showcerts"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(
      new TextDecoder().decode(client.stdout),
    );
    assert.ok(pem !== null, `selfserv served no certificate: ${exited ? await stderr : ""}`);
    return BigInt(`0x${new x509.X509Certificate(pem[0]).serialNumber}`);
  } finally {
    if (!exited) server.kill("SIGTERM");
    await status;
    await stderr;
  }
}

testNeeding(
  needAll(needNssTools(), needProgram("selfserv", "libnss3-tools")),
  "readNssDb: of several certificates with one nickname, the one NSS's selfserv serves",
  async () => {
    const ca = await readNssDb(FIXTURE, "QNet CA");
    const caKey = await crypto.subtle.importKey(
      "pkcs8",
      new Uint8Array(ca.keyPkcs8Der),
      RSA_SIGNING,
      false,
      ["sign"],
    );
    const issuer = { cert: new x509.X509Certificate(new Uint8Array(ca.certDer)), key: caKey };
    const day = 24 * 3600 * 1000;
    // [days from now the certificate was issued, serial]: an old one, its renewal (valid,
    // newer), one not valid yet; in two orders.
    const cases: [number, bigint][][] = [
      [[-400, 201n], [-1, 202n], [10, 203n]],
      [[10, 203n], [-1, 202n], [-400, 201n]],
      [[10, 203n], [-400, 201n]],
    ];
    for (const certs of cases) {
      const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
      try {
        await createNssDb(dir);
        await addCertificate(dir, "QNet CA", ca.certDer, "CT,,");
        for (const [offset, serial] of certs) {
          const keys = await generateKeyPair();
          const cert = await createServerCertificate(issuer, keys.publicKey, {
            serial,
            now: new Date(Date.now() + offset * day),
          });
          const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
          await addPrivateKey(dir, new Uint8Array(pkcs8));
          await addCertificate(dir, "QNetd Cert", new Uint8Array(cert.rawData), "u,u,u");
        }
        const ours = BigInt(
          `0x${
            new x509.X509Certificate(new Uint8Array((await readNssDb(dir)).certDer)).serialNumber
          }`,
        );
        assert.equal(
          ours,
          await servedByNss(dir, "QNetd Cert"),
          JSON.stringify(certs, (_, v) => typeof v === "bigint" ? Number(v) : v),
        );
        assert.equal(ours, certs.length === 3 ? 202n : 201n);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
);

testNeeding(
  needNssTools(),
  "writer: NSS's certutil edits what qnet wrote, and qnet reads NSS's edits",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-write-" });
    try {
      await rewriteFixture(dir);
      const before = await readNssDb(dir);
      // NSS re-signs the trust it changes with the password key: our reader must accept its HMACs.
      await mustRun("certutil", ["-M", "-d", `sql:${dir}`, "-n", "QNet CA", "-t", "CT,C,C"]);
      assert.deepEqual(await readNssDb(dir), before);
      assert.match(await nssListCertificates(dir), /QNet CA\s+CTu,Cu,Cu/);
      // And a trust NSS takes away is gone for us too.
      await mustRun("certutil", ["-M", "-d", `sql:${dir}`, "-n", "QNet CA", "-t", "C,,"]);
      await assert.rejects(
        () => readNssDb(dir),
        (error) => error instanceof NssDbError && error.kind === "missing",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
