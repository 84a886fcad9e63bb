/**
 * The one fake qdevice client of the daemon tests: a TCP connection that speaks as
 * corosync-qdevice does, answers every VOTE_INFO with a VOTE_INFO_REPLY (unless silenced),
 * and keeps what it received and what that means for its vote, the way the in-memory Harness
 * (tests/support/arbiter_harness.ts) tracks a node.
 *
 * Reading is pulled, never done behind the test's back: messages are read while the test
 * waits for something (a reply, an echo), so a test can also stop reading (a client that
 * never reads) or read the raw connection ({@linkcode QdeviceClient.conn}) itself. Every wait
 * is bounded, so a misbehaving daemon fails a test instead of hanging it.
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
  Vote,
  voteName,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { WireConn } from "./wire_conn.ts";

/** How long any single wait for the daemon may take before the test fails. */
export const CLIENT_WAIT_MS = 10_000;

/** Options of {@linkcode QdeviceClient.connect}. */
export interface QdeviceClientOptions {
  /** The node id the client speaks for (0 when it does not matter). */
  readonly nodeId?: number;
  /** The sequence number before the first request (default 100). */
  readonly seq?: number;
  /** Send each write at once (TCP_NODELAY), as the conformance harness does. */
  readonly noDelay?: boolean;
}

/** Write errors that mean the daemon closed (or reset) the connection. */
const CONNECTION_GONE = [
  Deno.errors.BrokenPipe,
  Deno.errors.ConnectionReset,
  Deno.errors.NotConnected,
];

/** The connection is gone: the daemon closed it (or reset it). */
export class ClientClosedError extends Error {
  override name = "ClientClosedError";
}

/** One connected fake qdevice and what it has seen. */
export class QdeviceClient implements Disposable {
  readonly conn: WireConn;
  readonly name: string;
  readonly nodeId: number;
  readonly localPort: number;
  /** The last request's sequence number (C `msg_seq_num`); {@linkcode nextSeq} advances it. */
  seq: number;
  /** Every message received, decoded, in order. */
  readonly received: DecodedMsg[] = [];
  /** The last ACK/NACK delivered (by a reply or a VOTE_INFO), as `voteName()` prints it. */
  lastAckNack: string | undefined;
  /**
   * The effective vote, as Harness tracks it: the last ACK/NACK; undefined after ASK_LATER,
   * WAIT_FOR_REPLY or SERVER_ERROR.
   */
  vote: Vote | undefined;
  /** The last answer was WAIT_FOR_REPLY: an lms timer is pending for this node. */
  waiting = false;
  /** The error codes of every SERVER_ERROR received. */
  readonly errors: number[] = [];
  /** Answer VOTE_INFO with VOTE_INFO_REPLY (false: a silenced node). */
  autoReply = true;
  /** False once either side closed the connection. */
  connected = true;
  #echoSeq = 0;

  private constructor(conn: WireConn, name: string, options: QdeviceClientOptions) {
    this.conn = conn;
    this.name = name;
    this.nodeId = options.nodeId ?? 0;
    this.seq = options.seq ?? 100;
    this.localPort = conn.localPort;
  }

  static async connect(
    port: number,
    name: string,
    options: QdeviceClientOptions = {},
  ): Promise<QdeviceClient> {
    const conn = await WireConn.connect(port, "127.0.0.1", options.noDelay === true);
    return new QdeviceClient(conn, name, options);
  }

  /** The next sequence number, as the client numbers its requests. */
  nextSeq(): number {
    return ++this.seq;
  }

  /**
   * Sends `bytes` as they are. A connection the daemon closed is not an error here: the next
   * read reports it, after the messages the daemon sent before closing.
   */
  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.conn.write(bytes);
    } catch (error) {
      if (!CONNECTION_GONE.some((gone) => error instanceof gone)) throw error;
    }
  }

  /**
   * Sends `bytes` and reads up to the message of `replyType` or a SERVER_ERROR; returns what
   * arrived from the write on, the reply last.
   */
  async exchange(bytes: Uint8Array, replyType: number): Promise<DecodedMsg[]> {
    const before = this.received.length;
    await this.write(bytes);
    const at = await this.waitFor(
      before,
      (m) => m.type === replyType || m.type === MsgType.ServerError,
      `reply of type ${replyType}`,
    );
    return this.received.slice(before, at + 1);
  }

  /** Sends `bytes` and returns the reply of `replyType`; a SERVER_ERROR throws. */
  async request(bytes: Uint8Array, replyType: number): Promise<DecodedMsg> {
    const reply = (await this.exchange(bytes, replyType)).at(-1)!;
    if (reply.type === MsgType.ServerError) {
      throw new Error(`${this.name}: server error ${reply.replyErrorCode}`);
    }
    return reply;
  }

  /**
   * Sends an ECHO_REQUEST and reads up to its reply (which comes after everything the daemon
   * queued before it); true if a VOTE_INFO came meanwhile.
   */
  async sync(): Promise<boolean> {
    const before = this.received.length;
    const seqNumber = ++this.#echoSeq;
    await this.write(encodeEchoRequest({ seqNumber }));
    await this.waitFor(
      before,
      (m) => m.type === MsgType.EchoReply && m.seqNumber === seqNumber,
      "echo reply",
    );
    return this.received.slice(before).some((m) => m.type === MsgType.VoteInfo);
  }

  /**
   * Index of the first message at or after `from` that `match` accepts, reading until it
   * comes. Throws {@linkcode ClientClosedError} at end of connection, and after
   * {@linkcode CLIENT_WAIT_MS} without it.
   */
  async waitFor(from: number, match: (msg: DecodedMsg) => boolean, what: string): Promise<number> {
    const deadline = Date.now() + CLIENT_WAIT_MS;
    for (let i = from;; i++) {
      while (i >= this.received.length) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${this.name}: no ${what} within ${CLIENT_WAIT_MS} ms`);
        await this.#read(left, what);
      }
      if (match(this.received[i]!)) return i;
    }
  }

  /** Closes the connection from our side. */
  close(): void {
    this.connected = false;
    this.conn[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Reads one message and records it: the vote bookkeeping, then the automatic answer. */
  async #read(timeoutMs: number, what: string): Promise<void> {
    const r = await this.conn.readMessage(timeoutMs);
    if (r.kind === "eof") {
      this.connected = false;
      throw new ClientClosedError(`${this.name}: connection closed before ${what}`);
    }
    if (r.kind === "timeout") {
      throw new Error(`${this.name}: no ${what} within ${CLIENT_WAIT_MS} ms`);
    }
    const decoded = decodeMsg(r.bytes);
    if (!decoded.ok) throw new Error(`${this.name}: undecodable message (${decoded.failure})`);
    const msg = decoded.msg;
    this.received.push(msg);
    if (msg.type === MsgType.ServerError || msg.vote !== undefined) {
      this.waiting = msg.vote === Vote.WaitForReply;
    }
    if (msg.type === MsgType.ServerError) {
      this.errors.push(msg.replyErrorCode ?? -1);
      this.vote = undefined;
    } else if (msg.vote === Vote.Ack || msg.vote === Vote.Nack) {
      this.vote = msg.vote;
      this.lastAckNack = voteName(msg.vote);
    } else if (msg.vote === Vote.AskLater || msg.vote === Vote.WaitForReply) {
      this.vote = undefined;
    }
    if (msg.type === MsgType.VoteInfo && this.autoReply && msg.seqNumber !== undefined) {
      await this.write(encodeVoteInfoReply({ seqNumber: msg.seqNumber }));
    }
  }
}

/**
 * Lets every VOTE_INFO round finish: echo-syncs each client until a whole pass sees no
 * VOTE_INFO. Deterministic, because only our own messages trigger votes (DPD is off).
 */
export async function settle(clients: readonly QdeviceClient[], maxPasses = 20): Promise<void> {
  for (let pass = 0; pass < maxPasses; pass++) {
    let any = false;
    for (const c of clients) any = (await c.sync()) || any;
    if (!any) return;
  }
  throw new Error(`Votes did not settle in ${maxPasses} passes`);
}

/** Options of {@linkcode joinFfsplit}. */
export interface JoinFfsplitOptions {
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
  opts: JoinFfsplitOptions = {},
): Promise<QdeviceClient> {
  const members = opts.membership ?? config;
  const ring = { nodeId: members[0]!, seq: 1n };
  const c = await QdeviceClient.connect(port, `${cluster}/${nodeId}`, { nodeId });
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
