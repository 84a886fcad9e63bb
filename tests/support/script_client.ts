/**
 * A scripted QNet client for daemon tests: sends what corosync-qdevice would send, answers
 * VOTE_INFO with VOTE_INFO_REPLY as the real client does, and remembers the votes it got.
 * Every wait is bounded (WireConn), so a misbehaving daemon fails a test instead of hanging it.
 *
 * @module
 */
import { decodeMsg } from "../../core/protocol/decode.ts";
import {
  encodeConfigNodeList,
  encodeEchoRequest,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeVoteInfoReply,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeState,
  TieBreakerMode,
  voteName,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { WireConn } from "./wire_conn.ts";

/** One connected client and what it has seen. */
export class ScriptClient implements Disposable {
  readonly conn: WireConn;
  readonly name: string;
  /** Every message received, decoded, in order. */
  readonly received: DecodedMsg[] = [];
  /** The last ACK/NACK delivered (by a reply or a VOTE_INFO), as `voteName()` prints it. */
  lastAckNack: string | undefined;
  #seq = 100;
  #echoSeq = 0;

  private constructor(conn: WireConn, name: string) {
    this.conn = conn;
    this.name = name;
  }

  static async connect(port: number, name: string): Promise<ScriptClient> {
    return new ScriptClient(await WireConn.connect(port), name);
  }

  /** The next sequence number, as the client numbers its requests. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** Sends `bytes` and reads until a message of `replyType` arrives, answering VOTE_INFOs. */
  async request(bytes: Uint8Array, replyType: number): Promise<DecodedMsg> {
    await this.conn.write(bytes);
    for (;;) {
      const msg = await this.#next();
      if (msg.type === replyType) return msg;
      if (msg.type === MsgType.ServerError) {
        throw new Error(`${this.name}: server error ${msg.replyErrorCode}`);
      }
    }
  }

  /** Sends an ECHO_REQUEST and reads up to its reply; true if a VOTE_INFO came meanwhile. */
  async sync(): Promise<boolean> {
    const before = this.received.length;
    await this.request(encodeEchoRequest({ seqNumber: ++this.#echoSeq }), MsgType.EchoReply);
    return this.received.slice(before).some((m) => m.type === MsgType.VoteInfo);
  }

  async #next(): Promise<DecodedMsg> {
    const r = await this.conn.readMessage();
    if (r.kind !== "data") throw new Error(`${this.name}: connection ${r.kind}`);
    const decoded = decodeMsg(r.bytes);
    if (!decoded.ok) throw new Error(`${this.name}: undecodable reply (${decoded.failure})`);
    const msg = decoded.msg;
    this.received.push(msg);
    if (msg.vote === 1 || msg.vote === 2) this.lastAckNack = voteName(msg.vote);
    if (msg.type === MsgType.VoteInfo && msg.seqNumber !== undefined) {
      await this.conn.write(encodeVoteInfoReply({ seqNumber: msg.seqNumber }));
    }
    return msg;
  }

  [Symbol.dispose](): void {
    this.conn[Symbol.dispose]();
  }
}

/**
 * Lets every VOTE_INFO round finish: echo-syncs each client until a whole pass sees no
 * VOTE_INFO. Deterministic, because only our own messages trigger votes (DPD is off).
 */
export async function settle(clients: readonly ScriptClient[], maxPasses = 20): Promise<void> {
  for (let pass = 0; pass < maxPasses; pass++) {
    let any = false;
    for (const c of clients) any = (await c.sync()) || any;
    if (!any) return;
  }
  throw new Error(`Votes did not settle in ${maxPasses} passes`);
}

/** Options of {@linkcode joinFfsplit}. */
export interface JoinOptions {
  readonly heartbeat?: number;
  /** The membership this node reports (default: the whole configuration). */
  readonly membership?: readonly number[];
}

/**
 * Joins node `nodeId` of `cluster` as corosync-qdevice does (ffsplit, tie-breaker lowest,
 * configuration `config`): PREINIT, INIT, the initial config list, the membership list.
 * Closes the connection if a step fails.
 */
export async function joinFfsplit(
  port: number,
  cluster: string,
  nodeId: number,
  config: readonly number[],
  opts: JoinOptions = {},
): Promise<ScriptClient> {
  const members = opts.membership ?? config;
  const ring = { nodeId: members[0]!, seq: 1n };
  const c = await ScriptClient.connect(port, `${cluster}/${nodeId}`);
  try {
    await c.request(
      encodePreinit({ seqNumber: c.nextSeq(), clusterName: cluster }),
      MsgType.PreinitReply,
    );
    await c.request(
      encodeInit({
        seqNumber: c.nextSeq(),
        nodeId,
        decisionAlgorithm: DecisionAlgorithm.Ffsplit,
        heartbeatInterval: opts.heartbeat ?? 8000,
        tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
        ringId: ring,
      }),
      MsgType.InitReply,
    );
    await c.request(
      encodeConfigNodeList({
        seqNumber: c.nextSeq(),
        initial: true,
        nodes: config.map((id) => ({ nodeId: id, dataCenterId: 0, nodeState: NodeState.NotSet })),
      }),
      MsgType.NodeListReply,
    );
    await c.request(
      encodeMembershipNodeList({ seqNumber: c.nextSeq(), ringId: ring, nodeIds: [...members] }),
      MsgType.NodeListReply,
    );
  } catch (error) {
    c[Symbol.dispose]();
    throw error;
  }
  return c;
}
