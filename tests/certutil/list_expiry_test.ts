/**
 * `qnet certutil --list` flags what needs the admin: an expired certificate, one not yet
 * valid, one expiring within `--warn-days` (exit 3), and `--json` gives the same as a
 * document. The standing itself is core/certs/expiry.ts, checked by table first.
 *
 * @module
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { CertutilExit } from "../../cli/certutil.ts";
import { expiryOf, ExpiryStatus } from "../../core/certs/expiry.ts";
import { ours } from "../support/mod.ts";

const NOW = new Date("2026-12-05T12:00:00Z");
const day = (n: number) => new Date(NOW.getTime() + n * 86_400_000);

Deno.test("expiryOf(): each standing, at its edges", () => {
  const rows: [string, Date, Date, number, ExpiryStatus, number][] = [
    ["far from expiry", day(-10), day(400), 30, ExpiryStatus.Valid, 400],
    ["just outside the warning", day(-10), day(30), 30, ExpiryStatus.Valid, 30],
    [
      "inside the warning",
      day(-10),
      new Date(day(30).getTime() - 1),
      30,
      ExpiryStatus.Expiring,
      29,
    ],
    ["warning of 0 days", day(-10), day(1), 0, ExpiryStatus.Valid, 1],
    ["expires this instant", day(-10), NOW, 30, ExpiryStatus.Expiring, 0],
    ["expired a day ago", day(-400), day(-1), 30, ExpiryStatus.Expired, -1],
    ["not yet valid", day(2), day(400), 30, ExpiryStatus.NotYetValid, 400],
  ];
  for (const [name, notBefore, notAfter, warn, status, daysLeft] of rows) {
    assert.deepEqual(expiryOf(notBefore, notAfter, NOW, warn), { status, daysLeft }, name);
  }
});

/** A self-signed certificate for `cluster`, valid from `notBefore` to `notAfter`, as PEM. */
async function clusterCertificate(cluster: string, notBefore: Date, notAfter: Date) {
  const alg = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "7f",
    name: `CN=${cluster}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: alg,
  });
  return cert.toString("pem");
}

Deno.test("--list: valid certificates exit 0; --warn-days beyond their life flags them, exit 3", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-list-" });
  try {
    assert.equal((await ours(["-i", "-d", dir])).code, 0);
    const fresh = await ours(["-d", dir, "--list"]);
    assert.equal(fresh.code, CertutilExit.Success, fresh.stderr);
    const rows = fresh.stdout.trim().split("\n").map((l) => l.split(/ {2,}/));
    assert.deepEqual(rows[0], ["FILE", "SUBJECT", "SERIAL", "NOT AFTER", "STATUS"]);
    assert.deepEqual(rows.slice(1).map((r) => r[4]), ["valid", "valid"]);

    // The C tool's certificates live 100 years: a warning of 200 years covers them.
    const far = await ours(["-d", dir, "--list", "--warn-days", "73000"]);
    assert.equal(far.code, CertutilExit.Attention);
    assert.match(far.stdout, /EXPIRES IN \d+ DAYS/);
    assert.match(
      far.stderr,
      /^2 certificate\(s\) expired, not yet valid or expiring within 73000 days\n$/,
    );

    const bad = await ours(["-d", dir, "--list", "--warn-days", "soon"]);
    assert.equal(bad.code, CertutilExit.Failure);
    assert.match(bad.stderr, /--warn-days: "soon" is not a number of days/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--list --json: an expired cluster certificate is flagged, exit 3, the rest valid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-list-json-" });
  try {
    assert.equal((await ours(["-i", "-d", dir])).code, 0);
    const notAfter = new Date(Date.now() - 3 * 86_400_000);
    await Deno.writeTextFile(
      `${dir}/cluster-Old.crt`,
      await clusterCertificate("Old", new Date(notAfter.getTime() - 86_400_000), notAfter),
    );
    const r = await ours(["-d", dir, "--list", "--json"]);
    assert.equal(r.code, CertutilExit.Attention, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.schema_version, 1);
    assert.equal(doc.directory, dir);
    assert.equal(doc.warn_days, 30);
    assert.ok(Math.abs(Date.parse(doc.time) - Date.now()) < 60_000, doc.time);
    assert.deepEqual(
      doc.certificates.map((c: { source: string; status: string }) => [c.source, c.status]),
      [
        ["cert9.db:QNet CA", "valid"],
        ["cert9.db:QNetd Cert", "valid"],
        ["cluster-Old.crt", "expired"],
      ],
    );
    const old = doc.certificates[2];
    assert.equal(old.subject, "CN=Old");
    assert.equal(old.serial, "127");
    assert.ok(old.days_left <= -3 && old.days_left >= -4, String(old.days_left));
    assert.equal(old.not_after, notAfter.toISOString().replace(/\.\d{3}Z$/, "Z"));
    assert.equal(doc.needing_attention, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
