/**
 * A full scripted session against a running daemon, shared by the permission tests: two
 * nodes of cluster `audit` through PREINIT, INIT, options, config, membership and quorum
 * node lists, up to an ACK vote.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  encodeConfigNodeList,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeState,
  TieBreakerMode,
} from "../../core/protocol/constants.ts";
import { QdeviceClient, settle } from "./qdevice_client.ts";

/** The cluster name the session's nodes use. */
export const SESSION_CLUSTER = "audit";

/**
 * Two nodes of one cluster through INIT, options, config, membership and quorum, to an ACK;
 * `during` runs while both are connected.
 */
export async function fullSession(port: number, during: () => Promise<void>): Promise<void> {
  const clients: QdeviceClient[] = [];
  try {
    for (const nodeId of [1, 2]) {
      const c = await QdeviceClient.connect(port, `${SESSION_CLUSTER}/${nodeId}`);
      clients.push(c);
      await c.request(
        encodePreinit({ seqNumber: c.nextSeq(), clusterName: SESSION_CLUSTER }),
        MsgType.PreinitReply,
      );
      const init = await c.request(
        encodeInit({
          seqNumber: c.nextSeq(),
          nodeId,
          decisionAlgorithm: DecisionAlgorithm.Ffsplit,
          heartbeatInterval: 8000,
          tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
          ringId: { nodeId: 1, seq: 4n },
        }),
        MsgType.InitReply,
      );
      assert.equal(init.replyErrorCode, 0);
      await c.request(
        encodeSetOption({ seqNumber: c.nextSeq(), heartbeatInterval: 8000 }),
        MsgType.SetOptionReply,
      );
      const nodes = [1, 2].map((id) => ({
        nodeId: id,
        dataCenterId: 0,
        nodeState: NodeState.NotSet,
      }));
      await c.request(
        encodeConfigNodeList({ seqNumber: c.nextSeq(), initial: true, nodes }),
        MsgType.NodeListReply,
      );
      await c.request(
        encodeMembershipNodeList({
          seqNumber: c.nextSeq(),
          ringId: { nodeId: 1, seq: 4n },
          nodeIds: [1, 2],
        }),
        MsgType.NodeListReply,
      );
      await c.request(
        encodeQuorumNodeList({
          seqNumber: c.nextSeq(),
          quorate: 1,
          nodes: [1, 2].map((id) => ({ nodeId: id, dataCenterId: 0, nodeState: NodeState.Member })),
        }),
        MsgType.NodeListReply,
      );
      await settle(clients);
    }
    assert.equal(clients[0]!.lastAckNack, "ACK");
    await during();
  } finally {
    for (const c of clients) c[Symbol.dispose]();
  }
}
