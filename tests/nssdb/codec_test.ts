/**
 * The pure codecs of core/nssdb against fixed vectors: MD5 (RFC 1321), DER bounds, OIDs, the
 * ULONG and column encodings, metaData ids, trust flags, PKCS #8 <-> RSA numbers, and PBES2 and
 * PBMAC1 against an entry NSS wrote (the C tool's key4.db).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { md5 } from "../../core/nssdb/md5.ts";
import { decryptDesEde3Cbc } from "../../core/nssdb/des.ts";
import {
  DerError,
  encodeOid,
  encodeSmallInteger,
  encodeUnsignedInteger,
  readElement,
} from "../../core/nssdb/der.ts";
import {
  CKA,
  CKT,
  columnName,
  columnType,
  decodeUlong,
  encodeUlong,
  signatureMetaId,
  storedValue,
  toStored,
} from "../../core/nssdb/attributes.ts";
import {
  decodeEntry,
  decryptEntry,
  encryptEntry,
  OID,
  passwordKey,
  signAttribute,
  verifyAttribute,
} from "../../core/nssdb/pbe.ts";
import { pkcs8ToRsaParts, rsaPartsToPkcs8 } from "../../core/nssdb/rsa_key.ts";
import { parseTrustFlags } from "../../core/nssdb/write.ts";

const FIXTURE = new URL("../fixtures/nssdb/c-qnetd-certutil", import.meta.url).pathname;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("md5: the RFC 1321 test suite", () => {
  const vectors: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of vectors) assert.equal(hex(md5(text(input))), digest, input);
});

Deno.test("der: bounded reads, OIDs and integers as NSS encodes them", () => {
  assert.equal(hex(encodeOid(OID.pbes2)), "06092a864886f70d01050d");
  assert.equal(hex(encodeOid(OID.aes256Cbc)), "060960864801650304012a");
  assert.equal(hex(encodeSmallInteger(1)), "020101");
  assert.equal(hex(encodeSmallInteger(32)), "020120");
  assert.equal(hex(encodeUnsignedInteger(bytes("0080"))), "02020080");
  assert.equal(hex(encodeUnsignedInteger(bytes("000001"))), "020101");
  const ok = readElement(bytes("04020102ff"));
  assert.equal(hex(ok.content), "0102");
  for (const bad of ["", "04", "0403aabb", "0480", "0485ffffffffff00", "048201"]) {
    assert.throws(() => readElement(bytes(bad)), DerError, bad);
  }
});

Deno.test("attributes: ULONGs, explicit null, columns and signature ids as sdb.c stores them", () => {
  assert.equal(hex(encodeUlong(CKT.trustedDelegator)), "ce534352");
  assert.equal(decodeUlong(bytes("ce534353")), CKT.mustVerifyTrust);
  assert.equal(decodeUlong(bytes("010203")), undefined);
  assert.equal(columnName(CKA.trustClientAuth), "ace536359");
  assert.equal(columnName(CKA.class), "a0");
  assert.equal(columnType("ad5a0db00"), CKA.nssDb);
  assert.equal(columnType("id"), undefined);
  assert.equal(hex(toStored(new Uint8Array())), "a5005a");
  assert.equal(storedValue(bytes("a5005a")).length, 0);
  assert.equal(signatureMetaId("key", 0x2453b74e, CKA.coefficient), "sig_key_2453b74e_00000128");
  assert.equal(
    signatureMetaId("cert", 609466193, CKA.trustStepUpApproved),
    "sig_cert_2453b751_ce536360",
  );
});

Deno.test("trust flags: certutil's notation to CKT values (CT,, as in the C tool's database)", () => {
  assert.deepEqual(parseTrustFlags("CT,,"), {
    serverAuth: CKT.trustedDelegator,
    clientAuth: CKT.trustedDelegator,
    emailProtection: CKT.mustVerifyTrust,
    codeSigning: CKT.mustVerifyTrust,
  });
  assert.equal(parseTrustFlags("u,u,u"), undefined);
  assert.equal(parseTrustFlags(",,"), undefined);
  assert.equal(parseTrustFlags("P,,")?.serverAuth, CKT.trusted);
  assert.equal(parseTrustFlags("c,,")?.serverAuth, CKT.validDelegator);
  assert.equal(parseTrustFlags("p,,")?.clientAuth, CKT.notTrusted);
  for (const bad of ["CT", "CT,,,", "X,,", "CT;,"]) assert.throws(() => parseTrustFlags(bad));
});

Deno.test("rsa_key: PKCS #8 from WebCrypto to NSS's numbers and back, byte for byte", async () => {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const parts = pkcs8ToRsaParts(der);
  assert.equal(parts.modulus.length, 256);
  assert.equal(hex(parts.publicExponent), "010001");
  assert.deepEqual(rsaPartsToPkcs8(parts), der);
  assert.throws(() => pkcs8ToRsaParts(der.subarray(0, 100)), DerError);
});

Deno.test("pbe: NSS's password check entry decrypts to 'password-check' with the empty password", async () => {
  const db = new DatabaseSync(`${FIXTURE}/key4.db`, { readOnly: true });
  const row = db.prepare("SELECT item1, item2 FROM metaData WHERE id = 'password'").get() as {
    item1: Uint8Array;
    item2: Uint8Array;
  };
  db.close();
  const entry = decodeEntry(row.item2, "password check");
  assert.equal(entry.kind, "pbes2");
  if (entry.kind !== "pbes2") return;
  assert.equal(entry.kdf.iterations, 1);
  assert.equal(entry.kdf.hash, "SHA-256");
  assert.equal(entry.iv.length, 16);
  assert.equal(entry.iv[0], 0x04); // the DER header NSS keeps in its IV
  assert.equal(entry.iv[1], 0x0e);
  const key = await passwordKey(row.item1, "");
  assert.equal(new TextDecoder().decode(await decryptEntry(key, entry)), "password-check");
  assert.equal(await decryptEntry(await passwordKey(row.item1, "x"), entry), undefined);
});

Deno.test("pbe: encrypt/decrypt and sign/verify round trips; a signature binds id and type", async () => {
  const key = await passwordKey(bytes("00".repeat(20)), "");
  const plain = text("private exponent");
  const cipher = decodeEntry(await encryptEntry(key, plain, 1), "entry");
  assert.equal(cipher.kind, "pbes2");
  if (cipher.kind === "pbes2") assert.deepEqual(await decryptEntry(key, cipher), plain);
  const signature = await signAttribute(key, 7, CKA.modulus, plain, 1);
  assert.equal(await verifyAttribute(key, signature, 7, CKA.modulus, plain), true);
  assert.equal(await verifyAttribute(key, signature, 8, CKA.modulus, plain), false);
  assert.equal(await verifyAttribute(key, signature, 7, CKA.publicExponent, plain), false);
  assert.equal(await verifyAttribute(key, signature, 7, CKA.modulus, text("other")), false);
});

Deno.test("des: DES-EDE3-CBC decryption agrees with OpenSSL's des-ede3-cbc", async () => {
  const key = bytes("0123456789abcdeffedcba987654321089abcdef01234567");
  const iv = bytes("1234567890abcdef");
  assert.equal(
    new TextDecoder().decode(decryptDesEde3Cbc(key, iv, bytes("5955b45080d34e7384861f82ed858107"))),
    "password-check",
  );
  assert.deepEqual(decryptDesEde3Cbc(key, iv, bytes("d91818b74c5d4075")), new Uint8Array());
  // Random keys and data against the openssl CLI.
  for (let round = 0; round < 3; round++) {
    const k = crypto.getRandomValues(new Uint8Array(24));
    const v = crypto.getRandomValues(new Uint8Array(8));
    const plain = crypto.getRandomValues(new Uint8Array(5 + round * 13));
    const child = new Deno.Command("openssl", {
      args: ["enc", "-des-ede3-cbc", "-K", hex(k), "-iv", hex(v)],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(plain);
    await writer.close();
    const out = await child.output();
    if (!out.success) return; // an OpenSSL without 3DES: the fixed vectors above still hold
    assert.deepEqual(decryptDesEde3Cbc(k, v, out.stdout), plain);
  }
  assert.equal(decryptDesEde3Cbc(key, iv, bytes("5955b45080d34e7384861f82ed858108")), undefined);
});
