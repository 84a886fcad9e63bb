/**
 * A scenario driver for the arbiter tests: fake qdevice clients that send DecodedMsg objects,
 * answer every VOTE_INFO at once (as the real qdevice does), and track each node's
 * "effective vote": the last ACK/NACK it received, "-" after ASK_LATER / WAIT_FOR_REPLY /
 * SERVER_ERROR (reference qnetd-algorithms.md §2.6), NO_CHANGE keeping the previous one.
 *
 * @module
 */
import { ManualClock } from "../../core/clock.ts";
import { recordingLog } from "../../core/log.ts";
import {
  type DecisionAlgorithm,
  Heuristics,
  MsgType,
  NodeListType,
  NodeState,
  Quorate,
  TieBreakerMode,
  TlsSupported,
  Vote,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg, NodeInfo, ServerMsg, TieBreaker } from "../../core/protocol/types.ts";
import { type Action, Arbiter } from "../../core/arbiter/arbiter.ts";
import { type ArbiterSettings, defaultArbiterSettings } from "../../core/arbiter/settings.ts";

/** What a fake node knows about itself. */
export interface FakeNode {
  readonly nodeId: number;
  readonly clientId: number;
  seq: number;
  /** Effective vote: ACK, NACK or undefined ("-"). */
  vote: Vote | undefined;
  /** Every message the server sent to it, in order. */
  readonly received: ServerMsg[];
  /** REPLY_ERROR_CODE of every SERVER_ERROR received. */
  readonly errors: number[];
  autoReply: boolean;
  connected: boolean;
}

/** Options of a standard join (reference §2.6 "Setup"). */
export interface JoinOptions {
  algorithm: DecisionAlgorithm;
  config: readonly number[];
  tieBreaker: TieBreaker;
  /** SET_OPTION KAP value; undefined = no SET_OPTION at all. */
  kap?: 0 | 1 | undefined;
  ring?: readonly [number, number];
  /** MEMBERSHIP members; default: the whole config. */
  members?: readonly number[];
  heuristics?: Heuristics;
  heartbeat?: number;
  /** Stop after this step. */
  upTo?: "init" | "options" | "config" | "membership" | "quorum";
}

export function nodes(ids: readonly number[]): NodeInfo[] {
  return ids.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 }));
}

/** The membership NODE_LIST of `members` on ring `r` (with heuristics unless undefined). */
export function membershipList(
  members: readonly number[],
  r: readonly [number, number],
  heuristics?: Heuristics,
): DecodedMsg {
  const msg: DecodedMsg = {
    type: MsgType.NodeList,
    nodeListType: NodeListType.Membership,
    ringId: ring(r[0], r[1]),
    nodes: nodes(members),
  };
  if (heuristics !== undefined && heuristics !== Heuristics.Undefined) msg.heuristics = heuristics;
  return msg;
}

/** The quorate quorum NODE_LIST of `members`, every one a member. */
export function quorumList(members: readonly number[]): DecodedMsg {
  return {
    type: MsgType.NodeList,
    nodeListType: NodeListType.Quorum,
    quorate: Quorate.Quorate,
    nodes: members.map((id) => ({ nodeId: id, dataCenterId: 0, nodeState: NodeState.Member })),
  };
}

export function ring(nodeId: number, seq: number): { nodeId: number; seq: bigint } {
  return { nodeId, seq: BigInt(seq) };
}

export const LOWEST: TieBreaker = { mode: TieBreakerMode.Lowest, nodeId: 0 };
export const HIGHEST: TieBreaker = { mode: TieBreakerMode.Highest, nodeId: 0 };
export function nodeTb(nodeId: number): TieBreaker {
  return { mode: TieBreakerMode.NodeId, nodeId };
}

const utf8 = new TextEncoder();

/** One arbiter plus its fake clients on a manual clock. */
export class Harness {
  readonly clock = new ManualClock(10_000);
  readonly recorder = recordingLog();
  readonly settings: ArbiterSettings;
  readonly arbiter: Arbiter;
  readonly nodes = new Map<number, FakeNode>();
  readonly #byClient = new Map<number, FakeNode>();
  /** Every action returned by the arbiter, in order. */
  readonly actions: Action[] = [];
  #pending: { node: FakeNode; msg: DecodedMsg }[] = [];

  constructor(settings: Partial<ArbiterSettings> = {}) {
    this.settings = {
      ...defaultArbiterSettings(),
      tlsSupported: TlsSupported.Unsupported,
      dpdEnabled: false,
      ...settings,
    };
    this.arbiter = new Arbiter({
      settings: this.settings,
      clock: this.clock,
      log: this.recorder.log,
    });
  }

  node(nodeId: number): FakeNode {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new Error(`No fake node ${nodeId}`);
    return node;
  }

  /** Opens a connection for `nodeId` (no message yet). */
  connect(nodeId: number, address = `127.0.0.1:${40000 + nodeId}`): FakeNode {
    const accepted = this.arbiter.accept(address);
    if (accepted === undefined) throw new Error(`Connection of node ${nodeId} refused`);
    const node: FakeNode = {
      nodeId,
      clientId: accepted.clientId,
      seq: 0,
      vote: undefined,
      received: [],
      errors: [],
      autoReply: true,
      connected: true,
    };
    this.nodes.set(nodeId, node);
    this.#byClient.set(accepted.clientId, node);
    this.#deliver(accepted.actions);
    return node;
  }

  /**
   * Sends a message from the node with the next seq number (unless `withSeq` is false),
   * runs the VOTE_INFO_REPLY exchanges it causes, and returns what the node received.
   */
  send(nodeId: number, msg: DecodedMsg, withSeq = true): ServerMsg[] {
    const node = this.node(nodeId);
    const full = withSeq && msg.seqNumber === undefined ? { ...msg, seqNumber: ++node.seq } : msg;
    const before = node.received.length;
    this.#pending.push({ node, msg: full });
    this.#pump();
    return node.received.slice(before);
  }

  /** The connection of the node breaks. */
  disconnect(nodeId: number): void {
    const node = this.node(nodeId);
    node.connected = false;
    this.#deliver(this.arbiter.closed(node.clientId));
    this.#pump();
  }

  /** Runs timers for `ms` of manual time, in steps to each due timer. */
  runTimers(ms: number): void {
    const end = this.clock.now() + ms;
    for (let i = 0; i < 10_000; i++) {
      const next = this.arbiter.msUntilNextTimer();
      if (next === undefined || this.clock.now() + next > end) break;
      this.clock.advance(next);
      this.#deliver(this.arbiter.expireTimers());
      this.#pump();
    }
    if (this.clock.now() < end) this.clock.advance(end - this.clock.now());
  }

  /** The standard join of reference §2.6. */
  join(nodeId: number, o: JoinOptions): void {
    this.connect(nodeId);
    const [ringNode, ringSeq] = o.ring ?? [1, 1];
    this.send(nodeId, {
      type: MsgType.Preinit,
      clusterName: utf8.encode("cluster"),
    });
    this.send(nodeId, {
      type: MsgType.Init,
      nodeId,
      decisionAlgorithm: o.algorithm,
      heartbeatInterval: o.heartbeat ?? 4000,
      tieBreaker: o.tieBreaker,
      ringId: ring(ringNode, ringSeq),
      supportedMessages: [],
      supportedOptions: [],
    });
    if (o.upTo === "init") return;
    if (o.kap !== undefined) {
      this.send(nodeId, { type: MsgType.SetOption, keepActivePartitionTieBreaker: o.kap });
    }
    if (o.upTo === "options") return;
    this.send(nodeId, {
      type: MsgType.NodeList,
      nodeListType: NodeListType.InitialConfig,
      nodes: nodes(o.config),
    });
    if (o.upTo === "config") return;
    this.membership(nodeId, o.members ?? o.config, [ringNode, ringSeq], o.heuristics);
    if (o.upTo === "membership") return;
    this.quorum(nodeId, o.members ?? o.config);
  }

  membership(
    nodeId: number,
    members: readonly number[],
    r: readonly [number, number],
    heuristics?: Heuristics,
  ): ServerMsg[] {
    return this.send(nodeId, membershipList(members, r, heuristics));
  }

  quorum(nodeId: number, members: readonly number[]): ServerMsg[] {
    return this.send(nodeId, quorumList(members));
  }

  /** "1=ACK 2=NACK 3=-" for the connected nodes, in node-id order. */
  votes(): string {
    return [...this.nodes.values()]
      .filter((n) => n.connected)
      .sort((a, b) => a.nodeId - b.nodeId)
      .map((n) => `${n.nodeId}=${voteText(n.vote)}`)
      .join(" ");
  }

  #pump(): void {
    for (let i = 0; i < 10_000 && this.#pending.length > 0; i++) {
      const { node, msg } = this.#pending.shift()!;
      if (!node.connected) continue;
      this.#deliver(this.arbiter.received(node.clientId, new Uint8Array(6), { ok: true, msg }));
    }
  }

  #deliver(actions: readonly Action[]): void {
    for (const action of actions) {
      this.actions.push(action);
      const node = this.#byClient.get(action.clientId);
      if (node === undefined) throw new Error(`Action for unknown client ${action.clientId}`);
      if (action.kind === "disconnect") {
        node.connected = false;
        continue;
      }
      if (action.kind !== "send") continue;
      const msg = action.msg;
      node.received.push(msg);
      if (msg.type === MsgType.ServerError) {
        node.errors.push(msg.replyErrorCode);
        node.vote = undefined;
      } else if ("vote" in msg) {
        if (msg.vote === Vote.Ack || msg.vote === Vote.Nack) node.vote = msg.vote;
        else if (msg.vote === Vote.AskLater || msg.vote === Vote.WaitForReply) {
          node.vote = undefined;
        }
      }
      if (msg.type === MsgType.VoteInfo && node.autoReply) {
        this.#pending.push({
          node,
          msg: { type: MsgType.VoteInfoReply, seqNumber: msg.seqNumber },
        });
      }
    }
  }
}

export function voteText(vote: Vote | undefined): string {
  return vote === Vote.Ack ? "ACK" : vote === Vote.Nack ? "NACK" : "-";
}
