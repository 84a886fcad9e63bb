/**
 * One emulated corosync-qdevice (model net, ffsplit) connection, for the load generator.
 *
 * It sends what the real client sends (reference qnetd-algorithms.md §1.7): PREINIT, then
 * INIT once the PREINIT_REPLY is in, then SET_OPTION(KAP on), the initial config list,
 * the membership list and the quorum list; an ECHO_REQUEST every heartbeat; a
 * VOTE_INFO_REPLY for every VOTE_INFO; a new membership (plus quorum) list on every
 * scenario change. Every message from the server is checked (sequence numbers, reply
 * types, votes expected by the scenario, ring ids); failures go to the error tally.
 *
 * With TLS (the host's `tls` contexts, the client's `tls` setting "on"), a server that
 * supports TLS gets STARTTLS right after the PREINIT_REPLY, then the handshake on the same
 * socket (SNI "Qnetd Server", the cluster's client certificate), and everything from INIT on
 * goes through TLS, as `qdevice_net_msg_received_preinit_reply()` does it.
 *
 * Like the real client (qdevice-net-msg-received.c, qdevice-model-net.c) it drops the
 * connection on SERVER_ERROR, undecodable or unexpected messages, a failed INIT, or an echo
 * reply still missing at the next heartbeat, and reconnects after a random delay below
 * 0.9 × the cast-vote timer interval (0.5 × the device timeout = 0.625 × heartbeat).
 * Unlike it, it also reconnects after a SERVER_ERROR (the real one exits) and waits that
 * delay after a failed connect too, so that a dead server is not hammered.
 *
 * @module
 */
import { FrameDecoder } from "../../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import {
  encodeConfigNodeList,
  encodeEchoRequest,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
  encodeStartTls,
  encodeVoteInfoReply,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  msgTypeName,
  NodeListType,
  NodeState,
  Quorate,
  TieBreakerMode,
  TlsSupported,
  Vote,
  voteName,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg, RingId } from "../../core/protocol/types.ts";
import { type ClusterScenario, sameRing } from "./scenario.ts";
import type { ErrorTally } from "./stats.ts";
import { type TlsClientContexts, TlsClientSession } from "./tls_client.ts";
import { concatBytes } from "../../core/bytes.ts";

type Timer = ReturnType<typeof setTimeout>;

/** Largest message the real client accepts (QDEVICE_NET_DEFAULT_MAX_MSG_RECEIVE_SIZE). */
const CLIENT_MAX_RECEIVE_SIZE = 1 << 24;
/** Smallest request size the real client needs the server to accept. */
const CLIENT_MIN_SEND_SIZE = 1 << 15;

/** What a client needs from the group running it. */
export interface ClientHost {
  readonly hostname: string;
  readonly port: number;
  readonly heartbeatMs: number;
  /** The real client's connect_timeout: its heartbeat interval unless configured. */
  readonly connectTimeoutMs: number;
  readonly errors: ErrorTally;
  readonly counters: Counters;
  /** Client TLS contexts (the client's tls setting "on"), or null (setting "off"). */
  readonly tls: TlsClientContexts | null;
  /** True once the run is over: losses are then expected, not errors. */
  readonly closing: boolean;
  now(): number;
  /** An echo round trip, in ms. */
  echoRtt(ms: number): void;
  /** A VOTE_INFO was accepted, or the connection was lost: the client's vote changed. */
  voteChanged(client: LoadClient): void;
}

/** Message and connection counters of a group. */
export interface Counters {
  sent: number;
  received: number;
  connects: number;
  disconnects: number;
  /** TLS handshakes completed. */
  tlsHandshakes: number;
}

/** A request waiting for its reply. */
interface Pending {
  readonly reply: MsgType;
  readonly seq: number;
  readonly listType?: NodeListType;
  /** The ring the server must report in a NODE_LIST_REPLY. */
  readonly ring?: RingId;
}

/** Votes ffsplit may put in a NODE_LIST_REPLY, per list type (reference §2.2). */
const NODE_LIST_REPLY_VOTES: ReadonlyMap<NodeListType, readonly Vote[]> = new Map([
  [NodeListType.InitialConfig, [Vote.AskLater]],
  [NodeListType.ChangedConfig, [Vote.AskLater, Vote.WaitForReply, Vote.NoChange]],
  [NodeListType.Membership, [Vote.WaitForReply, Vote.NoChange]],
  [NodeListType.Quorum, [Vote.NoChange]],
]);

function ringText(r: RingId | undefined): string {
  return r === undefined ? "none" : `${r.nodeId}.${r.seq}`;
}

/** One emulated qdevice. `start()` connects; it then keeps reconnecting until `close()`. */
export class LoadClient {
  readonly scenario: ClusterScenario;
  readonly nodeId: number;
  readonly #host: ClientHost;
  #conn: Deno.TcpConn | null = null;
  /** Aborts the TCP connect in flight, so that a client never holds two sockets. */
  #connectAbort: AbortController | null = null;
  /** Set from STARTTLS on: every byte in and out goes through it. */
  #tls: TlsClientSession | null = null;
  /** Bumped on every (re)connect so that events of an old connection are ignored. */
  #generation = 0;
  #decoder = new FrameDecoder(CLIENT_MAX_RECEIVE_SIZE);
  #seq = 0;
  #echoSeq = 0;
  #echoSentAt: number | null = null;
  #pending: Pending[] = [];
  #voteInfoSeq = 0;
  #lastRingSent: RingId | undefined;
  #out: Uint8Array[] = [];
  #writing = false;
  #timers = new Set<Timer>();
  #echoTimer: ReturnType<typeof setInterval> | undefined;
  #connectTimer: Timer | undefined;
  #closed = false;
  /** INIT accepted: the client is in its cluster on the server. */
  initDone = false;
  /** Last ACK/NACK received in a VOTE_INFO on this connection, and its ring. */
  vote: Vote = Vote.Undefined;
  voteRing: RingId | undefined;

  constructor(scenario: ClusterScenario, nodeId: number, host: ClientHost) {
    this.scenario = scenario;
    this.nodeId = nodeId;
    this.#host = host;
  }

  /** `cluster/node` for error messages. */
  get label(): string {
    return `${this.scenario.name}/${this.nodeId}`;
  }

  /** True when the client holds the final vote the scenario expects, for the current ring. */
  get settled(): boolean {
    return this.vote === this.scenario.expectedVote(this.nodeId) &&
      sameRing(this.voteRing, this.scenario.membershipOf(this.nodeId).ringId);
  }

  /** One line on where this client stands, for reports about clients that never voted. */
  describe(): string {
    const stage = this.#conn === null
      ? "not connected"
      : this.initDone
      ? "initialised"
      : this.#tls !== null && !this.#tls.handshakeDone
      ? "in the TLS handshake"
      : this.#pending[0]?.reply === MsgType.PreinitReply
      ? "waiting for PREINIT_REPLY"
      : "waiting for INIT_REPLY";
    const waiting = this.#pending.map((p) => msgTypeName(p.reply)).join(", ") || "nothing";
    return `${this.label}: ${stage}, awaiting ${waiting}, vote ${voteName(this.vote)} ` +
      `ring ${ringText(this.voteRing)} (expected ${
        voteName(this.scenario.expectedVote(this.nodeId))
      } ` +
      `ring ${ringText(this.scenario.membershipOf(this.nodeId).ringId)})`;
  }

  /** Connects (once; later reconnects happen on their own). */
  start(): Promise<void> {
    return this.#connect();
  }

  /** Stops for good: closes the connection and cancels every timer. */
  close(): void {
    this.#closed = true;
    this.#teardown();
  }

  /** Reports the scenario's current membership (MEMBERSHIP then QUORUM), if connected. */
  sendMembership(): void {
    if (!this.initDone) return; // Sent after INIT when the client comes back.
    const m = this.scenario.membershipOf(this.nodeId);
    this.#lastRingSent = m.ringId;
    this.#request(
      encodeMembershipNodeList({ seqNumber: ++this.#seq, ringId: m.ringId, nodeIds: m.nodeIds }),
      {
        reply: MsgType.NodeListReply,
        seq: this.#seq,
        listType: NodeListType.Membership,
        ring: m.ringId,
      },
    );
    const quorate = this.scenario.expectedVote(this.nodeId) === Vote.Ack ||
      m.nodeIds.length * 2 > this.scenario.nodeIds.length;
    const nodes = this.scenario.nodeIds.map((nodeId) => ({
      nodeId,
      dataCenterId: 0,
      nodeState: m.nodeIds.includes(nodeId) ? NodeState.Member : NodeState.Dead,
    }));
    this.#request(
      encodeQuorumNodeList({
        seqNumber: ++this.#seq,
        quorate: quorate ? Quorate.Quorate : Quorate.Inquorate,
        nodes,
      }),
      {
        reply: MsgType.NodeListReply,
        seq: this.#seq,
        listType: NodeListType.Quorum,
        ring: m.ringId,
      },
    );
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    const host = this.#host;
    // As qdevice's connect_timer, this runs until the INIT_REPLY, not just the TCP connect.
    this.#connectTimer = this.#timer(() => {
      if (generation !== this.#generation) return;
      const stage = this.#conn === null ? "no connection" : "no INIT_REPLY";
      this.#drop("connect-timeout", `${stage} within ${host.connectTimeoutMs} ms`);
    }, host.connectTimeoutMs);
    let conn: Deno.TcpConn;
    try {
      this.#connectAbort = new AbortController();
      conn = await Deno.connect({
        hostname: host.hostname,
        port: host.port,
        signal: this.#connectAbort.signal,
      });
    } catch (e) {
      if (generation !== this.#generation || this.#closed) return;
      this.#connectAbort = null;
      this.#clearTimer(this.#connectTimer);
      host.errors.add("connect-failed", `${this.label}: ${(e as Error).message}`);
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed || generation !== this.#generation) {
      conn.close(); // Abandoned: timed out or closed meanwhile.
      return;
    }
    this.#connectAbort = null;
    conn.setNoDelay(true);
    this.#conn = conn;
    host.counters.connects++;
    this.#readLoop(conn, generation);
    this.#request(
      encodePreinit({ seqNumber: ++this.#seq, clusterName: this.scenario.name }),
      { reply: MsgType.PreinitReply, seq: this.#seq },
    );
  }

  async #readLoop(conn: Deno.TcpConn, generation: number): Promise<void> {
    const buffer = new Uint8Array(65536);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (e) {
        if (generation === this.#generation) {
          this.#drop("disconnect", `read: ${(e as Error).message}`);
        }
        return;
      }
      if (generation !== this.#generation) return;
      if (n === null) {
        this.#drop("disconnect", "server closed the connection");
        return;
      }
      let data: Uint8Array = buffer.subarray(0, n);
      const tls = this.#tls;
      if (tls !== null) {
        const wasDone = tls.handshakeDone;
        try {
          data = tls.receive(data);
        } catch (e) {
          this.#drop("tls", (e as Error).message);
          return;
        }
        if (!wasDone && tls.handshakeDone) this.#host.counters.tlsHandshakes++;
        this.#sendTlsRecords();
      }
      let offset = 0;
      while (offset < data.length && generation === this.#generation) {
        const { consumed, events } = this.#decoder.feed(data.subarray(offset));
        offset += consumed;
        for (const event of events) {
          if (generation !== this.#generation) break;
          if (event.kind === "message") this.#received(event.bytes);
          else if (event.kind === "skipStarted") {
            this.#drop("unexpected-msg", `unsupported message type ${event.msgType}`);
          }
        }
      }
    }
  }

  #received(bytes: Uint8Array): void {
    this.#host.counters.received++;
    const decoded = decodeMsg(bytes);
    if (!decoded.ok) {
      this.#drop("decode", `${decoded.failure} in a ${msgTypeName(decoded.partial.type)} message`);
      return;
    }
    const msg = decoded.msg;
    switch (msg.type) {
      case MsgType.ServerError:
        this.#drop("server-error", `error code ${msg.replyErrorCode ?? "missing"}`);
        return;
      case MsgType.VoteInfo:
        this.#voteInfo(msg);
        return;
      case MsgType.EchoReply:
        this.#echoReply(msg);
        return;
    }
    const head = this.#pending[0];
    if (head === undefined || head.reply !== msg.type) {
      const wanted = head === undefined ? "nothing" : msgTypeName(head.reply);
      this.#drop("unexpected-msg", `got ${msgTypeName(msg.type)}, expected ${wanted}`);
      return;
    }
    this.#pending.shift();
    if (msg.seqNumber !== head.seq) {
      this.#error("wrong-seq", `${msgTypeName(msg.type)} seq ${msg.seqNumber}, sent ${head.seq}`);
      // The real client disconnects when a PREINIT or INIT reply has the wrong seq.
      if (msg.type === MsgType.PreinitReply || msg.type === MsgType.InitReply) {
        this.#drop("handshake", "wrong seq in handshake reply");
        return;
      }
    }
    switch (msg.type) {
      case MsgType.PreinitReply:
        this.#preinitReply(msg);
        return;
      case MsgType.InitReply:
        this.#initReply(msg);
        return;
      case MsgType.SetOptionReply:
        if (msg.keepActivePartitionTieBreaker !== 1) {
          this.#error("bad-reply", "SET_OPTION_REPLY without the KAP value sent");
        }
        return;
      case MsgType.NodeListReply:
        this.#nodeListReply(msg, head);
        return;
    }
  }

  #preinitReply(msg: DecodedMsg): void {
    if (msg.tlsSupported === undefined || msg.tlsClientCertRequired === undefined) {
      this.#drop("bad-reply", "PREINIT_REPLY without TLS options");
      return;
    }
    // qdevice_net_msg_received_check_tls_compatibility() with the client's setting on/off.
    const serverTls = msg.tlsSupported;
    if (this.#host.tls === null && serverTls === TlsSupported.Required) {
      this.#drop("incompatible-tls", "the server requires TLS, the client has it off");
      return;
    }
    if (this.#host.tls !== null && serverTls !== TlsSupported.Unsupported) {
      this.#send(encodeStartTls({ seqNumber: ++this.#seq }));
      try {
        this.#tls = new TlsClientSession(this.#host.tls, this.scenario.name);
        this.#tls.start();
      } catch (e) {
        this.#drop("tls", (e as Error).message);
        return;
      }
      this.#sendTlsRecords();
    }
    const m = this.scenario.membershipOf(this.nodeId);
    this.#lastRingSent = m.ringId;
    this.#request(
      encodeInit({
        seqNumber: ++this.#seq,
        nodeId: this.nodeId,
        decisionAlgorithm: DecisionAlgorithm.Ffsplit,
        heartbeatInterval: this.#host.heartbeatMs,
        tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
        ringId: m.ringId,
      }),
      { reply: MsgType.InitReply, seq: this.#seq },
    );
  }

  /** The checks of `qdevice_net_msg_received_init_reply()`, then what the client sends next. */
  #initReply(msg: DecodedMsg): void {
    if (msg.replyErrorCode !== 0) {
      this.#drop("init-error", `INIT_REPLY error code ${msg.replyErrorCode ?? "missing"}`);
      return;
    }
    if (
      msg.serverMaximumRequestSize === undefined || msg.serverMaximumReplySize === undefined ||
      msg.supportedMessages === undefined || msg.supportedOptions === undefined ||
      msg.supportedDecisionAlgorithms === undefined
    ) {
      this.#drop("bad-reply", "INIT_REPLY lacks a required option");
      return;
    }
    if (
      msg.serverMaximumRequestSize < CLIENT_MIN_SEND_SIZE ||
      msg.serverMaximumReplySize > CLIENT_MAX_RECEIVE_SIZE ||
      !msg.supportedDecisionAlgorithms.includes(DecisionAlgorithm.Ffsplit)
    ) {
      this.#drop("bad-reply", "INIT_REPLY sizes or algorithms not acceptable");
      return;
    }
    this.initDone = true;
    if (this.#connectTimer !== undefined) this.#clearTimer(this.#connectTimer);
    this.#echoTimer = setInterval(() => this.#echoTick(), this.#host.heartbeatMs);
    this.#request(encodeSetOption({ seqNumber: ++this.#seq, keepActivePartitionTieBreaker: 1 }), {
      reply: MsgType.SetOptionReply,
      seq: this.#seq,
    });
    this.#request(
      encodeConfigNodeList({
        seqNumber: ++this.#seq,
        initial: true,
        nodes: this.scenario.nodeIds.map((nodeId) => ({ nodeId, dataCenterId: 0, nodeState: 0 })),
      }),
      {
        reply: MsgType.NodeListReply,
        seq: this.#seq,
        listType: NodeListType.InitialConfig,
        ...(this.#lastRingSent === undefined ? {} : { ring: this.#lastRingSent }),
      },
    );
    this.sendMembership();
  }

  #nodeListReply(msg: DecodedMsg, sent: Pending): void {
    if (msg.vote === undefined || msg.nodeListType === undefined || msg.ringId === undefined) {
      this.#drop("bad-reply", "NODE_LIST_REPLY lacks vote, type or ring id");
      return;
    }
    if (msg.nodeListType !== sent.listType) {
      this.#error("bad-reply", `NODE_LIST_REPLY type ${msg.nodeListType}, sent ${sent.listType}`);
    }
    const allowed = NODE_LIST_REPLY_VOTES.get(sent.listType ?? NodeListType.Quorum) ?? [];
    if (!allowed.includes(msg.vote)) {
      this.#error(
        "wrong-vote",
        `${this.label}: NODE_LIST_REPLY(${sent.listType}) ${voteName(msg.vote)}`,
      );
    }
    if (!sameRing(msg.ringId, sent.ring)) {
      this.#error(
        "wrong-ring",
        `${this.label}: NODE_LIST_REPLY ring ${ringText(msg.ringId)}, expected ${
          ringText(sent.ring)
        }`,
      );
    }
  }

  #voteInfo(msg: DecodedMsg): void {
    if (msg.seqNumber === undefined || msg.vote === undefined || msg.ringId === undefined) {
      this.#drop("bad-reply", "VOTE_INFO lacks seq, vote or ring id");
      return;
    }
    if (msg.seqNumber !== this.#voteInfoSeq + 1) {
      this.#error(
        "wrong-seq",
        `${this.label}: VOTE_INFO seq ${msg.seqNumber} after ${this.#voteInfoSeq}`,
      );
    }
    this.#voteInfoSeq = msg.seqNumber;
    this.#send(encodeVoteInfoReply({ seqNumber: msg.seqNumber }));
    const expected = this.scenario.expectedVote(this.nodeId);
    if (msg.vote !== expected) {
      this.#error(
        "wrong-vote",
        `${this.label}: VOTE_INFO ${voteName(msg.vote)}, expected ${voteName(expected)}`,
      );
    }
    if (!sameRing(msg.ringId, this.#lastRingSent)) {
      this.#error(
        "wrong-ring",
        `${this.label}: VOTE_INFO ring ${ringText(msg.ringId)}, expected ${
          ringText(this.#lastRingSent)
        }`,
      );
    }
    this.vote = msg.vote;
    this.voteRing = msg.ringId;
    this.#host.voteChanged(this);
  }

  #echoReply(msg: DecodedMsg): void {
    if (this.#echoSentAt === null) {
      this.#drop("unexpected-msg", "ECHO_REPLY without an echo request");
      return;
    }
    if (msg.seqNumber !== this.#echoSeq) {
      // The real client only warns; the echo then counts as missing at the next tick.
      this.#error(
        "wrong-seq",
        `${this.label}: ECHO_REPLY seq ${msg.seqNumber}, sent ${this.#echoSeq}`,
      );
      return;
    }
    this.#host.echoRtt(this.#host.now() - this.#echoSentAt);
    this.#echoSentAt = null;
  }

  /** `qdevice_net_echo_request_timer_callback()`: missing reply → disconnect (ffsplit). */
  #echoTick(): void {
    if (this.#echoSentAt !== null) {
      this.#drop(
        "echo-timeout",
        `${this.label}: no echo reply within ${this.#host.heartbeatMs} ms`,
      );
      return;
    }
    this.#echoSentAt = this.#host.now();
    this.#send(encodeEchoRequest({ seqNumber: ++this.#echoSeq }));
  }

  #request(bytes: Uint8Array, pending: Pending): void {
    this.#pending.push(pending);
    this.#send(bytes);
  }

  #send(bytes: Uint8Array): void {
    if (this.#conn === null) return;
    this.#host.counters.sent++;
    if (this.#tls === null) {
      this.#sendRaw(bytes);
      return;
    }
    try {
      this.#tls.send(bytes);
    } catch (e) {
      this.#drop("tls", (e as Error).message);
      return;
    }
    this.#sendTlsRecords();
  }

  /** Queues what the TLS session has for the server (handshake or records). */
  #sendTlsRecords(): void {
    const records = this.#tls?.takeOutgoing();
    if (records !== undefined && records.length > 0) this.#sendRaw(records);
  }

  #sendRaw(bytes: Uint8Array): void {
    if (this.#conn === null) return;
    this.#out.push(bytes);
    if (!this.#writing) this.#flush(this.#conn, this.#generation);
  }

  /** One writer per connection, so messages never interleave. */
  async #flush(conn: Deno.TcpConn, generation: number): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length > 0 && generation === this.#generation) {
        const parts = this.#out;
        this.#out = [];
        let rest = parts.length === 1 ? parts[0]! : concatBytes(parts);
        while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
      }
    } catch (e) {
      if (generation === this.#generation) {
        this.#drop("disconnect", `write: ${(e as Error).message}`);
      }
    } finally {
      if (generation === this.#generation) this.#writing = false;
    }
  }

  #error(kind: string, detail: string): void {
    if (!this.#host.closing) this.#host.errors.add(kind, detail);
  }

  /** Ends this connection (counted as an error and a disconnect) and plans a reconnect. */
  #drop(kind: string, detail: string): void {
    if (this.#closed || this.#host.closing) {
      this.#teardown();
      return;
    }
    this.#host.errors.add(
      kind,
      detail.startsWith(this.label) ? detail : `${this.label}: ${detail}`,
    );
    if (this.#conn !== null) this.#host.counters.disconnects++;
    this.#teardown();
    this.#host.voteChanged(this);
    this.#scheduleReconnect();
  }

  #teardown(): void {
    this.#generation++;
    this.#connectAbort?.abort();
    this.#connectAbort = null;
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#conn = null;
    this.#tls?.close();
    this.#tls = null;
    clearInterval(this.#echoTimer);
    this.#echoTimer = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#decoder = new FrameDecoder(CLIENT_MAX_RECEIVE_SIZE);
    this.#seq = 0;
    this.#echoSeq = 0;
    this.#echoSentAt = null;
    this.#pending = [];
    this.#voteInfoSeq = 0;
    this.#out = [];
    this.#writing = false;
    this.initDone = false;
    this.vote = Vote.Undefined;
    this.voteRing = undefined;
  }

  /** `qdevice_model_net_post_poll_loop()`: sleep random() % (0.9 × cast-vote interval). */
  #scheduleReconnect(): void {
    if (this.#closed) return;
    const castVoteInterval = (this.#host.heartbeatMs / 0.8) * 0.5;
    const delay = Math.floor(Math.random() * Math.max(1, Math.floor(castVoteInterval * 0.9)));
    this.#timer(() => void this.#connect(), delay);
  }

  #timer(fn: () => void, ms: number): Timer {
    const id = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    this.#timers.add(id);
    return id;
  }

  #clearTimer(id: Timer): void {
    clearTimeout(id);
    this.#timers.delete(id);
  }
}
