/**
 * Bad databases end in one NssDbError (a kind, the file, one line saying what to do), never in a
 * crash, a hang or a wrong key: truncated and corrupt SQLite files, a database with a password,
 * a missing or mismatched key, tampered ciphertexts and HMACs, hostile sizes and iteration
 * counts. Each case starts from a copy of the database the real corosync-qnetd-certutil made.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  MAX_FILE_BYTES,
  MAX_OBJECTS,
  MAX_TOTAL_BYTES,
  MAX_VALUE_BYTES,
  NssDbError,
  type NssDbErrorKind,
  READ_BUSY_TIMEOUT_MS,
  readNssDb,
} from "../../cli/nss_db_files.ts";
import {
  bytesEqual,
  DER_TAG,
  encodeElement,
  encodeOid,
  encodeSequence,
  encodeSmallInteger,
} from "../../core/nssdb/der.ts";
import { MAX_ITERATIONS, OID } from "../../core/nssdb/pbe.ts";
import { mustRun, needNssTools, testNeeding } from "../support/mod.ts";

const FIXTURE = new URL("../fixtures/nssdb/c-qnetd-certutil", import.meta.url).pathname;

/** A scratch copy of the fixture database; removed on dispose. */
async function copyOfFixture(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-bad-" });
  for await (const e of Deno.readDir(FIXTURE)) {
    await Deno.copyFile(`${FIXTURE}/${e.name}`, `${dir}/${e.name}`);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Runs SQL on one of the database files. */
function sql(path: string, statement: string, ...params: (Uint8Array | string | number)[]) {
  const db = new DatabaseSync(path);
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

/** readNssDb() must fail with an NssDbError of `kind` naming `file`, in one line. */
async function expectError(
  dir: string,
  kind: NssDbErrorKind,
  file: string,
  message?: RegExp,
): Promise<NssDbError> {
  try {
    await readNssDb(dir);
  } catch (error) {
    assert.ok(error instanceof NssDbError, `not an NssDbError: ${error}`);
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.path, `${dir}/${file}`, error.message);
    assert.ok(error.message.includes(`${dir}/${file}`), error.message);
    assert.ok(!error.message.includes("\n"), "one line");
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  throw new assert.AssertionError({ message: `readNssDb accepted a bad database (${kind})` });
}

for (const file of ["cert9.db", "key4.db"]) {
  Deno.test(`bad database: ${file} truncated (0, 100 bytes, half) is 'corrupt'`, async () => {
    const whole = await Deno.readFile(`${FIXTURE}/${file}`);
    for (const length of [0, 100, whole.length >> 1]) {
      await using db = await copyOfFixture();
      await Deno.writeFile(`${db.dir}/${file}`, whole.subarray(0, length));
      await expectError(db.dir, "corrupt", file);
    }
  });

  Deno.test(`bad database: ${file} of random bytes or an empty SQLite is 'corrupt'`, async () => {
    await using db = await copyOfFixture();
    await Deno.writeFile(`${db.dir}/${file}`, crypto.getRandomValues(new Uint8Array(8192)));
    await expectError(db.dir, "corrupt", file);
    await Deno.remove(`${db.dir}/${file}`);
    new DatabaseSync(`${db.dir}/${file}`).close();
    await expectError(db.dir, "corrupt", file);
  });
}

Deno.test("bad database: key4.db missing is 'missing', naming it", async () => {
  await using db = await copyOfFixture();
  await Deno.remove(`${db.dir}/key4.db`);
  await expectError(db.dir, "missing", "key4.db");
});

Deno.test("bad database: no private key for the nickname is 'missing'", async () => {
  await using db = await copyOfFixture();
  sql(`${db.dir}/key4.db`, "DELETE FROM nssPrivate");
  await expectError(db.dir, "missing", "key4.db", /no private key for 'QNetd Cert'/);
});

Deno.test("bad database: the key of another certificate filed for the nickname is 'corrupt'", async () => {
  await using db = await copyOfFixture();
  // Give the CA's key the server certificate's CKA_ID.
  const certDb = new DatabaseSync(`${db.dir}/cert9.db`, { readOnly: true });
  const serverId = (certDb.prepare("SELECT a102 FROM nssPublic WHERE a3 = ?").get(
    new TextEncoder().encode("QNetd Cert"),
  ) as { a102: Uint8Array }).a102;
  const caId = (certDb.prepare("SELECT a102 FROM nssPublic WHERE a3 = ?").get(
    new TextEncoder().encode("QNet CA"),
  ) as { a102: Uint8Array }).a102;
  certDb.close();
  sql(`${db.dir}/key4.db`, "DELETE FROM nssPrivate WHERE a102 = ?", serverId);
  sql(`${db.dir}/key4.db`, "UPDATE nssPrivate SET a102 = ? WHERE a102 = ?", serverId, caId);
  await expectError(db.dir, "corrupt", "key4.db", /not the key of its certificate/);
});

Deno.test("bad database: no password check entry, or a damaged one, is 'corrupt'", async () => {
  {
    await using db = await copyOfFixture();
    sql(`${db.dir}/key4.db`, "DELETE FROM metaData WHERE id = 'password'");
    await expectError(db.dir, "corrupt", "key4.db", /password check/);
  }
  {
    await using db = await copyOfFixture();
    sql(`${db.dir}/key4.db`, "UPDATE metaData SET item2 = ? WHERE id = 'password'", "garbage");
    await expectError(db.dir, "corrupt", "key4.db");
  }
});

Deno.test("bad database: a tampered private key value or its HMAC is 'corrupt'", async () => {
  for (const target of ["value", "signature"] as const) {
    await using db = await copyOfFixture();
    const keyDb = new DatabaseSync(`${db.dir}/key4.db`);
    try {
      if (target === "value") {
        const rows = keyDb.prepare("SELECT id, a124 FROM nssPrivate").all() as {
          id: number;
          a124: Uint8Array;
        }[];
        for (const row of rows) {
          const bytes = new Uint8Array(row.a124);
          bytes[bytes.length - 20]! ^= 0x01; // inside the last cipher blocks
          keyDb.prepare("UPDATE nssPrivate SET a124 = ? WHERE id = ?").run(bytes, row.id);
        }
      } else {
        const rows = keyDb.prepare(
          "SELECT id, item1 FROM metaData WHERE id LIKE 'sig_key_%_00000123'",
        ).all() as { id: string; item1: Uint8Array }[];
        assert.equal(rows.length, 2);
        for (const row of rows) {
          const bytes = new Uint8Array(row.item1);
          bytes[bytes.length - 1]! ^= 0x01;
          keyDb.prepare("UPDATE metaData SET item1 = ? WHERE id = ?").run(bytes, row.id);
        }
      }
    } finally {
      keyDb.close();
    }
    await expectError(db.dir, "corrupt", "key4.db", /0x12[34]/);
  }
});

Deno.test("bad database: a CA trust whose HMAC does not verify is not trusted ('missing')", async () => {
  await using db = await copyOfFixture();
  sql(`${db.dir}/key4.db`, "DELETE FROM metaData WHERE id LIKE 'sig_cert_%_ce536359'");
  await expectError(db.dir, "missing", "cert9.db", /trusted for client authentication/);
});

Deno.test("bad database: hostile sizes are refused before any work", async () => {
  {
    await using db = await copyOfFixture();
    sql(
      `${db.dir}/cert9.db`,
      "UPDATE nssPublic SET a11 = ? WHERE a3 = ?",
      new Uint8Array(MAX_VALUE_BYTES + 1),
      new TextEncoder().encode("QNetd Cert"),
    );
    await expectError(db.dir, "corrupt", "cert9.db", /-byte value/);
  }
  {
    await using db = await copyOfFixture();
    const certDb = new DatabaseSync(`${db.dir}/cert9.db`);
    try {
      certDb.exec("BEGIN");
      const insert = certDb.prepare("INSERT INTO nssPublic (id, a0) VALUES (?, ?)");
      for (let i = 0; i < MAX_OBJECTS + 1; i++) insert.run(1_000_000 + i, new Uint8Array(4));
      certDb.exec("COMMIT");
    } finally {
      certDb.close();
    }
    await expectError(db.dir, "corrupt", "cert9.db", /more than/);
  }
  {
    // Many values each under the per-value limit, together over the per-file budget.
    await using db = await copyOfFixture();
    const keyDb = new DatabaseSync(`${db.dir}/key4.db`);
    try {
      keyDb.exec("BEGIN");
      const insert = keyDb.prepare("INSERT INTO metaData (id, item1) VALUES (?, ?)");
      const big = new Uint8Array(MAX_VALUE_BYTES);
      for (let i = 0; i * MAX_VALUE_BYTES <= MAX_TOTAL_BYTES; i++) insert.run(`pad_${i}`, big);
      keyDb.exec("COMMIT");
    } finally {
      keyDb.close();
    }
    await expectError(db.dir, "corrupt", "key4.db", /bytes of metaData entries/);
  }
  {
    // A file larger than any database qnet reads is refused before it is opened.
    await using db = await copyOfFixture();
    const file = await Deno.open(`${db.dir}/cert9.db`, { write: true });
    await file.truncate(MAX_FILE_BYTES + 1);
    file.close();
    await expectError(db.dir, "corrupt", "cert9.db", /bytes \(limit/);
  }
  {
    // A password check entry asking for 2^31-1 PBKDF2 iterations (NSS writes 1 or 10000).
    await using db = await copyOfFixture();
    const octets = (bytes: Uint8Array) => encodeElement(DER_TAG.octetString, bytes);
    const hostile = encodeSequence([
      encodeSequence([
        encodeOid(OID.pbes2),
        encodeSequence([
          encodeSequence([
            encodeOid(OID.pbkdf2),
            encodeSequence([
              octets(new Uint8Array(32)),
              encodeSmallInteger(0x7fffffff),
              encodeSmallInteger(32),
              encodeSequence([encodeOid(OID.hmacSha256)]),
            ]),
          ]),
          encodeSequence([encodeOid(OID.aes256Cbc), octets(new Uint8Array(14))]),
        ]),
      ]),
      octets(new Uint8Array(16)),
    ]);
    sql(`${db.dir}/key4.db`, "UPDATE metaData SET item2 = ? WHERE id = 'password'", hostile);
    const started = performance.now();
    await expectError(db.dir, "corrupt", "key4.db", /out of range/);
    assert.ok(performance.now() - started < 5_000, "refused without deriving");
    assert.ok(0x7fffffff > MAX_ITERATIONS);
  }
});

testNeeding(needNssTools(), "bad database: a database with a password is 'password'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-bad-" });
  try {
    await Deno.writeTextFile(`${dir}/password`, "secret\n");
    await mustRun("certutil", ["-N", "-d", `sql:${dir}`, "-f", `${dir}/password`]);
    await expectError(dir, "password", "key4.db", /certutil -W/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad database: flipped bytes anywhere in the SQLite files give the same key and CAs or an NssDbError", async () => {
  const original = await readNssDb(FIXTURE);
  const files = {
    "cert9.db": await Deno.readFile(`${FIXTURE}/cert9.db`),
    "key4.db": await Deno.readFile(`${FIXTURE}/key4.db`),
  };
  let state = 0x2545f491; // xorshift32, fixed: the same inputs every run
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  await using db = await copyOfFixture();
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 120; round++) {
    const name = round % 2 === 0 ? "cert9.db" : "key4.db";
    const bytes = files[name].slice();
    for (let flips = 1 + next() % 8; flips > 0; flips--) {
      bytes[next() % bytes.length]! ^= 1 << (next() % 8);
    }
    await Deno.writeFile(`${db.dir}/${name}`, bytes);
    try {
      const m = await readNssDb(db.dir);
      // The key and the CAs are authenticated (HMACs, the trust's hash); the server
      // certificate's bytes are not, in NSS either: a changed one that still parses is served.
      assert.deepEqual(m.keyPkcs8Der, original.keyPkcs8Der, `round ${round}: ${name} key`);
      assert.deepEqual(m.caCertsDer, original.caCertsDer, `round ${round}: ${name} CAs`);
      const same = bytesEqual(m.certDer, original.certDer);
      outcomes.set(
        same ? "same" : "server cert",
        (outcomes.get(same ? "same" : "server cert") ?? 0) + 1,
      );
    } catch (error) {
      assert.ok(error instanceof NssDbError, `round ${round}: ${error}`);
      assert.ok(!error.message.includes("\n"));
      outcomes.set(error.kind, (outcomes.get(error.kind) ?? 0) + 1);
    }
    await Deno.writeFile(`${db.dir}/${name}`, files[name]);
  }
  assert.ok((outcomes.get("same") ?? 0) > 0, JSON.stringify([...outcomes]));
});

Deno.test("bad database: one locked by a writer is 'busy' after a short wait, not corrupt", async () => {
  await using db = await copyOfFixture();
  for (const file of ["cert9.db", "key4.db"]) {
    const writer = new DatabaseSync(`${db.dir}/${file}`);
    try {
      writer.exec("BEGIN EXCLUSIVE");
      writer.exec(`UPDATE ${file === "cert9.db" ? "nssPublic" : "nssPrivate"} SET a170 = a170`);
      const started = performance.now();
      await expectError(db.dir, "busy", file, /locked by another program/);
      const waited = performance.now() - started;
      assert.ok(waited >= READ_BUSY_TIMEOUT_MS * 0.8 && waited < 4_000, `waited ${waited} ms`);
      writer.exec("ROLLBACK");
    } finally {
      writer.close();
    }
  }
  await readNssDb(db.dir); // and it reads once the writer is done
});

testNeeding(
  needNssTools(),
  "bad database: a legacy DBM database, and the conversion the message advises",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nssdb-bad-" });
    try {
      await mustRun("certutil", ["-N", "-d", `dbm:${dir}`, "--empty-password"]);
      await mustRun("certutil", [
        "-A",
        "-d",
        `dbm:${dir}`,
        "-n",
        "QNet CA",
        "-t",
        "CT,,",
        "-i",
        `${FIXTURE}/qnetd-cacert.crt`,
      ]);
      const legacy = await expectError(dir, "legacy", "cert8.db");
      const advice = /certutil( -\S+)+ sql:\S+/.exec(legacy.message)?.[0];
      assert.ok(advice !== undefined, legacy.message);
      const [cmd, ...args] = advice.split(" ");
      await mustRun(cmd!, args);
      // Converted: what is missing now is the server certificate, not the format.
      await expectError(dir, "nickname", "cert9.db");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
