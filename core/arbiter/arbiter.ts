/**
 * The arbiter: every connected client, their clusters, the DPD and algorithm timers, and the
 * decision algorithms, behind a small event API for the network edge. Pure: no sockets, no
 * bytes, no real time. The edge feeds it events (accept, decoded message, close, timer tick)
 * and carries out the actions it returns (send, start TLS, disconnect).
 *
 * Ports the non-network parts of qnetd-client-net.c (accept, read completion),
 * qnetd-instance.c (disconnect, shutdown), qnetd-client-dpd-timer.c and
 * qnetd-client-algo-timer.c, and dispatches to msg_handlers.ts.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import type { PeerCertNames } from "../certs/peer_names.ts";
import { type Log, type LogFields, Priority } from "../log.ts";
import {
  KeepActivePartitionTieBreaker,
  MsgType,
  ReplyError,
  TieBreakerMode,
  Vote,
  voteName,
} from "../protocol/constants.ts";
import type { DecodeFailure, DecodeResult, RingId, ServerMsg } from "../protocol/types.ts";
import { algorithmFor, type Reason } from "./algorithm.ts";
import { Client } from "./client.ts";
import { type Cluster, ClusterList } from "./cluster_list.ts";
import { clusterNameText, logClientDisconnect, logSendVoteInfo } from "./log_debug.ts";
import { DecisionHistory, type HistoryRecord } from "./history.ts";
import {
  type ClientEvent,
  disconnectedEvent,
  dpdEvent,
  isDecision,
  voteEvent,
} from "./history_events.ts";
import { type HandlerContext, MSG_HANDLERS, sendError } from "./msg_handlers.ts";
import { type ArbiterSettings, HEARTBEAT_INTERVAL_BEFORE_INIT } from "./settings.ts";
import type { ClientSnapshot, ClusterSnapshot, ServerSnapshot } from "./snapshot.ts";
import { TimerList } from "./timer_list.ts";

export type { ArbiterSettings } from "./settings.ts";

/** What the edge must do, in order. */
export type Action =
  /** Queue `msg` for the client. */
  | { kind: "send"; clientId: number; msg: ServerMsg }
  /** After STARTTLS: switch this socket to TLS now (the handshake follows). */
  | { kind: "startTls"; clientId: number }
  /**
   * Close now, dropping anything still queued for it. The arbiter has already forgotten the
   * client: a later `closed()` for it is a no-op.
   */
  | { kind: "disconnect"; clientId: number };

/** `log_common_msg_decode_error()`: priority and text per decode failure. */
const DECODE_FAILURE_LOGS: Readonly<Record<DecodeFailure, readonly [Priority, string]>> = {
  invalidLength: [Priority.Warning, "Received message with option with invalid length"],
  noMemory: [Priority.Crit, "Can't allocate memory"],
  inconsistent: [Priority.Warning, "Received inconsistent msg (tlv len > msg size)"],
  invalidValue: [Priority.Warning, "Received message with option with invalid value"],
};

/** The whole arbiter state machine (`struct qnetd_instance` without the sockets). */
export class Arbiter {
  readonly #settings: ArbiterSettings;
  readonly #log: Log;
  readonly #timers: TimerList;
  readonly #clusters = new ClusterList();
  /** Every connected client, in accept order (`instance->clients`). */
  readonly #clients = new Map<number, Client>();
  #nextId = 1;
  #actions: Action[] = [];
  readonly #ctx: HandlerContext;
  readonly #history: DecisionHistory;

  /**
   * `wallClock` stamps the decision history (ms since the epoch); without it, `clock`'s
   * milliseconds are used.
   */
  constructor(opts: {
    settings: ArbiterSettings;
    clock: Clock;
    log: Log;
    wallClock?: () => number;
    /**
     * Whether to give every log line the fields of the client it is about (cluster, node
     * id, address), for structured logs; asked at every line (the format is a live
     * setting). When false, the log gets only the fields a line names itself.
     */
    logFields?: () => boolean;
  }) {
    this.#settings = opts.settings;
    const log = opts.log;
    const logFields = opts.logFields;
    this.#log = logFields === undefined
      ? log
      : (priority, message, fields) =>
        log(priority, message, logFields() ? this.#fieldsOf(fields) : fields);
    this.#timers = new TimerList(opts.clock);
    this.#ctx = this.#makeContext();
    this.#history = new DecisionHistory(opts.settings, opts.wallClock ?? (() => opts.clock.now()));
  }

  /** The client whose event is being handled (for the log lines' fields). */
  #current: Client | undefined;

  /** The current client's fields, overridden by the line's own. */
  #fieldsOf(fields: LogFields | undefined): LogFields | undefined {
    const client = this.#current;
    if (client === undefined) return fields;
    const own: LogFields = {
      clientAddress: client.addrStr,
      ...(client.clusterName === undefined ? {} : { cluster: this.#nameText(client.clusterName) }),
      ...(client.initReceived ? { nodeId: client.nodeId >>> 0 } : {}),
    };
    return fields === undefined ? own : { ...own, ...fields };
  }

  /** Runs `fn` with `client` as the one the log lines are about. */
  #about<T>(client: Client, fn: () => T): T {
    const previous = this.#current;
    this.#current = client;
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }

  /** The decision history (`qnetd-tool --events`). */
  get history(): DecisionHistory {
    return this.#history;
  }

  /** Number of connected clients, including those that have not sent PREINIT. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * A new TCP connection (`qnetd_client_net_accept()`). Returns undefined when refused:
   * the maximum number of clients is reached, or the DPD timer cannot be created
   * (coefficient x 120000 ms outside 1..18000000). The edge then closes the socket.
   * `address` is "addr:port" as the C daemon prints it.
   */
  accept(address: string): { clientId: number; actions: Action[] } | undefined {
    const settings = this.#settings;
    if (settings.maxClients !== 0 && this.#clients.size >= settings.maxClients) {
      this.#log(Priority.Err, "Maximum clients reached. Not accepting connection");
      return undefined;
    }
    const client = new Client(this.#nextId, address);
    if (settings.dpdEnabled) {
      const entry = this.#timers.add(
        this.#dpdInterval(HEARTBEAT_INTERVAL_BEFORE_INIT),
        () => this.#about(client, () => this.#dpdExpired(client)),
      );
      if (entry === undefined) {
        this.#log(Priority.Err, `Can't initialize dpd timer for client ${address}`);
        return undefined;
      }
      client.dpdTimer = entry;
    }
    this.#nextId++;
    this.#clients.set(client.id, client);
    return { clientId: client.id, actions: [] };
  }

  /**
   * The edge started skipping a message (unknown type: reason 4; too long: reason 5), as
   * soon as its header was in. Logs as `qnetd_client_net_read()` does.
   */
  skipStarted(clientId: number, reason: 4 | 5, msgType: number, length: number): void {
    const client = this.#clients.get(clientId);
    if (client === undefined) return;
    client.skipping = true;
    this.#about(client, () => {
      this.#log(Priority.Debug, "msgio_read set skipping_msg");
      if (reason === ReplyError.UnsupportedMessage) {
        this.#log(
          Priority.Warning,
          `Client sent unsupported msg type ${msgType >>> 0}. Skipping message`,
          { errorCode: reason },
        );
      } else {
        this.#log(
          Priority.Warning,
          `Client wants to send too long message ${length >>> 0} bytes. Skipping message`,
          { errorCode: reason },
        );
      }
    });
  }

  /**
   * A skipped message is complete: SERVER_ERROR(reason) without seq. The DPD timer is not
   * restarted. Call it without `skipStarted()` for an unknown type with length 0, which C
   * completes in the same read, before recording a reason: then `reason` is 0.
   */
  skipped(clientId: number, reason: number): Action[] {
    const client = this.#clients.get(clientId);
    if (client === undefined) return [];
    if (!client.skipping) {
      this.#about(client, () => this.#log(Priority.Debug, "msgio_read set skipping_msg"));
    }
    client.skipping = false;
    sendError(this.#ctx, client, undefined, reason);
    return this.#flush();
  }

  /**
   * A complete message (`qnetd_client_msg_received()`): restarts the DPD timer, answers a
   * decode failure with SERVER_ERROR 9 (with the seq if it was decoded), else runs the
   * handler of its type. `raw` is the whole message (header included) for ECHO_REPLY.
   */
  received(clientId: number, raw: Uint8Array, decoded: DecodeResult): Action[] {
    const client = this.#clients.get(clientId);
    if (client === undefined) return [];
    return this.#about(client, () => this.#received(client, raw, decoded));
  }

  #received(client: Client, raw: Uint8Array, decoded: DecodeResult): Action[] {
    if (client.dpdTimer !== undefined) this.#timers.reschedule(client.dpdTimer);
    if (!decoded.ok) {
      const [priority, text] = DECODE_FAILURE_LOGS[decoded.failure];
      this.#log(priority, text);
      this.#log(Priority.Info, "Sending back error message", {
        errorCode: ReplyError.ErrorDecodingMsg,
      });
      sendError(this.#ctx, client, decoded.partial.seqNumber, ReplyError.ErrorDecodingMsg);
      return this.#flush();
    }
    const msg = decoded.msg;
    const handler = MSG_HANDLERS[msg.type];
    if (handler === undefined) {
      this.#log(
        Priority.Err,
        `Unsupported message ${msg.type} received from client. Sending back error message`,
        { errorCode: ReplyError.UnsupportedMessage },
      );
      sendError(this.#ctx, client, msg.seqNumber, ReplyError.UnsupportedMessage);
      return this.#flush();
    }
    if (handler(this.#ctx, client, msg, raw) === "disconnect") {
      this.#disconnect(client, false, "refused: TLS or client certificate");
    }
    return this.#flush();
  }

  /**
   * The TLS handshake after STARTTLS completed. `peerCertNames`: what NSS's name check reads
   * from the client certificate (core/certs/peer_names.ts); undefined when none was sent.
   * The name is checked against the PREINIT cluster name on the next message, as in C.
   */
  tlsEstablished(clientId: number, peerCertNames: PeerCertNames | undefined): void {
    const client = this.#clients.get(clientId);
    if (client === undefined) return;
    client.peerCertNames = peerCertNames;
  }

  /**
   * The connection is gone (EOF, read/write error, send queue overflow): the C disconnect
   * path, including the ffsplit re-decision that may send votes to the other clients.
   * `reason` says how, for the decision history.
   */
  closed(
    clientId: number,
    reason = "connection closed (by the client or a network error)",
  ): Action[] {
    const client = this.#clients.get(clientId);
    if (client === undefined) return [];
    this.#about(client, () => this.#disconnect(client, false, reason));
    return this.#flush();
  }

  /** Runs the DPD and algorithm timers due now, then the disconnects DPD asked for. */
  expireTimers(): Action[] {
    this.#timers.expire();
    for (const client of [...this.#clients.values()]) {
      if (client.scheduleDisconnect) {
        this.#about(
          client,
          () => this.#disconnect(client, false, "dead peer detection (no message in time)"),
        );
      }
    }
    return this.#flush();
  }

  /** Milliseconds until `expireTimers()` has work, undefined when no timer runs. */
  msUntilNextTimer(): number | undefined {
    return this.#timers.msUntilNext();
  }

  /**
   * The server is going down (`qnetd_instance_destroy()`): every client is disconnected in
   * accept order with server_going_down set, so ffsplit sends nothing.
   */
  shutdown(): Action[] {
    for (const client of [...this.#clients.values()]) {
      this.#about(client, () => this.#disconnect(client, true, "server going down"));
    }
    return this.#flush();
  }

  /** The state as `corosync-qnetd-tool` and the cmap keys show it. */
  snapshot(listen: { address: string; port: number }): ServerSnapshot {
    const settings = this.#settings;
    return {
      listenAddress: listen.address,
      listenPort: listen.port,
      tlsSupported: settings.tlsSupported,
      tlsClientCertRequired: settings.tlsClientCertRequired,
      connectedClients: this.#clients.size,
      maxClients: settings.maxClients,
      maxClientSendSize: settings.maxClientSendSize,
      maxClientReceiveSize: settings.maxClientReceiveSize,
      clusters: this.#clusters.clusters.map((cluster): ClusterSnapshot => {
        const first = cluster.clients[0];
        return {
          name: cluster.name.slice(),
          decisionAlgorithm: (first?.decisionAlgorithm ?? 0) as ClusterSnapshot[
            "decisionAlgorithm"
          ],
          tieBreaker:
            (first?.tieBreaker ?? { mode: TieBreakerMode.Lowest, nodeId: 0 }) as ClusterSnapshot[
              "tieBreaker"
            ],
          clients: cluster.clients.map(clientSnapshot),
        };
      }),
    };
  }

  /**
   * The clusters and their clients as they are, not copied: the metrics read them once a
   * scrape and must not allocate per client. Read-only for the caller.
   */
  liveClusters(): readonly Cluster[] {
    return this.#clusters.clusters;
  }

  #makeContext(): HandlerContext {
    return {
      log: this.#log,
      settings: this.#settings,
      clusters: this.#clusters,
      send: (client, msg) => this.#actions.push({ kind: "send", clientId: client.id, msg }),
      startTls: (client) => this.#actions.push({ kind: "startTls", clientId: client.id }),
      updateDpdInterval: (client) =>
        client.dpdTimer === undefined ||
        this.#timers.setInterval(client.dpdTimer, this.#dpdInterval(client.heartbeatInterval)),
      sendVoteInfo: (client, seq, ring, vote, reason) =>
        this.#sendVoteInfo(client, seq, ring, vote, reason),
      record: (client, make) => this.#record(client, make),
      scheduleAlgoTimer: (client) => this.#scheduleAlgoTimer(client),
      abortAlgoTimer: (client) => this.#abortAlgoTimer(client),
    };
  }

  #flush(): Action[] {
    const actions = this.#actions;
    this.#actions = [];
    return actions;
  }

  /** `(PRUint32)(dpd_interval_coefficient * heartbeat)`. */
  #dpdInterval(heartbeat: number): number {
    const value = Math.trunc(this.#settings.dpdIntervalCoefficient * heartbeat);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  /** `qnetd_dpd_timer_cb()`. */
  #dpdExpired(client: Client): boolean {
    this.#log(
      Priority.Warning,
      `Client ${client.addrStr} doesn't sent any message during ${
        client.dpdTimer?.interval ?? 0
      }ms. Disconnecting`,
    );
    this.#record(client, () => dpdEvent(client.dpdTimer?.interval ?? 0));
    client.scheduleDisconnect = true;
    client.dpdTimer = undefined;
    return false;
  }

  /** Keeps an event in the client's cluster's history (a client before PREINIT has none). */
  #record(client: Client, make: () => ClientEvent): void {
    if (client.clusterName === undefined || !(this.#settings.historyEventsPerCluster > 0)) return;
    const event = make();
    const record: { -readonly [K in keyof HistoryRecord]: HistoryRecord[K] } = {
      cluster: this.#nameText(client.clusterName),
      kind: event.kind,
      nodeId: client.nodeId,
      address: client.addrStr,
      text: event.text,
    };
    if (event.vote !== undefined) record.vote = event.vote;
    if (event.reason !== undefined) record.reason = event.reason;
    this.#history.record(record);
  }

  /** Cluster names as text, decoded once per name (clients share their cluster's bytes). */
  readonly #names = new WeakMap<Uint8Array, string>();

  #nameText(name: Uint8Array): string {
    let text = this.#names.get(name);
    if (text === undefined) this.#names.set(name, text = clusterNameText(name));
    return text;
  }

  /** `qnetd_client_send_vote_info()`. */
  #sendVoteInfo(client: Client, seq: number, ring: RingId, vote: Vote, reason?: Reason): void {
    client.lastSentVote = vote;
    if (vote === Vote.Ack || vote === Vote.Nack) client.lastSentAckNackVote = vote;
    this.#about(client, () => logSendVoteInfo(this.#log, client, seq, vote));
    if (isDecision(vote)) this.#record(client, () => voteEvent(vote, "vote info", reason));
    this.#actions.push({
      kind: "send",
      clientId: client.id,
      msg: { type: MsgType.VoteInfo, seqNumber: seq, vote, ringId: ring },
    });
  }

  /** `qnetd_client_algo_timer_schedule()`: one timer per client, at heartbeat/4. */
  #scheduleAlgoTimer(client: Client): void {
    this.#abortAlgoTimer(client);
    const entry = this.#timers.add(
      Math.floor(client.heartbeatInterval / 4),
      () => this.#about(client, () => this.#algoTimerExpired(client)),
    );
    if (entry === undefined) this.#log(Priority.Err, "Can't schedule algo timer");
    client.algoTimer = entry;
  }

  /** `qnetd_client_algo_timer_abort()`. */
  #abortAlgoTimer(client: Client): void {
    if (client.algoTimer === undefined) return;
    this.#timers.delete(client.algoTimer);
    client.algoTimer = undefined;
  }

  /** `qnetd_client_algo_timer_callback()`: true = run again. */
  #algoTimerExpired(client: Client): boolean {
    const log = this.#log;
    const algorithm = algorithmFor(log, client, "qnetd_algorithm_timer_callback");
    const outcome = algorithm === undefined
      ? {
        error: ReplyError.InternalError,
        reschedule: false,
        sendVote: false,
        vote: Vote.WaitForReply,
      }
      : algorithm.timerCallback(this.#ctx, client);
    if (outcome.error !== ReplyError.NoError) {
      log(
        Priority.Err,
        `Algorithm for client ${client.addrStr} returned error code. Sending error reply.`,
      );
      sendError(this.#ctx, client, undefined, outcome.error);
      client.algoTimer = undefined;
      return false;
    }
    log(
      Priority.Debug,
      `Algorithm for client ${client.addrStr} decided to ${
        outcome.reschedule ? "reschedule" : "not reschedule"
      } timer and ${outcome.sendVote ? "send" : "not send"} vote with value ${
        voteName(outcome.vote)
      }`,
    );
    if (outcome.sendVote) {
      client.algoTimerVoteInfoSeq = (client.algoTimerVoteInfoSeq + 1) >>> 0;
      this.#sendVoteInfo(
        client,
        client.algoTimerVoteInfoSeq,
        client.lastRingId,
        outcome.vote,
        outcome.reason,
      );
    }
    if (outcome.reschedule) return true;
    client.algoTimer = undefined;
    return false;
  }

  /** `qnetd_instance_client_disconnect()`. */
  #disconnect(client: Client, serverGoingDown: boolean, reason: string): void {
    if (!this.#clients.has(client.id)) return;
    this.#actions.push({ kind: "disconnect", clientId: client.id });
    logClientDisconnect(this.#log, client, serverGoingDown);
    if (client.initReceived) this.#record(client, () => disconnectedEvent(reason));
    if (client.initReceived) {
      algorithmFor(this.#log, client, "qnetd_algorithm_client_disconnect")
        ?.clientDisconnect(this.#ctx, client, serverGoingDown);
    }
    if (client.dpdTimer !== undefined) {
      this.#timers.delete(client.dpdTimer);
      client.dpdTimer = undefined;
    }
    if (client.cluster !== undefined) this.#clusters.deleteClient(client.cluster, client);
    this.#abortAlgoTimer(client);
    this.#clients.delete(client.id);
  }
}

/** One client as `qnetd-tool -l -v` shows it. */
function clientSnapshot(client: Client): ClientSnapshot {
  const snapshot: ClientSnapshot = {
    address: client.addrStr,
    nodeId: client.nodeId,
    heartbeatInterval: client.heartbeatInterval,
    configNodeList: client.configNodeList.slice(),
    ringId: client.lastRingId,
    membershipNodeList: client.lastMembershipNodeList.slice(),
    quorumNodeList: client.lastQuorumNodeList.slice(),
    lastHeuristics: client.lastHeuristics,
    lastMembershipHeuristics: client.lastMembershipHeuristics,
    lastRegularHeuristics: client.lastRegularHeuristics,
    tlsStarted: client.tlsStarted,
    tlsPeerCertificateVerified: client.tlsPeerCertificateVerified,
    lastSentVote: client.lastSentVote,
    lastSentAckNackVote: client.lastSentAckNackVote,
    keepActivePartitionTieBreaker:
      client.keepActivePartitionTieBreaker !== KeepActivePartitionTieBreaker.Disabled,
  };
  return client.configVersion === undefined
    ? snapshot
    : { ...snapshot, configVersion: client.configVersion };
}
