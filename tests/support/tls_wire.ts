/**
 * A TLS client session over a {@linkcode WireConn}, for daemon tests: the handshake right after
 * STARTTLS (on the same socket, as corosync-qdevice does it) and one request over TLS. The
 * TLS engine is the OpenSSL memory-BIO client of tests/support/tls/memory_client.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { MemoryClient, type MemoryClientContext } from "./tls/memory_client.ts";
import type { WireConn } from "./wire_conn.ts";

/**
 * How a handshake ended: completed, failed in OpenSSL (the reason is in `client.failed`), or the
 * daemon closed the socket. A daemon that neither answers nor closes is none of these: the
 * handshake then fails the test (a hung daemon must never pass as a refusal).
 */
export type HandshakeOutcome = "done" | "failed" | "closed";

/**
 * Runs the client side of the handshake on `conn` (STARTTLS already sent). A write the daemon
 * no longer reads is ignored: the next read then tells how the daemon ended the session.
 */
export async function handshake(
  conn: WireConn,
  context: MemoryClientContext,
): Promise<{ client: MemoryClient; handshake: HandshakeOutcome }> {
  const client = new MemoryClient(context);
  client.receive(new Uint8Array(0));
  for (let round = 0; round < 20 && !client.done && client.failed === ""; round++) {
    const out = client.takeOutgoing();
    if (out.length > 0) await conn.write(out).catch(() => {});
    if (client.done) break;
    const r = await conn.readExactly(1);
    if (r.kind === "eof") return { client, handshake: "closed" };
    assert.equal(r.kind, "data", "the daemon neither answered the handshake nor closed");
    client.receive(r.kind === "data" ? r.bytes : new Uint8Array());
    // Take whatever else is already buffered without waiting.
    for (;;) {
      const more = await conn.readExactly(1, 20);
      if (more.kind !== "data") break;
      client.receive(more.bytes);
    }
  }
  const out = client.takeOutgoing();
  if (out.length > 0) await conn.write(out).catch(() => {});
  return { client, handshake: client.done ? "done" : "failed" };
}

/**
 * Sends `msg` over TLS and returns the decrypted reply; "eof" when the daemon closes the
 * connection without a TLS alert, "alert" when OpenSSL reports that the session ended with one
 * (its text is then in `client.failed`). A daemon that neither answers nor closes fails the test.
 */
export async function tlsRequest(
  conn: WireConn,
  client: MemoryClient,
  msg: Uint8Array,
): Promise<DecodedMsg | "eof" | "alert"> {
  client.send(msg);
  await conn.write(client.takeOutgoing()).catch(() => {});
  let plain: Uint8Array = new Uint8Array(0);
  for (;;) {
    if (plain.length >= 6) {
      const len = new DataView(plain.buffer, plain.byteOffset).getUint32(2);
      if (plain.length >= 6 + len) {
        const d = decodeMsg(plain.subarray(0, 6 + len));
        assert.ok(d.ok);
        return d.msg;
      }
    }
    const r = await conn.readExactly(1);
    if (r.kind === "eof") return client.failed === "" ? "eof" : "alert";
    assert.equal(r.kind, "data", "the daemon neither answered over TLS nor closed");
    const got = client.receive(r.kind === "data" ? r.bytes : new Uint8Array());
    if (client.failed !== "") return "alert";
    plain = concatBytes([plain, got]);
  }
}
