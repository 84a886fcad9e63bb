/**
 * The conformance harness over TCP: the operations of the in-memory Harness
 * (tests/support/arbiter_harness.ts), played against a running daemon, ours or the real
 * corosync-qnetd. Each fake node is a {@linkcode QdeviceClient}: one connection that answers
 * every VOTE_INFO (unless silenced) and tracks its effective vote exactly as Harness does.
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
import { encodeClientMsg, encodeInit, encodePreinit } from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  type Heuristics,
  MsgType,
  NodeListType,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import { IpcClientConnection } from "../../ipc/client.ts";
import { buildRequest } from "../../cli/qnetd_tool.ts";
import type { Replies, ScenarioHarness } from "./conformance_rows.ts";
import {
  type JoinOptions,
  membershipList,
  nodes,
  quorumList,
  ring,
  voteText,
} from "./arbiter_harness.ts";
import { CLIENT_WAIT_MS, ClientClosedError, QdeviceClient } from "./qdevice_client.ts";

/** How long waiting for the daemon to drop a client may take before the test fails. */
const WAIT_MS = CLIENT_WAIT_MS;
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

/** A fake node: the one fake qdevice client, numbering its requests from 1, without Nagle. */
function connectNode(port: number, nodeId: number): Promise<QdeviceClient> {
  return QdeviceClient.connect(port, `node ${nodeId}`, { nodeId, seq: 0, noDelay: true });
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
  readonly nodes = new Map<number, QdeviceClient>();

  constructor(options: WireHarnessOptions) {
    this.options = options;
  }

  node(nodeId: number): QdeviceClient {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new Error(`No fake node ${nodeId}`);
    return node;
  }

  /** The standard join of reference §2.6, as Harness.join(). */
  async join(nodeId: number, o: JoinOptions): Promise<void> {
    const node = await connectNode(this.options.port, nodeId);
    this.nodes.set(nodeId, node);
    const [ringNode, ringSeq] = o.ring ?? [1, 1];
    await node.exchange(
      encodePreinit({ seqNumber: node.nextSeq(), clusterName: this.options.cluster }),
      MsgType.PreinitReply,
    );
    await node.exchange(
      encodeInit({
        seqNumber: node.nextSeq(),
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
    return this.send(nodeId, membershipList(members, r, heuristics));
  }

  quorum(nodeId: number, members: readonly number[]): Promise<Replies> {
    return this.send(nodeId, quorumList(members));
  }

  /**
   * Sends `msg` with the node's next seq number, waits for its reply (or SERVER_ERROR),
   * settles, and returns what the node received up to the reply.
   */
  async send(nodeId: number, msg: DecodedMsg): Promise<Replies> {
    const node = this.node(nodeId);
    const replyType = REPLY_OF.get(msg.type);
    if (replyType === undefined) throw new Error(`No reply expected to message ${msg.type}`);
    const replies = await node.exchange(
      encodeClientMsg({ ...msg, seqNumber: node.nextSeq() }),
      replyType,
    );
    await this.#settle();
    return replies;
  }

  /** Closes the node's connection and waits until the daemon has dropped the client. */
  async disconnect(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    node.close();
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
    using probe = await connectNode(this.options.port, 0);
    try {
      await probe.exchange(
        encodePreinit({ seqNumber: 1, clusterName: `${this.options.cluster}-probe` }),
        MsgType.PreinitReply,
      );
      return true;
    } catch {
      return false;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    for (const node of this.nodes.values()) node.close();
    return Promise.resolve();
  }

  #connected(): QdeviceClient[] {
    return [...this.nodes.values()].filter((n) => n.connected).sort((a, b) => a.nodeId - b.nodeId);
  }

  /**
   * Echo-syncs every connected node until a whole pass sees no VOTE_INFO: by then each
   * VOTE_INFO_REPLY was processed and nothing it caused is still on its way.
   */
  async #settle(): Promise<void> {
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      let voted = false;
      for (const node of this.#connected()) {
        try {
          voted = (await node.sync()) || voted;
        } catch (error) {
          // The daemon dropped this node earlier: it no longer takes part.
          if (!(error instanceof ClientClosedError)) throw error;
        }
      }
      if (!voted) return;
    }
    throw new Error(`Votes did not settle in ${MAX_SETTLE_PASSES} echo passes`);
  }
}
