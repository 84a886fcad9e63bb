/**
 * TLS output is bounded by the send limit (issue 17, finding 4): a TLS 1.3 peer that keeps
 * asking for key updates and never reads makes OpenSSL write one KeyUpdate per request; the
 * daemon queues that output under `max_client_send_buffers`, stops reading while the queue is
 * full, and drops the peer once the queue has stalled. Ours only: corosync-qnetd's NSS has no
 * such queue to grow.
 */
import assert from "node:assert/strict";
import {
  CLUSTER,
  handshake,
  makePki,
  type MemoryClient,
  MemoryClientContext,
  type Pki,
  procFile,
  requestKeyUpdates,
  startArbiter,
  WireConn,
} from "../support/mod.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import { concatBytes } from "../../core/bytes.ts";

const PORT = 45020;
/** Key update requests per write (about 27 bytes of TLS record each). */
const PER_WRITE = 2000;
/** The peer gives up after this much (the daemon must drop it long before). */
const MAX_BYTES = 96 * 1024 * 1024;
/** A write that blocks this long: the daemon stopped reading and did not drop the peer. */
const WRITE_BLOCKED_MS = 20_000;
/** Resident memory may grow by at most this much (a bound, not a measure). */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;

function certDir(pki: Pki): string {
  const dir = `${pki.dir}/qnetd`;
  Deno.mkdirSync(dir);
  Deno.copyFileSync(pki.caCert, `${dir}/qnet-ca.pem`);
  Deno.copyFileSync(pki.serverCert, `${dir}/qnetd-cert.pem`);
  Deno.copyFileSync(pki.serverKey, `${dir}/qnetd-key.pem`);
  return dir;
}

function rss(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(procFile(pid, "status"))?.[1];
  assert.ok(kib !== undefined, "VmRSS missing");
  return Number(kib) * 1024;
}

/** Everything the client's write BIO holds. */
function outgoing(client: MemoryClient): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 100_000; i++) {
    const part = client.takeOutgoing();
    if (part.length === 0) break;
    parts.push(part);
  }
  return concatBytes(parts);
}

Deno.test({
  name: "TLS (qnet): a peer that requests key updates and never reads is dropped, memory bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using pki = await makePki();
    await using daemon = await startArbiter("qnet", {
      port: PORT,
      args: ["-s", "on"],
      settings: { dpd_enabled: "off", nss_db_dir: certDir(pki) },
    });
    using ctx = new MemoryClientContext({
      caFile: pki.caCert,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
    });
    using conn = await WireConn.connect(daemon.port);
    await conn.write(encodePreinit({ seqNumber: 1, clusterName: CLUSTER }));
    const reply = await conn.readMessage();
    assert.equal(reply.kind, "data");
    const d = decodeMsg(reply.kind === "data" ? reply.bytes : new Uint8Array());
    assert.ok(d.ok && d.msg.type === MsgType.PreinitReply);
    await conn.write(encodeStartTls({ seqNumber: 2 }));
    const { client, handshake: outcome } = await handshake(conn, ctx);
    using _client = client;
    assert.equal(outcome, "done", client.failed);
    const baseline = rss(daemon.process.pid);

    // Key update requests in a loop, never reading a byte.
    let sent = 0;
    let dropped: unknown;
    while (sent < MAX_BYTES && dropped === undefined) {
      requestKeyUpdates(client, PER_WRITE);
      const batch = outgoing(client);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const blocked = new Promise<"blocked">((r) => {
        timer = setTimeout(() => r("blocked"), WRITE_BLOCKED_MS);
      });
      const result = await Promise.race([
        conn.write(batch).then(() => "written" as const, (error) => error),
        blocked,
      ]);
      clearTimeout(timer);
      assert.notEqual(
        result,
        "blocked",
        `a write blocked for ${WRITE_BLOCKED_MS} ms after ${sent} bytes: not read, not dropped`,
      );
      if (result === "written") sent += batch.length;
      else dropped = result;
    }
    assert.ok(dropped !== undefined, `not dropped after ${sent} bytes of key update requests`);
    assert.match(daemon.stderr(), /Can't queue TLS output: client send queue is full/);
    const growth = rss(daemon.process.pid) - baseline;
    assert.ok(growth < RSS_GROWTH_BOUND, `resident memory grew by ${growth} bytes`);
    await daemon.assertServing();
  },
});
