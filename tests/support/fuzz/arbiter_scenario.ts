/**
 * Protocol state fuzzing of the pure Arbiter: random but well-formed message sequences from
 * many clients of several clusters (all four algorithms, random tie-breakers, heuristics,
 * config and membership lists, disconnects, DPD expiry through a ManualClock), checked after
 * every step against a small model of what the protocol requires:
 *
 * - the arbiter never throws;
 * - a client that sent a request gets exactly one reply of the right type with its seq
 *   echoed, and the error code / vote / ring the reference fixes for that state
 *   (qnetd-protocol.md §2, qnetd-algorithms.md §1.2 and §2);
 * - unsolicited VOTE_INFOs only go to ffsplit/lms clients, with consecutive seq numbers from
 *   1, the client's ring, and ACK or NACK;
 * - DPD disconnects only clients silent for 1.5 x heartbeat, and every such client;
 * - under ffsplit, the clients holding ACK (their last delivered ACK/NACK) always belong to
 *   one partition: they all sent the same membership set.
 *
 * The choices come from a byte string (or an Rng), so the mutation fuzzer can work on them and
 * a failing choice string replays exactly. The run also records the wire bytes of every step
 * and the encoded replies per client, which the live test replays against the daemons.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../../core/clock.ts";
import { nullLog } from "../../../core/log.ts";
import { type Action, Arbiter } from "../../../core/arbiter/arbiter.ts";
import { type ArbiterSettings, defaultArbiterSettings } from "../../../core/arbiter/settings.ts";
import {
  type DecisionAlgorithm,
  type Heuristics,
  MSG_HEADER_LENGTH,
  MsgType,
  type NodeListType,
  ReplyError,
  TieBreakerMode,
  TlvType,
  Vote,
} from "../../../core/protocol/constants.ts";
import { decodeMsg } from "../../../core/protocol/decode.ts";
import { encodeServerMsg } from "../../../core/protocol/encode_server.ts";
import { MsgWriter } from "../../../core/protocol/tlv_writer.ts";
import type { DecodedMsg, RingId, ServerMsg, TieBreaker } from "../../../core/protocol/types.ts";
import { Rng } from "./mutate.ts";

/** Where the choices come from: a finite byte string (mutation fuzzing) or an Rng. */
export class Choices {
  readonly #bytes: Uint8Array | undefined;
  readonly #rng: Rng | undefined;
  #at = 0;

  constructor(source: Uint8Array | Rng) {
    if (source instanceof Rng) this.#rng = source;
    else this.#bytes = source;
  }

  /** True once a byte string is used up: the scenario then ends. */
  get exhausted(): boolean {
    return this.#bytes !== undefined && this.#at >= this.#bytes.length;
  }

  /** Integer in [0, n); 0 once exhausted. */
  int(n: number): number {
    if (n <= 1) return 0;
    if (this.#rng !== undefined) return this.#rng.below(n);
    let v = this.#bytes![this.#at++] ?? 0;
    if (n > 256) v = v * 256 + (this.#bytes![this.#at++] ?? 0);
    return v % n;
  }

  chance(percent: number): boolean {
    return this.int(100) < percent;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** One step as it goes on the wire (for the live replay). `client` is the model's index. */
export type WireStep =
  | { kind: "connect"; client: number }
  | { kind: "send"; client: number; bytes: Uint8Array }
  | { kind: "close"; client: number }
  | { kind: "advance"; ms: number };

export interface ScenarioOptions {
  /** Upper bound on steps. */
  readonly maxSteps: number;
  /**
   * Only sequences the C daemon 3.0.3 survives and answers deterministically over TCP: no
   * clock, no DPD, heartbeat 120000 (lms timers far away), no ffsplit client without a
   * config list, no second INIT or cluster change after INIT, no STARTTLS.
   */
  readonly liveSafe?: boolean;
}

export interface ScenarioResult {
  readonly steps: WireStep[];
  /** Encoded server messages per model client, in order. */
  readonly received: Map<number, Uint8Array[]>;
  /** For each step, the encoded server messages it caused, per model client, in order. */
  readonly stepReplies: { client: number; bytes: Uint8Array }[][];
  /** The daemon flags the sequence assumes: `-c` and `-S keep_active_partition_tie_breaker`. */
  readonly flags: { clientCertRequired: boolean; keepActivePartitionTieBreaker: boolean };
  /** The decision algorithm of each cluster, in cluster order. */
  readonly algorithms: DecisionAlgorithm[];
  /** Model clients the server disconnected (after their last expected message). */
  readonly serverClosed: Set<number>;
  /** Counters for reports. */
  readonly stats: { messages: number; voteInfos: number; acks: number; errors: number };
}

interface Profile {
  readonly name: string;
  readonly algorithm: DecisionAlgorithm;
  readonly tieBreaker: TieBreaker;
  readonly heartbeat: number;
  readonly config: readonly number[];
}

/** What the model knows about one client (the fake qdevice's view plus the server's). */
interface ModelClient {
  readonly index: number;
  readonly clientId: number;
  readonly profile: Profile;
  readonly nodeId: number;
  connected: boolean;
  seq: number;
  /** Cluster name of the last PREINIT, if any. */
  preinit: string | undefined;
  init: boolean;
  /** Model of the fields INIT stores (C stores some of them even when INIT fails). */
  algorithm: number;
  tieBreaker: TieBreaker;
  heartbeat: number;
  /** The ring the server stores (INIT, even a failed one, and MEMBERSHIP set it). */
  ring: RingId;
  /** The ring of the last accepted MEMBERSHIP list: the client's partition with `mem`. */
  memRing: RingId;
  cfg: number[];
  mem: number[];
  heuristics: Heuristics;
  /** Effective vote: last ACK/NACK, undefined after ASK_LATER / WAIT / SERVER_ERROR. */
  vote: Vote | undefined;
  lastVoteInfoSeq: number;
  pendingVoteInfos: number[];
  lastHeard: number;
  dpdInterval: number;
  stage: number;
}

/** What one request must be answered with. `votes` lists the allowed votes. */
type Expected =
  | { kind: "none" }
  | { kind: "disconnect" }
  | { kind: "error"; code: number }
  | { kind: "reply"; type: MsgType; votes?: readonly Vote[]; code?: number };

const utf8 = new TextEncoder();
const ALL_VOTES = [Vote.Ack, Vote.Nack, Vote.AskLater, Vote.WaitForReply, Vote.NoChange];
const FFSPLIT_CHANGE: readonly Vote[] = [Vote.WaitForReply, Vote.NoChange];
const LMS_VOTES: readonly Vote[] = [Vote.Ack, Vote.Nack, Vote.WaitForReply];
const SERVER_ONLY_TYPES: readonly MsgType[] = [1, 4, 5, 7, 9, 11, 13, 14, 17];
const HB_MIN = 1000;
const HB_MAX = 120000;
const BEFORE_INIT_DPD = 180000;

/**
 * Encodes any decoded client message: every present field, in a fixed order. The decoder
 * does not care about order, and messages without their required fields can be built.
 */
export function encodeDecoded(m: DecodedMsg): Uint8Array {
  const w = new MsgWriter(m.type);
  if (m.seqNumber !== undefined) w.u32(TlvType.MsgSeqNumber, m.seqNumber);
  if (m.clusterName !== undefined) w.raw(TlvType.ClusterName, m.clusterName);
  if (m.supportedMessages !== undefined) w.u16Array(TlvType.SupportedMessages, m.supportedMessages);
  if (m.supportedOptions !== undefined) w.u16Array(TlvType.SupportedOptions, m.supportedOptions);
  if (m.nodeId !== undefined) w.u32(TlvType.NodeId, m.nodeId);
  if (m.decisionAlgorithm !== undefined) w.u16(TlvType.DecisionAlgorithm, m.decisionAlgorithm);
  if (m.heartbeatInterval !== undefined) w.u32(TlvType.HeartbeatInterval, m.heartbeatInterval);
  if (m.tieBreaker !== undefined) w.tieBreaker(m.tieBreaker);
  if (m.ringId !== undefined) w.ringId(m.ringId);
  if (m.nodeListType !== undefined) w.u8(TlvType.NodeListType, m.nodeListType);
  if (m.configVersion !== undefined) w.u64(TlvType.ConfigVersion, m.configVersion);
  if (m.quorate !== undefined) w.u8(TlvType.Quorate, m.quorate);
  if (m.keepActivePartitionTieBreaker !== undefined) {
    w.u8(TlvType.KeepActivePartitionTieBreaker, m.keepActivePartitionTieBreaker);
  }
  for (const node of m.nodes ?? []) w.nodeInfo(node);
  if (m.heuristics !== undefined) w.u8(TlvType.Heuristics, m.heuristics);
  return w.finish();
}

function ringEq(a: RingId, b: RingId): boolean {
  return a.nodeId === b.nodeId && a.seq === b.seq;
}

function tbEq(a: TieBreaker, b: TieBreaker): boolean {
  return a.mode === b.mode && (a.mode !== TieBreakerMode.NodeId || a.nodeId === b.nodeId);
}

function setKey(ids: readonly number[]): string {
  return [...new Set(ids)].sort((a, b) => a - b).join(",");
}

function nodeInfos(ids: readonly number[]) {
  return ids.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 as const }));
}

/** Runs one scenario, asserting the properties after every step. */
export function runScenario(choices: Choices, options: ScenarioOptions): ScenarioResult {
  return new Scenario(choices, options).run();
}

class Scenario {
  readonly #c: Choices;
  readonly #opts: ScenarioOptions;
  readonly #live: boolean;
  readonly #clock = new ManualClock(1_000_000);
  readonly #settings: ArbiterSettings;
  readonly #arbiter: Arbiter;
  readonly #profiles: Profile[] = [];
  readonly #clients: ModelClient[] = [];
  readonly #byId = new Map<number, ModelClient>();
  /** Initialized clients per cluster name, as the server groups them. */
  readonly #clusters = new Map<string, ModelClient[]>();
  readonly #steps: WireStep[] = [];
  readonly #stepReplies: { client: number; bytes: Uint8Array }[][] = [];
  readonly #received = new Map<number, Uint8Array[]>();
  readonly #serverClosed = new Set<number>();
  readonly #stats = { messages: 0, voteInfos: 0, acks: 0, errors: 0 };
  #trace: string[] = [];

  constructor(choices: Choices, options: ScenarioOptions) {
    this.#c = choices;
    this.#opts = options;
    this.#live = options.liveSafe ?? false;
    this.#settings = {
      ...defaultArbiterSettings(),
      tlsSupported: 0,
      tlsClientCertRequired: choices.chance(50),
      dpdEnabled: !this.#live && choices.chance(50),
      keepActivePartitionTieBreaker: choices.chance(50),
    };
    this.#arbiter = new Arbiter({ settings: this.#settings, clock: this.#clock, log: nullLog });
    const clusters = 1 + choices.int(3);
    for (let i = 0; i < clusters; i++) this.#profiles.push(this.#newProfile(i));
  }

  #newProfile(i: number): Profile {
    const c = this.#c;
    const mode = c.pick([TieBreakerMode.Lowest, TieBreakerMode.Highest, TieBreakerMode.NodeId]);
    const size = 1 + c.int(5);
    return {
      name: `cluster${i}`,
      algorithm: c.int(4) as DecisionAlgorithm,
      tieBreaker: { mode, nodeId: mode === TieBreakerMode.NodeId ? 1 + c.int(6) : 0 },
      heartbeat: this.#live ? HB_MAX : c.pick([HB_MIN, 4000, 8000, HB_MAX]),
      config: Array.from({ length: size }, (_, k) => k + 1),
    };
  }

  run(): ScenarioResult {
    for (let step = 0; step < this.#opts.maxSteps && !this.#c.exhausted; step++) {
      this.#step();
    }
    for (const client of this.#clients) {
      if (client.connected) this.#close(client);
    }
    return {
      steps: this.#steps,
      received: this.#received,
      stepReplies: this.#stepReplies,
      algorithms: this.#profiles.map((p) => p.algorithm),
      flags: {
        clientCertRequired: this.#settings.tlsClientCertRequired,
        keepActivePartitionTieBreaker: this.#settings.keepActivePartitionTieBreaker,
      },
      serverClosed: this.#serverClosed,
      stats: this.#stats,
    };
  }

  #pushStep(step: WireStep): void {
    this.#steps.push(step);
    this.#stepReplies.push([]);
  }

  #fail(message: string): never {
    assert.fail(`${message}\n--- last steps:\n${this.#trace.slice(-25).join("\n")}`);
  }

  #connected(): ModelClient[] {
    return this.#clients.filter((c) => c.connected);
  }

  #step(): void {
    const c = this.#c;
    const connected = this.#connected();
    const roll = c.int(100);
    if (connected.length === 0 || (roll < 12 && this.#clients.length < 14)) this.#connect();
    else if (roll < 17) this.#close(c.pick(connected));
    else if (roll < 22 && !this.#live) this.#advance();
    else {
      const client = c.pick(connected);
      if (client.pendingVoteInfos.length > 0 && c.chance(55)) this.#replyVoteInfo(client);
      else this.#send(client, this.#nextMessage(client));
    }
    this.#checkFfsplitSafety();
  }

  #connect(): void {
    const c = this.#c;
    const profile = c.pick(this.#profiles);
    const nodeId = c.chance(85) ? c.pick(profile.config) : 1 + c.int(7);
    const accepted = this.#arbiter.accept(`127.0.0.1:${40000 + this.#clients.length}`);
    if (accepted === undefined) this.#fail("accept() refused a connection");
    const client: ModelClient = {
      index: this.#clients.length,
      clientId: accepted.clientId,
      profile,
      nodeId,
      connected: true,
      seq: 0,
      preinit: undefined,
      init: false,
      algorithm: 0,
      tieBreaker: { mode: 1, nodeId: 0 },
      heartbeat: 0,
      ring: { nodeId: 0, seq: 0n },
      memRing: { nodeId: 0, seq: 0n },
      cfg: [],
      mem: [],
      heuristics: 0,
      vote: undefined,
      lastVoteInfoSeq: 0,
      pendingVoteInfos: [],
      lastHeard: this.#clock.now(),
      dpdInterval: BEFORE_INIT_DPD,
      stage: 0,
    };
    this.#clients.push(client);
    this.#byId.set(client.clientId, client);
    this.#received.set(client.index, []);
    this.#pushStep({ kind: "connect", client: client.index });
    this.#trace.push(`#${client.index} connect (node ${nodeId}, ${profile.name})`);
    if (accepted.actions.length !== 0) this.#fail("accept() returned actions");
  }

  #close(client: ModelClient): void {
    this.#pushStep({ kind: "close", client: client.index });
    this.#trace.push(`#${client.index} close`);
    const actions = this.#arbiter.closed(client.clientId);
    const first = actions[0];
    if (first?.kind !== "disconnect" || first.clientId !== client.clientId) {
      this.#fail(`closed() did not start with the disconnect of client ${client.index}`);
    }
    this.#drop(client);
    this.#deliverUnsolicited(actions.slice(1), client);
  }

  #advance(): void {
    const ms = this.#c.pick([1, 250, 999, 1000, 2000, 6000, 12000, 60000, 180001]);
    this.#clock.advance(ms);
    this.#pushStep({ kind: "advance", ms });
    this.#trace.push(`advance ${ms} ms`);
    const now = this.#clock.now();
    const due = this.#connected().filter((client) =>
      this.#settings.dpdEnabled && now - client.lastHeard > client.dpdInterval
    );
    // In order: a client dropped late in the batch may first get the VOTE_INFO of the
    // ffsplit re-decision that an earlier drop caused.
    for (const action of this.#arbiter.expireTimers()) {
      if (action.kind !== "disconnect") {
        this.#deliverUnsolicited([action], undefined);
        continue;
      }
      const client = this.#byId.get(action.clientId);
      if (client === undefined || !client.connected) this.#fail("DPD dropped an unknown client");
      if (now - client.lastHeard < client.dpdInterval) {
        this.#fail(
          `client ${client.index} dropped after ${now - client.lastHeard} ms of silence; ` +
            `its DPD interval is ${client.dpdInterval} ms`,
        );
      }
      this.#drop(client);
      this.#serverClosed.add(client.index);
    }
    for (const client of due) {
      if (client.connected) {
        this.#fail(
          `client ${client.index} silent for ${now - client.lastHeard} ms, DPD ` +
            `${client.dpdInterval} ms, still connected`,
        );
      }
    }
  }

  #drop(client: ModelClient): void {
    client.connected = false;
    client.vote = undefined;
    if (client.init && client.preinit !== undefined) {
      const members = this.#clusters.get(client.preinit) ?? [];
      this.#clusters.set(client.preinit, members.filter((m) => m !== client));
    }
  }

  #replyVoteInfo(client: ModelClient): void {
    const c = this.#c;
    const pending = client.pendingVoteInfos;
    const seq = c.chance(80) ? pending.at(-1)! : c.chance(50) ? pending[0]! : c.int(1000);
    client.pendingVoteInfos = c.chance(80) ? [] : pending.filter((s) => s !== seq);
    this.#send(client, { type: MsgType.VoteInfoReply, seqNumber: seq });
  }

  /** The next message: the real client's join sequence, then random traffic. */
  #nextMessage(client: ModelClient): DecodedMsg {
    const c = this.#c;
    const p = client.profile;
    if (client.preinit === undefined || (!client.init && c.chance(10))) {
      // Another cluster's name only before INIT: a rename after it is undefined in C.
      const other = this.#live || c.chance(85) ? p.name : c.pick(this.#profiles).name;
      return { type: MsgType.Preinit, clusterName: utf8.encode(other) };
    }
    if (!client.init && c.chance(85)) return this.#initMsg(client);
    if (client.init && client.stage < 4 && c.chance(85)) {
      client.stage++;
      switch (client.stage) {
        case 1:
          return { type: MsgType.SetOption, keepActivePartitionTieBreaker: c.int(2) };
        case 2:
          return this.#configMsg(client, true);
        case 3:
          return this.#membershipMsg(client);
        default:
          return this.#quorumMsg(client);
      }
    }
    return this.#randomMsg(client);
  }

  #initMsg(client: ModelClient): DecodedMsg {
    const c = this.#c;
    const p = client.profile;
    const msg: DecodedMsg = {
      type: MsgType.Init,
      nodeId: client.nodeId,
      decisionAlgorithm: p.algorithm,
      heartbeatInterval: p.heartbeat,
      tieBreaker: p.tieBreaker,
      ringId: { nodeId: 1, seq: 1n },
    };
    if (c.chance(80)) msg.supportedMessages = [0, 1, 2, 3];
    if (c.chance(80)) msg.supportedOptions = [0, 1, 2];
    if (c.chance(15)) {
      switch (c.int(7)) {
        case 0:
          delete msg[c.pick(["nodeId", "ringId", "heartbeatInterval", "tieBreaker"] as const)];
          break;
        case 1:
          delete msg.decisionAlgorithm;
          break;
        case 2:
          msg.heartbeatInterval = c.pick([0, 999, 120001, 0xffffffff]);
          break;
        case 3:
          msg.decisionAlgorithm = 4 + c.int(100);
          break;
        case 4:
          msg.tieBreaker = { mode: TieBreakerMode.NodeId, nodeId: 99 };
          break;
        case 5:
          msg.decisionAlgorithm = (p.algorithm + 1) % 4;
          break;
        default:
          if (!this.#live) msg.heartbeatInterval = c.pick([HB_MIN, 4000, HB_MAX]);
      }
    }
    return msg;
  }

  #randomIds(client: ModelClient, own: number): number[] {
    const c = this.#c;
    const pool = [...client.profile.config, 1 + c.int(8)];
    const ids = pool.filter(() => c.chance(50));
    if (c.chance(own) && !ids.includes(client.nodeId)) ids.push(client.nodeId);
    return ids;
  }

  #configMsg(client: ModelClient, initial: boolean): DecodedMsg {
    const c = this.#c;
    const ffsplitLive = this.#live && client.profile.algorithm === 1;
    let ids: number[] = [...client.profile.config];
    if (!c.chance(70)) ids = this.#randomIds(client, ffsplitLive ? 100 : 85);
    if (!ids.includes(client.nodeId) && c.chance(ffsplitLive ? 100 : 80)) ids.push(client.nodeId);
    const msg: DecodedMsg = {
      type: MsgType.NodeList,
      nodeListType: initial ? 0 : 1,
      nodes: nodeInfos(ids),
    };
    if (c.chance(50)) msg.configVersion = BigInt(c.int(10));
    return msg;
  }

  #membershipMsg(client: ModelClient): DecodedMsg {
    const c = this.#c;
    const ids = c.chance(50) ? [...client.profile.config] : this.#randomIds(client, 90);
    const msg: DecodedMsg = {
      type: MsgType.NodeList,
      nodeListType: 2,
      ringId: c.chance(50)
        ? { nodeId: 1, seq: 1n }
        : { nodeId: 1 + c.int(4), seq: BigInt(c.int(4)) },
      nodes: nodeInfos(ids),
    };
    const h = c.int(3) as Heuristics;
    if (h !== 0) msg.heuristics = h;
    return msg;
  }

  #quorumMsg(client: ModelClient): DecodedMsg {
    return {
      type: MsgType.NodeList,
      nodeListType: 3,
      quorate: this.#c.int(2) as 0 | 1,
      nodes: client.mem.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 1 as const })),
    };
  }

  #randomMsg(client: ModelClient): DecodedMsg {
    const c = this.#c;
    const roll = c.int(100);
    let msg: DecodedMsg;
    if (roll < 25) msg = this.#membershipMsg(client);
    else if (roll < 35) msg = this.#configMsg(client, c.chance(20));
    else if (roll < 45) msg = this.#quorumMsg(client);
    else if (roll < 55) {
      msg = { type: MsgType.HeuristicsChange, heuristics: c.pick([1, 2] as const) };
    } else if (roll < 62) msg = { type: MsgType.AskForVote };
    else if (roll < 68) msg = { type: MsgType.EchoRequest };
    else if (roll < 74) {
      msg = { type: MsgType.SetOption };
      if (c.chance(50)) msg.keepActivePartitionTieBreaker = c.int(2);
      if (c.chance(40)) {
        msg.heartbeatInterval = this.#live
          ? c.pick([HB_MAX, 500, 200000])
          : c.pick([HB_MIN, 4000, HB_MAX, 500, 200000]);
      }
    } else if (roll < 78) msg = { type: c.pick(SERVER_ONLY_TYPES) };
    else if (roll < 82) {
      msg = { type: MsgType.Preinit, clusterName: utf8.encode(client.preinit ?? "x") };
    } else if (roll < 84 && !this.#live) {
      msg = c.chance(50) && !client.init ? this.#initMsg(client) : { type: MsgType.StartTls };
    } else if (roll < 86 && !this.#live && !client.init) {
      msg = { type: MsgType.Preinit, clusterName: utf8.encode(c.pick(this.#profiles).name) };
    } else if (roll < 90 && client.init) {
      // Duplicate INIT: answered with error 17 and nothing changes.
      msg = { ...this.#initMsg(client) };
      Object.assign(msg, {
        nodeId: client.nodeId,
        decisionAlgorithm: client.algorithm,
        heartbeatInterval: client.heartbeat,
        tieBreaker: client.tieBreaker,
        ringId: { nodeId: 1, seq: 1n },
      });
    } else {
      msg = this.#membershipMsg(client);
      const drop = c.pick(["nodeListType", "ringId", "nodes"] as const);
      delete msg[drop];
      if (c.chance(30)) msg = { type: MsgType.NodeList, nodeListType: 3 };
    }
    // Now and then no seq number at all (error 7 for the types that need one).
    if (c.chance(4)) return { ...msg, seqNumber: -1 };
    return msg;
  }

  #send(client: ModelClient, template: DecodedMsg): void {
    const msg: DecodedMsg = { ...template };
    if (msg.seqNumber === -1) delete msg.seqNumber;
    else if (msg.seqNumber === undefined) msg.seqNumber = ++client.seq;
    const bytes = encodeDecoded(msg);
    const decoded = decodeMsg(bytes);
    // A message without any option has an empty body: always a decode error (§1.4).
    const empty = bytes.length === MSG_HEADER_LENGTH;
    if (decoded.ok === empty) this.#fail(`decodeMsg() of ${describeMsg(msg)}: ${decoded.ok}`);
    this.#pushStep({ kind: "send", client: client.index, bytes });
    this.#trace.push(`#${client.index} (node ${client.nodeId}) sends ${describeMsg(msg)}`);
    this.#stats.messages++;
    const wasInit = client.init;
    const expected: Expected = empty
      ? { kind: "error", code: ReplyError.ErrorDecodingMsg }
      : this.#expect(client, msg);
    client.lastHeard = this.#clock.now();
    if (msg.type === MsgType.NodeList && msg.nodeListType === 2) client.vote = undefined;
    const actions = this.#arbiter.received(client.clientId, bytes, decoded);
    this.#checkReply(client, msg, bytes, expected, actions);
    if (this.#live && !wasInit && client.init && client.algorithm === 1) {
      // C 3.0.3 crashes when an ffsplit member without a config list is left alone in a
      // decision (qnetd_ffsplit_segfault_log.txt): live sequences send it at once.
      client.stage = 2;
      this.#send(client, this.#configMsg(client, true));
    }
  }

  /** The reply the protocol requires for `msg` in the model's state; updates the model. */
  #expect(client: ModelClient, msg: DecodedMsg): Expected {
    const seq = msg.seqNumber;
    switch (msg.type) {
      case MsgType.Preinit:
        if (msg.clusterName === undefined) return { kind: "error", code: 7 };
        client.preinit = new TextDecoder().decode(msg.clusterName);
        return { kind: "reply", type: MsgType.PreinitReply };
      case MsgType.StartTls:
        if (client.preinit === undefined) return { kind: "error", code: 6 };
        return { kind: "disconnect" };
      case MsgType.Init:
        return this.#expectInit(client, msg);
    }
    if (SERVER_ONLY_TYPES.includes(msg.type)) return { kind: "error", code: 8 };
    if (!client.init) return { kind: "error", code: ReplyError.InitRequired };
    const alg = client.algorithm;
    switch (msg.type) {
      case MsgType.SetOption: {
        const hb = msg.heartbeatInterval;
        if (hb !== undefined) {
          if (hb < HB_MIN || hb > HB_MAX) return { kind: "error", code: 13 };
          client.heartbeat = hb;
          client.dpdInterval = Math.trunc(1.5 * hb);
        }
        return { kind: "reply", type: MsgType.SetOptionReply };
      }
      case MsgType.EchoRequest:
        return { kind: "reply", type: MsgType.EchoReply };
      case MsgType.VoteInfoReply:
        return seq === undefined ? { kind: "error", code: 7 } : { kind: "none" };
      case MsgType.AskForVote: {
        if (seq === undefined) return { kind: "error", code: 7 };
        const votes: readonly (readonly Vote[])[] = [
          [Vote.Ack],
          [],
          [Vote.Ack, Vote.Nack, Vote.AskLater],
          LMS_VOTES,
        ];
        if (alg === 1) return { kind: "error", code: 14 };
        return { kind: "reply", type: MsgType.AskForVoteReply, votes: votes[alg]! };
      }
      case MsgType.HeuristicsChange: {
        if (seq === undefined || msg.heuristics === undefined) return { kind: "error", code: 7 };
        let votes: readonly Vote[] = [Vote.NoChange];
        if (alg === 1) {
          votes = client.cfg.length === 0 || client.mem.length === 0
            ? [Vote.AskLater]
            : FFSPLIT_CHANGE;
        }
        client.heuristics = msg.heuristics;
        return { kind: "reply", type: MsgType.HeuristicsChangeReply, votes };
      }
      case MsgType.NodeList:
        return this.#expectNodeList(client, msg);
    }
    return this.#fail(`no expectation for message type ${msg.type}`);
  }

  #expectInit(client: ModelClient, msg: DecodedMsg): Expected {
    let error = client.preinit === undefined ? 6 : 0;
    if (error === 0 && msg.nodeId === undefined) error = 7;
    const nodeId = msg.nodeId ?? 0;
    if (error === 0 && msg.ringId === undefined) error = 7;
    else client.ring = msg.ringId ?? { nodeId: 0, seq: 0n };
    if (error === 0 && msg.heartbeatInterval === undefined) error = 7;
    else {
      const hb = msg.heartbeatInterval ?? 0;
      if (hb < HB_MIN || hb > HB_MAX) error = 13;
      else {
        client.heartbeat = hb;
        client.dpdInterval = Math.trunc(1.5 * hb);
      }
    }
    if (error === 0 && msg.tieBreaker === undefined) error = 7;
    else client.tieBreaker = msg.tieBreaker ?? { mode: 0 as TieBreakerMode, nodeId: 0 };
    if (error === 0 && msg.decisionAlgorithm === undefined) error = 7;
    else {
      const alg = msg.decisionAlgorithm ?? 0;
      if (alg > 3) error = 12;
      client.algorithm = alg;
    }
    if (error === 0) {
      for (const member of this.#clusters.get(client.preinit!) ?? []) {
        if (!tbEq(client.tieBreaker, member.tieBreaker)) error = 15;
        else if (client.algorithm !== member.algorithm) error = 16;
        else if (nodeId === member.nodeId) error = 17;
        if (error !== 0) break;
      }
    }
    if (error === 0) {
      if (client.init) this.#fail("model: a second INIT was accepted");
      client.init = true;
      // The server keeps a cluster's clients in node-id order (qnetd_cluster_client_add()).
      const members = [...(this.#clusters.get(client.preinit!) ?? [])];
      const at = members.findIndex((m) => m.nodeId > client.nodeId);
      members.splice(at < 0 ? members.length : at, 0, client);
      this.#clusters.set(client.preinit!, members);
    }
    if (nodeId !== client.nodeId && (client.init || error === 0)) {
      this.#fail("model: generator changed the node id of an initialized client");
    }
    return { kind: "reply", type: MsgType.InitReply, code: error };
  }

  #expectNodeList(client: ModelClient, msg: DecodedMsg): Expected {
    const seq = msg.seqNumber;
    const type = msg.nodeListType;
    if (type === undefined || seq === undefined) return { kind: "error", code: 7 };
    const ids = (msg.nodes ?? []).map((n) => n.nodeId);
    const alg = client.algorithm;
    const own = ids.includes(client.nodeId);
    const reply = (votes: readonly Vote[]): Expected => ({
      kind: "reply",
      type: MsgType.NodeListReply,
      votes,
    });
    switch (type as NodeListType) {
      case 0:
      case 1: {
        let votes: readonly Vote[] = [Vote.NoChange];
        if (alg === 1) {
          if (!own) return { kind: "error", code: 18 };
          votes = type === 0 || client.mem.length === 0 ? [Vote.AskLater] : FFSPLIT_CHANGE;
        }
        if (alg === 2 && ids.length !== 2) return { kind: "error", code: 12 };
        client.cfg = ids;
        return reply(votes);
      }
      case 2: {
        if (msg.ringId === undefined) return { kind: "error", code: 7 };
        const votes: readonly (readonly Vote[])[] = [
          [Vote.Ack],
          client.cfg.length === 0 ? [Vote.AskLater] : FFSPLIT_CHANGE,
          [Vote.Ack, Vote.Nack],
          LMS_VOTES,
        ];
        if (alg === 1 && !own) return { kind: "error", code: 19 };
        client.mem = ids;
        client.ring = msg.ringId;
        client.memRing = msg.ringId;
        client.heuristics = msg.heuristics ?? 0;
        return reply(votes[alg]!);
      }
      default:
        if (msg.quorate === undefined) return { kind: "error", code: 7 };
        return reply(alg === 3 ? LMS_VOTES : [Vote.NoChange]);
    }
  }

  #checkReply(
    client: ModelClient,
    msg: DecodedMsg,
    bytes: Uint8Array,
    expected: Expected,
    actions: Action[],
  ): void {
    const own = actions.filter((a) => a.clientId === client.clientId);
    const others = actions.filter((a) => a.clientId !== client.clientId);
    const voteInfos = own.filter((a) => a.kind === "send" && a.msg.type === MsgType.VoteInfo);
    const rest = own.filter((a) => !voteInfos.includes(a));
    const describe = () => JSON.stringify(own, (_, v) => typeof v === "bigint" ? `${v}n` : v);
    // VOTE_INFOs to the sender come first (reference §11.1), then the reply.
    const firstRest = own.findIndex((a) => !voteInfos.includes(a));
    if (firstRest >= 0 && own.slice(firstRest).some((a) => voteInfos.includes(a))) {
      this.#fail(`a VOTE_INFO to the sender came after its reply: ${describe()}`);
    }
    this.#deliverUnsolicited(voteInfos, client);
    switch (expected.kind) {
      case "none":
        if (rest.length !== 0) this.#fail(`expected no reply, got ${describe()}`);
        break;
      case "disconnect":
        if (rest.length !== 1 || rest[0]!.kind !== "disconnect") {
          this.#fail(`expected a disconnect, got ${describe()}`);
        }
        this.#drop(client);
        this.#serverClosed.add(client.index);
        break;
      case "error": {
        const a = rest[0];
        if (
          rest.length !== 1 || a?.kind !== "send" || a.msg.type !== MsgType.ServerError ||
          a.msg.replyErrorCode !== expected.code || a.msg.seqNumber !== msg.seqNumber
        ) {
          this.#fail(`expected SERVER_ERROR ${expected.code} seq ${msg.seqNumber}: ${describe()}`);
        }
        this.#record(client, a.msg);
        this.#stats.errors++;
        client.vote = undefined;
        break;
      }
      case "reply": {
        const a = rest[0];
        if (rest.length !== 1 || a?.kind !== "send" || a.msg.type !== expected.type) {
          this.#fail(`expected one message of type ${expected.type}, got ${describe()}`);
        }
        this.#checkReplyFields(client, msg, bytes, a.msg, expected);
        this.#record(client, a.msg);
        break;
      }
    }
    this.#deliverUnsolicited(others, client);
  }

  #checkReplyFields(
    client: ModelClient,
    msg: DecodedMsg,
    bytes: Uint8Array,
    reply: ServerMsg,
    expected: { votes?: readonly Vote[]; code?: number },
  ): void {
    const fail = (what: string) =>
      this.#fail(
        `reply ${what} wrong: ${
          JSON.stringify(reply, (_, v) => typeof v === "bigint" ? `${v}n` : v)
        }`,
      );
    if (reply.type === MsgType.EchoReply) {
      if (reply.request.join() !== bytes.join()) fail("echo bytes");
      return;
    }
    if (reply.seqNumber !== msg.seqNumber) fail("seq");
    switch (reply.type) {
      case MsgType.PreinitReply:
        if (reply.tlsSupported !== 0) fail("TLS mode");
        if (reply.tlsClientCertRequired !== this.#settings.tlsClientCertRequired) fail("cert flag");
        return;
      case MsgType.InitReply: {
        const code = expected.code ?? 0;
        if (reply.replyErrorCode !== code) fail(`error code (expected ${code})`);
        if (reply.withSupportedMessages !== (msg.supportedMessages !== undefined)) fail("lists");
        if (reply.withSupportedOptions !== (msg.supportedOptions !== undefined)) fail("lists");
        if (reply.serverMaximumRequestSize !== 32768) fail("sizes");
        return;
      }
      case MsgType.SetOptionReply:
        if (reply.heartbeatInterval !== msg.heartbeatInterval) fail("heartbeat");
        if (reply.keepActivePartitionTieBreaker !== msg.keepActivePartitionTieBreaker) fail("KAP");
        return;
      case MsgType.NodeListReply:
      case MsgType.AskForVoteReply:
      case MsgType.HeuristicsChangeReply: {
        if (!ringEq(reply.ringId, client.ring)) fail("ring id");
        if (!(expected.votes ?? ALL_VOTES).includes(reply.vote)) {
          fail(`vote (allowed ${expected.votes?.join("/")})`);
        }
        if (reply.type === MsgType.NodeListReply && reply.nodeListType !== msg.nodeListType) {
          fail("list type");
        }
        if (reply.type === MsgType.HeuristicsChangeReply && reply.heuristics !== msg.heuristics) {
          fail("heuristics");
        }
        this.#applyVote(client, reply.vote);
        return;
      }
    }
  }

  #applyVote(client: ModelClient, vote: Vote): void {
    if (vote === Vote.Ack || vote === Vote.Nack) client.vote = vote;
    else if (vote === Vote.AskLater || vote === Vote.WaitForReply) client.vote = undefined;
  }

  /** Server-initiated messages: VOTE_INFOs (ffsplit re-decisions, lms timers) only. */
  #deliverUnsolicited(actions: readonly Action[], trigger: ModelClient | undefined): void {
    for (const action of actions) {
      const target = this.#byId.get(action.clientId);
      if (target === undefined || !target.connected) {
        this.#fail(`action ${action.kind} for a client that is not connected`);
      }
      if (action.kind !== "send" || action.msg.type !== MsgType.VoteInfo) {
        this.#fail(`unexpected unsolicited ${action.kind} to client ${target.index}`);
      }
      const m = action.msg;
      const alg = target.algorithm;
      // ffsplit decides on messages and disconnects; lms only from its timer.
      const allowed = trigger === undefined ? alg === 1 || alg === 3 : alg === 1;
      if (!target.init || !allowed) {
        this.#fail(`VOTE_INFO to client ${target.index} (algorithm ${alg}, init ${target.init})`);
      }
      if (
        alg === 1 && trigger !== undefined && trigger !== target &&
        trigger.preinit !== target.preinit
      ) {
        this.#fail(`ffsplit VOTE_INFO crossed clusters (${trigger.preinit} -> ${target.preinit})`);
      }
      if (m.seqNumber !== target.lastVoteInfoSeq + 1) {
        this.#fail(`VOTE_INFO seq ${m.seqNumber} after ${target.lastVoteInfoSeq}`);
      }
      if (m.vote !== Vote.Ack && m.vote !== Vote.Nack) this.#fail(`VOTE_INFO vote ${m.vote}`);
      if (!ringEq(m.ringId, target.ring)) this.#fail(`VOTE_INFO ring to ${target.index}`);
      target.lastVoteInfoSeq = m.seqNumber;
      target.pendingVoteInfos.push(m.seqNumber);
      target.vote = m.vote;
      this.#stats.voteInfos++;
      if (m.vote === Vote.Ack) this.#stats.acks++;
      this.#trace.push(`  -> #${target.index} VOTE_INFO seq ${m.seqNumber} vote ${m.vote}`);
      this.#record(target, m);
    }
  }

  #record(client: ModelClient, msg: ServerMsg): void {
    const bytes = encodeServerMsg(msg);
    if (bytes.length > this.#settings.maxClientSendSize) this.#fail("reply larger than send size");
    this.#received.get(client.index)!.push(bytes);
    this.#stepReplies.at(-1)!.push({ client: client.index, bytes });
  }

  /** Under ffsplit, all ACK holders of a cluster share one membership set. */
  #checkFfsplitSafety(): void {
    for (const [name, members] of this.#clusters) {
      const holders = members.filter((m) => m.connected && m.vote === Vote.Ack);
      if (holders.length < 2 || holders[0]!.algorithm !== 1) continue;
      const first = holders[0]!;
      for (const other of holders.slice(1)) {
        // Partitions are told apart by their member sets. The rings may differ: a failed INIT
        // (error 17 on a second INIT) overwrites the stored ring, as in C (reference §11.4),
        // so the server can see two clients of one partition in one ring when they are not.
        if (setKey(first.mem) !== setKey(other.mem)) {
          const show = (m: ModelClient) =>
            `node ${m.nodeId} (ring ${m.memRing.nodeId}.${m.memRing.seq}, members ${
              setKey(m.mem)
            })`;
          this.#fail(`ffsplit cluster ${name}: ${show(first)} and ${show(other)} both hold ACK`);
        }
      }
    }
  }
}

function describeMsg(m: DecodedMsg): string {
  const parts: string[] = [`type ${m.type}`];
  if (m.seqNumber !== undefined) parts.push(`seq ${m.seqNumber}`);
  if (m.nodeListType !== undefined) parts.push(`list ${m.nodeListType}`);
  if (m.nodes !== undefined) parts.push(`nodes ${m.nodes.map((n) => n.nodeId).join(",")}`);
  if (m.ringId !== undefined) parts.push(`ring ${m.ringId.nodeId}.${m.ringId.seq}`);
  if (m.heuristics !== undefined) parts.push(`h ${m.heuristics}`);
  if (m.decisionAlgorithm !== undefined) parts.push(`alg ${m.decisionAlgorithm}`);
  if (m.nodeId !== undefined) parts.push(`node ${m.nodeId}`);
  if (m.clusterName !== undefined) parts.push(`name ${new TextDecoder().decode(m.clusterName)}`);
  return parts.join(" ");
}
