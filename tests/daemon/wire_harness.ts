/**
 * The conformance harness over TCP: the operations of the in-memory Harness
 * (tests/arbiter/harness.ts), played against a running daemon, ours or the real
 * corosync-qnetd. Each fake node is one connection that answers every VOTE_INFO (unless
 * silenced) and tracks its effective vote exactly as Harness does.
 *
 * Determinism without sleeping: after every message the votes are settled by echo round
 * trips (an ECHO_REPLY comes after everything the daemon queued before it on that
 * connection), and a disconnect is waited for on the daemon's local socket (the leaving
 * client is gone from `list`). Only lms timers need real time: settle() waits for the votes
 * the scenario expects (a VOTE_INFO the timer causes), bounded; only while a node's answer is
 * still WAIT_FOR_REPLY (a timer pending in the daemon) does it first give the timer a few
 * periods to fire. Every wait is bounded.
 *
 * @module
 */
import { decodeMsg } from "../../core/protocol/decode.ts";
import {
  encodeClientMsg,
  encodeEchoRequest,
  encodeInit,
  encodePreinit,
  encodeVoteInfoReply,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  type Heuristics,
  MsgType,
  NodeListType,
  Vote,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { IpcClientConnection } from "../../ipc/client.ts";
import { buildRequest } from "../../cli/qnetd_tool.ts";
import type { Replies, ScenarioHarness } from "../arbiter/conformance_rows.ts";
import { type JoinOptions, nodes, ring, voteText } from "../arbiter/harness.ts";

/** How long any single wait for the daemon may take before the test fails. */
const WAIT_MS = 10_000;
/** Echo passes before settling gives up (a vote round that never ends). */
const MAX_SETTLE_PASSES = 20;

/** The reply type of each request type the harness sends. */
const REPLY_OF = new Map<number, number>([
  [MsgType.Preinit, MsgType.PreinitReply],
  [MsgType.Init, MsgType.InitReply],
  [MsgType.SetOption, MsgType.SetOptionReply],
  [MsgType.EchoRequest, MsgType.EchoReply],
  [MsgType.NodeList, MsgType.NodeListReply],
  [MsgType.AskForVote, MsgType.AskForVoteReply],
  [MsgType.HeuristicsChange, MsgType.HeuristicsChangeReply],
]);

interface Waiter {
  readonly match: (msg: DecodedMsg) => boolean;
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
}

/** One fake node: a TCP connection with a reader that records and answers. */
class WireNode {
  readonly nodeId: number;
  readonly localPort: number;
  seq = 0;
  vote: Vote | undefined;
  /** The last answer was WAIT_FOR_REPLY: an lms timer is pending for this node. */
  waiting = false;
  /** Every message the daemon sent to it, decoded, in order. */
  readonly received: DecodedMsg[] = [];
  readonly errors: number[] = [];
  autoReply = true;
  /** False once either side closed the connection. */
  connected = true;
  readonly #conn: Deno.TcpConn;
  readonly #reader: Promise<void>;
  readonly #waiters = new Set<Waiter>();
  #writes: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  constructor(nodeId: number, conn: Deno.TcpConn) {
    this.nodeId = nodeId;
    this.#conn = conn;
    this.localPort = (conn.localAddr as Deno.NetAddr).port;
    this.#reader = this.#read();
  }

  /** Queues `bytes` behind earlier writes (VOTE_INFO_REPLYs come from the reader). */
  write(bytes: Uint8Array): Promise<void> {
    this.#writes = this.#writes.then(async () => {
      let rest = bytes;
      while (rest.length > 0) rest = rest.subarray(await this.#conn.write(rest));
    }).catch((error) => {
      this.#fail(new Error(`node ${this.nodeId}: write failed`, { cause: error }));
    });
    return this.#writes;
  }

  /** Index of the first message at or after `from` that `match` accepts, waiting for it. */
  waitFor(from: number, match: (msg: DecodedMsg) => boolean, what: string): Promise<number> {
    const found = this.received.findIndex((msg, i) => i >= from && match(msg));
    if (found >= 0) return Promise.resolve(found);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`node ${this.nodeId}: no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const waiter: Waiter = {
        match,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(new Error(`node ${this.nodeId}: no ${what}`, { cause: error }));
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Closes the connection from our side and waits for the reader to stop. */
  async close(): Promise<void> {
    this.connected = false;
    await this.#writes;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    await this.#reader;
  }

  async #read(): Promise<void> {
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) break;
      const next = new Uint8Array(buffer.length + n);
      next.set(buffer);
      next.set(chunk.subarray(0, n), buffer.length);
      buffer = next;
      while (buffer.length >= 6) {
        const total = 6 + new DataView(buffer.buffer, buffer.byteOffset).getUint32(2);
        if (buffer.length < total) break;
        this.#handle(buffer.slice(0, total));
        buffer = buffer.slice(total);
      }
    }
    this.connected = false;
    this.#fail(new Error(`node ${this.nodeId}: connection closed`));
  }

  /** Records one message: the vote bookkeeping of Harness, then the automatic answer. */
  #handle(bytes: Uint8Array): void {
    const decoded = decodeMsg(bytes);
    if (!decoded.ok) {
      this.#fail(new Error(`node ${this.nodeId}: undecodable message (${decoded.failure})`));
      return;
    }
    const msg = decoded.msg;
    const index = this.received.push(msg) - 1;
    if (msg.type === MsgType.ServerError || msg.vote !== undefined) {
      this.waiting = msg.vote === Vote.WaitForReply;
    }
    if (msg.type === MsgType.ServerError) {
      this.errors.push(msg.replyErrorCode ?? -1);
      this.vote = undefined;
    } else if (msg.vote === Vote.Ack || msg.vote === Vote.Nack) {
      this.vote = msg.vote;
    } else if (msg.vote === Vote.AskLater || msg.vote === Vote.WaitForReply) {
      this.vote = undefined;
    }
    if (msg.type === MsgType.VoteInfo && this.autoReply && msg.seqNumber !== undefined) {
      void this.write(encodeVoteInfoReply({ seqNumber: msg.seqNumber }));
    }
    for (const waiter of this.#waiters) {
      if (!waiter.match(msg)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(index);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }
}

/** Where the daemon runs and how the fake nodes introduce themselves. */
export interface WireHarnessOptions {
  readonly port: number;
  /** The daemon's local socket, to see when it has processed a disconnect. */
  readonly socketPath: string;
  /** PREINIT cluster name: unique per scenario, so scenarios never share a cluster. */
  readonly cluster: string;
  /** INIT heartbeat when JoinOptions gives none; lms timers fire every heartbeat/4 ms. */
  readonly heartbeat?: number;
  /** Real time settle() lets pending lms timers run (default: 3 timer periods). */
  readonly lmsWaitMs?: number;
}

/** The scenario harness over TCP. Dispose it to close every connection. */
export class WireHarness implements ScenarioHarness, AsyncDisposable {
  readonly options: WireHarnessOptions;
  readonly nodes = new Map<number, WireNode>();
  #echoSeq = 0;

  constructor(options: WireHarnessOptions) {
    this.options = options;
  }

  node(nodeId: number): WireNode {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new Error(`No fake node ${nodeId}`);
    return node;
  }

  /** The standard join of reference §2.6, as Harness.join(). */
  async join(nodeId: number, o: JoinOptions): Promise<void> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.options.port });
    conn.setNoDelay(true);
    const node = new WireNode(nodeId, conn);
    this.nodes.set(nodeId, node);
    const [ringNode, ringSeq] = o.ring ?? [1, 1];
    await this.#request(
      node,
      encodePreinit({ seqNumber: ++node.seq, clusterName: this.options.cluster }),
      MsgType.PreinitReply,
    );
    await this.#request(
      node,
      encodeInit({
        seqNumber: ++node.seq,
        nodeId,
        decisionAlgorithm: o.algorithm,
        heartbeatInterval: o.heartbeat ?? this.options.heartbeat ?? 4000,
        tieBreaker: o.tieBreaker,
        ringId: ring(ringNode, ringSeq),
      }),
      MsgType.InitReply,
    );
    if (o.upTo === "init") return await this.#settle();
    if (o.kap !== undefined) {
      await this.send(nodeId, { type: MsgType.SetOption, keepActivePartitionTieBreaker: o.kap });
    }
    if (o.upTo === "options") return;
    await this.send(nodeId, {
      type: MsgType.NodeList,
      nodeListType: NodeListType.InitialConfig,
      nodes: nodes(o.config),
    });
    if (o.upTo === "config") return;
    await this.membership(nodeId, o.members ?? o.config, [ringNode, ringSeq], o.heuristics);
    if (o.upTo === "membership") return;
    await this.quorum(nodeId, o.members ?? o.config);
  }

  membership(
    nodeId: number,
    members: readonly number[],
    r: readonly [number, number],
    heuristics?: Heuristics,
  ): Promise<Replies> {
    const msg: DecodedMsg = {
      type: MsgType.NodeList,
      nodeListType: NodeListType.Membership,
      ringId: ring(r[0], r[1]),
      nodes: nodes(members),
    };
    if (heuristics !== undefined && heuristics !== 0) msg.heuristics = heuristics;
    return this.send(nodeId, msg);
  }

  quorum(nodeId: number, members: readonly number[]): Promise<Replies> {
    return this.send(nodeId, {
      type: MsgType.NodeList,
      nodeListType: NodeListType.Quorum,
      quorate: 1,
      nodes: members.map((id) => ({ nodeId: id, dataCenterId: 0, nodeState: 1 })),
    });
  }

  /**
   * Sends `msg` with the node's next seq number, waits for its reply (or SERVER_ERROR),
   * settles, and returns what the node received up to the reply.
   */
  async send(nodeId: number, msg: DecodedMsg): Promise<Replies> {
    const node = this.node(nodeId);
    const replyType = REPLY_OF.get(msg.type);
    if (replyType === undefined) throw new Error(`No reply expected to message ${msg.type}`);
    const replies = await this.#request(
      node,
      encodeClientMsg({ ...msg, seqNumber: ++node.seq }),
      replyType,
    );
    await this.#settle();
    return replies;
  }

  /** Closes the node's connection and waits until the daemon has dropped the client. */
  async disconnect(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    await node.close();
    const gone = `Client address:\t\t127.0.0.1:${node.localPort}\n`;
    const request = new TextEncoder().encode(
      buildRequest("list", { verbose: false, cluster: this.options.cluster }),
    );
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      await using ipc = await IpcClientConnection.connect(this.options.socketPath);
      const listing = new TextDecoder().decode(await ipc.exchange(request));
      if (!listing.includes(gone)) break;
      if (Date.now() > deadline) {
        throw new Error(`node ${nodeId}: the daemon still lists it after ${WAIT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.#settle();
  }

  silence(nodeId: number): void {
    this.node(nodeId).autoReply = false;
  }

  connectedIds(): number[] {
    return this.#connected().map((n) => n.nodeId);
  }

  /**
   * Settles every vote round. lms: a node left waiting gets its vote when the daemon's timer
   * fires, so this waits (bounded by WAIT_MS) until the votes are `expect`. While some node's
   * last answer is WAIT_FOR_REPLY, it first lets a few timer periods pass, so that a timer that
   * would wrongly decide for a node expected to keep waiting ("-") has had its chance.
   */
  async settle(algorithm: DecisionAlgorithm, expect?: string): Promise<void> {
    await this.#settle();
    if (algorithm !== DecisionAlgorithm.Lms) return;
    const period = (this.options.heartbeat ?? 4000) / 4;
    if (expect === undefined || this.#connected().some((n) => n.waiting)) {
      await new Promise((resolve) => setTimeout(resolve, this.options.lmsWaitMs ?? period * 3));
      await this.#settle();
    }
    const deadline = Date.now() + WAIT_MS;
    while (expect !== undefined && this.votes() !== expect && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, period / 5));
      await this.#settle();
    }
  }

  /** "1=ACK 2=NACK 3=-" for the connected nodes, in node-id order (Harness.votes()). */
  votes(): string {
    return this.#connected().map((n) => `${n.nodeId}=${voteText(n.vote)}`).join(" ");
  }

  errors(): string {
    return [...this.nodes.values()].flatMap((n) => n.errors.map((e) => `${n.nodeId}=${e}`))
      .join(" ");
  }

  /** True if the daemon still answers a PREINIT on a fresh connection. */
  async answers(): Promise<boolean> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.options.port });
    const probe = new WireNode(0, conn);
    try {
      await this.#request(
        probe,
        encodePreinit({ seqNumber: 1, clusterName: `${this.options.cluster}-probe` }),
        MsgType.PreinitReply,
      );
      return true;
    } catch {
      return false;
    } finally {
      await probe.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
  }

  #connected(): WireNode[] {
    return [...this.nodes.values()].filter((n) => n.connected).sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Writes one request and waits for its reply; returns what arrived up to the reply. */
  async #request(node: WireNode, bytes: Uint8Array, replyType: number): Promise<Replies> {
    const before = node.received.length;
    await node.write(bytes);
    const at = await node.waitFor(
      before,
      (m) => m.type === replyType || m.type === MsgType.ServerError,
      `reply of type ${replyType}`,
    );
    return node.received.slice(before, at + 1);
  }

  /**
   * Echo-syncs every connected node until a whole pass sees no VOTE_INFO: by then each
   * VOTE_INFO_REPLY was processed and nothing it caused is still on its way.
   */
  async #settle(): Promise<void> {
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      let voted = false;
      for (const node of this.#connected()) {
        const before = node.received.length;
        const seqNumber = ++this.#echoSeq;
        await node.write(encodeEchoRequest({ seqNumber }));
        await node.waitFor(
          before,
          (m) => m.type === MsgType.EchoReply && m.seqNumber === seqNumber,
          "echo reply",
        );
        voted ||= node.received.slice(before).some((m) => m.type === MsgType.VoteInfo);
      }
      if (!voted) return;
    }
    throw new Error(`Votes did not settle in ${MAX_SETTLE_PASSES} echo passes`);
  }
}
