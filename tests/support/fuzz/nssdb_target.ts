/**
 * Fuzz target of the NSS database reader (core/nssdb/read.ts serverKeyMaterial(), what
 * readNssDb() runs on the rows it read): the input is the objects and metaData entries of a
 * database pair in a compact binary form, seeded with the database the real
 * corosync-qnetd-certutil made (tests/fixtures/nssdb). The reader must end in its result or in
 * an NssDbError, never another exception (the second seed is a database NSS converted from DBM,
 * with legacy 3DES keys); what it returns must hold together (the key is the
 * certificate's, every certificate parses).
 *
 * Record format (big-endian), repeated (metaData entries first, the password check leading,
 * then key4.db's objects, then cert9.db's): kind u8 (0 cert9.db object, 1 key4.db object, 2
 * metaData entry); an object is id u32, attribute count u8, then per attribute type u32,
 * length u16, value; an entry is id length u8, id, item1 length u16, item1, item2 flag u8,
 * item2 length u16, item2. A truncated record ends the input.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type NssObject, PASSWORD_META_ID } from "../../../core/nssdb/attributes.ts";
import { NssDbError } from "../../../core/nssdb/errors.ts";
import { type MetaEntry, type NssDbContent, serverKeyMaterial } from "../../../core/nssdb/read.ts";
import { pkcs8ToRsaParts } from "../../../core/nssdb/rsa_key.ts";
import { certificateFields } from "../../../core/nssdb/x509_fields.ts";
import { bytesEqual } from "../../../core/nssdb/der.ts";
import { loadNssDb } from "../../../cli/nss_db_files.ts";
import type { FuzzTarget } from "./targets.ts";

const FIXTURES = ["c-qnetd-certutil", "c-qnetd-certutil-dbm-converted"].map((name) =>
  new URL(`../../fixtures/nssdb/${name}`, import.meta.url).pathname
);

const KIND_PUBLIC = 0;
const KIND_PRIVATE = 1;
const KIND_META = 2;

class Writer {
  readonly parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
  }
  u16(v: number) {
    this.parts.push((v >> 8) & 0xff, v & 0xff);
  }
  u32(v: number) {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
  }
}

/** The binary form of a database's content. */
export function encodeNssContent(content: NssDbContent): Uint8Array {
  const w = new Writer();
  const object = (kind: number, o: NssObject) => {
    w.u8(kind);
    w.u32(o.id);
    w.u8(o.attributes.size);
    for (const [type, value] of o.attributes) {
      w.u32(type);
      w.u16(value.length);
      w.bytes(value);
    }
  };
  // The password check first: most mutations then still reach the key and trust checks.
  const entries = [...content.meta].sort(([a], [b]) =>
    Number(b === PASSWORD_META_ID) - Number(a === PASSWORD_META_ID)
  );
  for (const [id, entry] of entries) {
    const idBytes = new TextEncoder().encode(id);
    w.u8(KIND_META);
    w.u8(idBytes.length);
    w.bytes(idBytes);
    w.u16(entry.item1.length);
    w.bytes(entry.item1);
    w.u8(entry.item2 === undefined ? 0 : 1);
    w.u16(entry.item2?.length ?? 0);
    if (entry.item2 !== undefined) w.bytes(entry.item2);
  }
  for (const o of content.privateObjects) object(KIND_PRIVATE, o);
  for (const o of content.publicObjects) object(KIND_PUBLIC, o);
  return new Uint8Array(w.parts);
}

/** The content of a binary form; tolerant: a truncated record ends it. */
export function decodeNssContent(input: Uint8Array): NssDbContent {
  const publicObjects: NssObject[] = [];
  const privateObjects: NssObject[] = [];
  const meta = new Map<string, MetaEntry>();
  let at = 0;
  const need = (n: number) => {
    if (at + n > input.length) throw new RangeError("truncated");
  };
  const u8 = () => (need(1), input[at++]!);
  const u16 = () => (need(2), at += 2, (input[at - 2]! << 8) | input[at - 1]!);
  const u32 = () => (need(4),
    at += 4,
    new DataView(input.buffer, input.byteOffset + at - 4, 4)
      .getUint32(0));
  const bytes = (n: number) => (need(n), at += n, input.slice(at - n, at));
  try {
    while (at < input.length) {
      const kind = u8() % 3;
      if (kind === KIND_META) {
        const id = new TextDecoder().decode(bytes(u8()));
        const item1 = bytes(u16());
        const present = u8() & 1;
        const item2 = bytes(u16());
        meta.set(id, { item1, item2: present ? item2 : undefined });
        continue;
      }
      const id = u32();
      const attributes = new Map<number, Uint8Array>();
      for (let n = u8(); n > 0; n--) {
        const type = u32();
        attributes.set(type, bytes(u16()));
      }
      (kind === KIND_PUBLIC ? publicObjects : privateObjects).push({ id, attributes });
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return {
    certFile: "fuzz/cert9.db",
    keyFile: "fuzz/key4.db",
    publicObjects,
    privateObjects,
    meta,
  };
}

/** The seeds: the database the real corosync-qnetd-certutil made, and one NSS converted from DBM. */
export async function nssdbSeeds(): Promise<Uint8Array[]> {
  const seeds: Uint8Array[] = [];
  for (const dir of FIXTURES) seeds.push(encodeNssContent(await loadNssDb(dir)));
  return seeds;
}

export const nssdbTarget: FuzzTarget = {
  name: "nssdb",
  maxLength: 16_000,
  seeds: nssdbSeeds,
  async run(input) {
    const content = decodeNssContent(input);
    let material;
    try {
      material = await serverKeyMaterial(content, "QNetd Cert");
    } catch (error) {
      if (error instanceof NssDbError) {
        assert.ok(!error.message.includes("\n"), "one line");
        assert.ok(error.message.includes(error.path), "names the file");
        return;
      }
      throw error;
    }
    const cert = certificateFields(material.certDer);
    const key = pkcs8ToRsaParts(material.keyPkcs8Der);
    assert.ok(cert.rsaPublicKey !== undefined, "an RSA certificate");
    assert.ok(bytesEqual(cert.rsaPublicKey.modulus, key.modulus), "the certificate's key");
    assert.ok(material.caCertsDer.length > 0, "a trusted CA");
    for (const ca of material.caCertsDer) certificateFields(ca);
  },
};
