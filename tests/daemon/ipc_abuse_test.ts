/**
 * A local socket full of stuck and oversized clients must not delay the arbiter: a cluster
 * node still gets its vote, and once the abusers go, the real corosync-qnetd-tool answers.
 */
import assert from "node:assert/strict";
import {
  encodeConfigNodeList,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeState,
  TieBreakerMode,
} from "../../core/protocol/constants.ts";
import { needProgram, QdeviceClient, settle, startArbiter, testNeeding } from "../support/mod.ts";

testNeeding(needProgram("/usr/bin/corosync-qnetd-tool", "corosync-qnetd"), {
  name: "IPC abuse: stuck and oversized local clients do not stop votes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using daemon = await startArbiter("qnet", {
      port: 16551,
      args: ["-s", "off"],
      settings: { "dpd_enabled": "off", "ipc_max_clients": "4" },
    });
    // More local clients than allowed, none of them finishing a line; one floods bytes.
    const abusers: Deno.UnixConn[] = [];
    for (let i = 0; i < 8; i++) {
      abusers.push(await Deno.connect({ transport: "unix", path: daemon.socketPath }));
    }
    await abusers[0]!.write(new Uint8Array(3000).fill(0x41)).catch(() => 0);
    await abusers[1]!.write(new Uint8Array(6000).fill(0x42)).catch(() => 0);
    try {
      using node = await QdeviceClient.connect(daemon.port, "abuse/1");
      await node.request(
        encodePreinit({ seqNumber: node.nextSeq(), clusterName: "abuse" }),
        MsgType.PreinitReply,
      );
      await node.request(
        encodeInit({
          seqNumber: node.nextSeq(),
          nodeId: 1,
          decisionAlgorithm: DecisionAlgorithm.Ffsplit,
          heartbeatInterval: 8000,
          tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
          ringId: { nodeId: 1, seq: 1n },
        }),
        MsgType.InitReply,
      );
      await node.request(
        encodeConfigNodeList({
          seqNumber: node.nextSeq(),
          initial: true,
          nodes: [{ nodeId: 1, dataCenterId: 0, nodeState: NodeState.NotSet }],
        }),
        MsgType.NodeListReply,
      );
      await node.request(
        encodeMembershipNodeList({
          seqNumber: node.nextSeq(),
          ringId: { nodeId: 1, seq: 1n },
          nodeIds: [1],
        }),
        MsgType.NodeListReply,
      );
      await settle([node]);
      assert.equal(node.lastAckNack, "ACK", "the vote came while the local socket was abused");
      for (const c of abusers.splice(0)) c.close();
      // With the abusers gone the local socket serves again (bounded retries: closes are async).
      let out = "";
      for (let i = 0; i < 50 && !out.includes("Connected clusters:"); i++) {
        const r = await new Deno.Command("/usr/bin/corosync-qnetd-tool", {
          args: ["-s", "-p", daemon.socketPath],
        }).output().catch(() => undefined);
        out = r === undefined ? "" : new TextDecoder().decode(r.stdout);
        if (!out.includes("Connected clusters:")) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(out, /Connected clusters:\t\t1\n/);
    } finally {
      for (const c of abusers) c.close();
    }
  },
});
