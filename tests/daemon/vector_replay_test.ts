/**
 * Replays every captured malformed-input case against a live daemon, ours and (when
 * installed) the real corosync-qnetd, and checks the same reply bytes and the same
 * connection outcome as recorded from the C daemon.
 */
import assert from "node:assert/strict";
import {
  type ArbiterKind,
  bytesToHex,
  loadFullSession,
  loadMalformed,
  needKind,
  startArbiter,
  testNeeding,
  type VectorEvent,
  WireConn,
} from "../support/mod.ts";
import { encodePreinit } from "../../core/protocol/encode_client.ts";
import { encodeServerMsg } from "../../core/protocol/encode_server.ts";
import { MsgType, TlsSupported } from "../../core/protocol/constants.ts";

const cases = await loadMalformed();
const session = await loadFullSession();

/** Writes the client's bytes and checks the server's, event by event. */
async function replay(conn: WireConn, events: readonly VectorEvent[]): Promise<void> {
  for (const [i, event] of events.entries()) {
    if (event.dir === "C->S") {
      await conn.write(event.bytes);
    } else if (event.eof) {
      assert.ok(await conn.expectEof(), `event ${i}: expected the server to close`);
    } else {
      const got = await conn.readExactly(event.bytes.length);
      assert.equal(got.kind, "data", `event ${i}: expected a reply (${event.note})`);
      assert.equal(
        bytesToHex(got.kind === "data" ? got.bytes : new Uint8Array()),
        bytesToHex(event.bytes),
        `event ${i}: reply bytes (${event.note})`,
      );
    }
  }
}

/**
 * Cases that end inside a message (a partial header, or a body being skipped): a probe
 * message would become part of it, so openness is shown by the recorded events alone.
 */
const NO_PROBE = new Set([1, 8]);

const PORTS: Record<ArbiterKind, number> = { qnet: 16511, c: 16512 };

for (const kind of ["qnet", "c"] as const) {
  testNeeding(needKind(kind), {
    name: `malformed input: ${kind} daemon answers every captured case as corosync-qnetd did`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind],
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      await t.step(`full session: ${session.title}`, async () => {
        using conn = await WireConn.connect(daemon.port);
        await replay(conn, session.events);
      });
      for (const c of cases) {
        await t.step(c.title, async () => {
          using conn = await WireConn.connect(daemon.port);
          await replay(conn, c.events);
          const closedInCapture = c.events.at(-1)?.eof ?? false;
          assert.equal(!closedInCapture, c.connectionOpenAfter);
          if (c.connectionOpenAfter && !NO_PROBE.has(c.case)) {
            // Still open, and nothing unexpected queued: a PREINIT is always answered.
            await conn.write(encodePreinit({ seqNumber: 0xabcd, clusterName: "probe" }));
            const reply = await conn.readMessage();
            assert.equal(reply.kind, "data", "the connection must still be open");
            assert.equal(
              bytesToHex(reply.kind === "data" ? reply.bytes : new Uint8Array()),
              bytesToHex(encodeServerMsg({
                type: MsgType.PreinitReply,
                seqNumber: 0xabcd,
                tlsSupported: TlsSupported.Unsupported,
                tlsClientCertRequired: true,
              })),
            );
          }
        });
      }
    },
  });
}
