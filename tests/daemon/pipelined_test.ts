/**
 * A client that writes many requests in one write and reads the replies gets every reply, from
 * ours as from corosync-qnetd 3.0.3 (issue 17, finding 3): the daemon stops decoding while the
 * client's send queue is at `max_client_send_buffers` instead of dropping the client. A client
 * that never reads is still dropped (tests/daemon/overload_test.ts, "never reads").
 */
import assert from "node:assert/strict";
import {
  ARBITER_KINDS,
  type ArbiterKind,
  joinFfsplit,
  needKind,
  settle,
  startArbiter,
  testNeeding,
} from "../support/mod.ts";
import { encodeEchoRequest } from "../../core/protocol/encode_client.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import { concatBytes } from "../../core/bytes.ts";

const PORTS: Record<ArbiterKind, number> = { qnet: 45010, c: 45011 };
/** Requests per write: the 40 and 100 (the C daemon answers all), and more. */
const BATCHES = [40, 100, 1000] as const;

for (const kind of ARBITER_KINDS) {
  testNeeding(needKind(kind), {
    name: `pipelined (${kind}): ${BATCHES.join(", ")} echo requests in one write are all answered`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind],
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      using node = await joinFfsplit(daemon.port, "pipelined", 1, [1]);
      await settle([node]);
      let seq = 1000;
      for (const count of BATCHES) {
        const first = seq + 1;
        const batch = concatBytes(
          Array.from({ length: count }, () => encodeEchoRequest({ seqNumber: ++seq })),
        );
        await node.conn.write(batch);
        const replies: number[] = [];
        while (replies.length < count) {
          const r = await node.conn.readMessage();
          assert.equal(
            r.kind,
            "data",
            `${kind}: ${replies.length} of ${count} replies, then ${r.kind}:\n${daemon.stderr()}`,
          );
          const d = decodeMsg(r.kind === "data" ? r.bytes : new Uint8Array());
          assert.ok(d.ok, "undecodable reply");
          if (d.msg.type === MsgType.VoteInfo) continue;
          assert.equal(d.msg.type, MsgType.EchoReply);
          replies.push(d.msg.seqNumber!);
        }
        assert.deepEqual(replies, Array.from({ length: count }, (_, i) => first + i));
      }
      // Still connected and served.
      await settle([node]);
      assert.doesNotMatch(daemon.stderr(), /Can't alloc/);
    },
  });
}
