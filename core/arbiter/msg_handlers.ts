/**
 * What the arbiter does with each complete, decoded client message: one handler per
 * message type, with the C daemon's checks, error precedence, log lines and replies.
 *
 * Port of qdevices/qnetd-client-msg-received.c. A handler returns "disconnect" where the C
 * handler returns -1 (certificate problems, STARTTLS that cannot start).
 *
 * @module
 */
import { type Log, type LogFields, Priority } from "../log.ts";
import {
  Heuristics,
  isDecisionAlgorithm,
  KeepActivePartitionTieBreaker,
  MsgType,
  NodeListType,
  type Quorate,
  ReplyError,
  TieBreakerMode,
  TlsSupported,
  Vote,
  voteName,
} from "../protocol/constants.ts";
import type { DecodedMsg, NodeInfo, RingId, ServerMsg } from "../protocol/types.ts";
import {
  type AlgoOutcome,
  type Algorithm,
  type AlgorithmContext,
  algorithmFor,
} from "./algorithm.ts";
import { certNameMatches } from "./cert_name.ts";
import { type Client, NO_TIE_BREAKER, ZERO_RING_ID } from "./client.ts";
import type { ClusterList } from "./cluster_list.ts";
import {
  logAskForVoteReceived,
  logConfigNodeListReceived,
  logHeuristicsChangeReceived,
  logMembershipNodeListReceived,
  logNewClientConnected,
  logQuorumNodeListReceived,
  logVoteInfoReplyReceived,
} from "./log_debug.ts";
import type { ArbiterSettings } from "./settings.ts";
import {
  algorithmErrorEvent,
  type ClientEvent,
  configListEvent,
  connectedEvent,
  heuristicsEvent,
  isDecision,
  membershipListEvent,
  quorumListEvent,
  refusedEvent,
  voteEvent,
} from "./history_events.ts";

/** The arbiter services a handler uses. */
export interface HandlerContext extends AlgorithmContext {
  readonly log: Log;
  readonly settings: ArbiterSettings;
  readonly clusters: ClusterList;
  /** Queues a message to the client, in order. */
  send(client: Client, msg: ServerMsg): void;
  /** Asks the edge to switch the client's socket to TLS now. */
  startTls(client: Client): void;
  /** `qnetd_client_dpd_timer_update_interval()`: false if the new interval is invalid. */
  updateDpdInterval(client: Client): boolean;
  /**
   * Keeps an event in the client's cluster's decision history; `make` runs only when a
   * history is kept.
   */
  record(client: Client, make: () => ClientEvent): void;
}

/** "ok" = keep the connection; "disconnect" = C's -1. */
export type HandlerResult = "ok" | "disconnect";

/** Handles one message; `raw` is the whole message as received (for ECHO_REPLY). */
export type Handler = (
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
  raw: Uint8Array,
) => HandlerResult;

/** `qnetd_client_send_err()`: SERVER_ERROR with the message's seq when it had one. */
export function sendError(
  ctx: HandlerContext,
  client: Client,
  seq: number | undefined,
  code: number,
): void {
  ctx.send(
    client,
    seq === undefined
      ? { type: MsgType.ServerError, replyErrorCode: code }
      : { type: MsgType.ServerError, seqNumber: seq, replyErrorCode: code },
  );
}

function withSeq<T extends object>(msg: T, seq: number | undefined): T & { seqNumber?: number } {
  return seq === undefined ? msg : { ...msg, seqNumber: seq };
}

/** `qnetd_client_msg_received_check_tls()`: "ok", "stop" (error 3 sent) or "disconnect". */
function checkTls(
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
): "ok" | "stop" | "disconnect" {
  const mode = ctx.settings.tlsSupported;
  const certRequired = ctx.settings.tlsClientCertRequired;
  let checkCertificate = false;
  if (mode === TlsSupported.Required) {
    if (!client.tlsStarted) {
      ctx.log(
        Priority.Err,
        "TLS is required but doesn't started yet. Sending back error message",
        { errorCode: ReplyError.TlsRequired },
      );
      sendError(ctx, client, msg.seqNumber, ReplyError.TlsRequired);
      return "stop";
    }
    checkCertificate = certRequired && !client.tlsPeerCertificateVerified;
  } else if (mode === TlsSupported.Supported) {
    checkCertificate = client.tlsStarted && certRequired && !client.tlsPeerCertificateVerified;
  }
  if (!checkCertificate) return "ok";
  if (client.peerCertNames === undefined) {
    ctx.log(Priority.Err, "Client doesn't sent valid certificate. Disconnecting client");
    return "disconnect";
  }
  if (!certNameMatches(client.peerCertNames, client.clusterName ?? new Uint8Array())) {
    ctx.log(Priority.Err, "Client doesn't sent certificate with valid CN. Disconnecting client");
    return "disconnect";
  }
  client.tlsPeerCertificateVerified = true;
  return "ok";
}

/**
 * The common start of every handler that needs INIT: check_tls, then INIT_REQUIRED with
 * `what` in "Received <what> before init message. Sending error reply.".
 * Returns a result to return at once, or undefined to go on.
 */
function needsInit(
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
  what: string,
): HandlerResult | undefined {
  const tls = checkTls(ctx, client, msg);
  if (tls === "disconnect") return "disconnect";
  if (tls === "stop") return "ok";
  if (!client.initReceived) {
    ctx.log(Priority.Err, `Received ${what} before init message. Sending error reply.`, {
      errorCode: ReplyError.InitRequired,
    });
    sendError(ctx, client, msg.seqNumber, ReplyError.InitRequired);
    return "ok";
  }
  return undefined;
}

/** The fields of a DOESNT_CONTAIN_REQUIRED_OPTION line. */
const MISSING: LogFields = Object.freeze({ errorCode: ReplyError.DoesntContainRequiredOption });

/** Logs and sends a missing-option error (DOESNT_CONTAIN_REQUIRED_OPTION). */
function missingOption(
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
  text: string,
): HandlerResult {
  ctx.log(Priority.Err, text, { errorCode: ReplyError.DoesntContainRequiredOption });
  sendError(ctx, client, msg.seqNumber, ReplyError.DoesntContainRequiredOption);
  return "ok";
}

/** Logs and sends an algorithm error (with the message's seq). */
function algorithmError(
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
  code: number,
): HandlerResult {
  ctx.log(Priority.Err, "Algorithm returned error code. Sending error reply.", { errorCode: code });
  sendError(ctx, client, msg.seqNumber, code);
  return "ok";
}

/**
 * Calls one vote-deciding callback of the client's algorithm, as the C wrappers in
 * qnetd-algorithm.c do: a client without a known algorithm logs and gets INTERNAL_ERROR.
 */
function decideVote(
  log: Log,
  client: Client,
  caller: string,
  call: (algorithm: Algorithm) => AlgoOutcome,
): AlgoOutcome {
  const algorithm = algorithmFor(log, client, caller);
  return algorithm === undefined
    ? { error: ReplyError.InternalError, vote: Vote.Undefined }
    : call(algorithm);
}

/** Records a reply vote as C does before sending it. */
function storeVote(client: Client, vote: Vote): void {
  client.lastSentVote = vote;
  if (vote === Vote.Ack || vote === Vote.Nack) client.lastSentAckNackVote = vote;
}

/** A server-only message type received from a client. */
function unexpected(what: string): Handler {
  return (ctx, client, msg) => {
    ctx.log(Priority.Err, `Received ${what} message. Sending back error message`, {
      errorCode: ReplyError.UnexpectedMessage,
    });
    sendError(ctx, client, msg.seqNumber, ReplyError.UnexpectedMessage);
    return "ok";
  };
}

/** The list to store: the cluster's shared copy once the client is in a cluster. */
function shareNodes(client: Client, nodes: readonly NodeInfo[]): readonly NodeInfo[] {
  return client.cluster?.shareNodeList(nodes) ?? nodes.slice();
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const preinit: Handler = (ctx, client, msg) => {
  if (msg.clusterName === undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received preinit message without cluster name. Sending error reply.",
    );
  }
  const previous = client.clusterName;
  // The decoder's copy, or the bytes of the cluster of that name: thousands of clients then
  // hold a few names, not one copy each.
  client.clusterName = ctx.clusters.findByName(msg.clusterName)?.name ?? msg.clusterName;
  client.preinitReceived = true;
  if (client.tlsPeerCertificateVerified && !sameBytes(previous, client.clusterName)) {
    // DIFFERENCE: corosync-qnetd checks the certificate's name once, so a certified client
    // could PREINIT again with another cluster name and join that cluster. Here the name is
    // checked again on the next message, which disconnects a certificate for another cluster.
    client.tlsPeerCertificateVerified = false;
  }
  ctx.send(
    client,
    withSeq({
      type: MsgType.PreinitReply,
      tlsSupported: ctx.settings.tlsSupported,
      tlsClientCertRequired: ctx.settings.tlsClientCertRequired,
    }, msg.seqNumber),
  );
  return "ok";
};

const startTls: Handler = (ctx, client, msg) => {
  if (!client.preinitReceived) {
    ctx.log(Priority.Err, "Received starttls before preinit message. Sending error reply.", {
      errorCode: ReplyError.PreinitRequired,
    });
    sendError(ctx, client, msg.seqNumber, ReplyError.PreinitRequired);
    return "ok";
  }
  if (ctx.settings.tlsSupported === TlsSupported.Unsupported) {
    // Without -s on/req the C daemon has no server certificate and NSS refuses to start.
    ctx.log(
      Priority.Err,
      "Can't start TLS. Disconnecting client. (-8187): security library: invalid arguments.",
    );
    return "disconnect";
  }
  ctx.startTls(client);
  client.tlsStarted = true;
  client.tlsPeerCertificateVerified = false;
  client.peerCertNames = undefined;
  return "ok";
};

/**
 * `qnetd_client_msg_received_init_check_new_client()`: against every member of the
 * cluster of that name, in order: tie-breaker (15), algorithm (16), node id (17).
 */
function checkNewClient(ctx: HandlerContext, client: Client): number {
  const cluster = ctx.clusters.findByName(client.clusterName ?? new Uint8Array());
  for (const member of cluster?.clients ?? []) {
    const a = client.tieBreaker;
    const b = member.tieBreaker;
    if (a.mode !== b.mode || (a.mode === TieBreakerMode.NodeId && a.nodeId !== b.nodeId)) {
      ctx.log(
        Priority.Err,
        "Received init message contains tie-breaker which differs from rest of cluster. Sending error reply",
        { errorCode: ReplyError.TieBreakerDiffersFromOtherNodes },
      );
      return ReplyError.TieBreakerDiffersFromOtherNodes;
    }
    if (client.decisionAlgorithm !== member.decisionAlgorithm) {
      ctx.log(
        Priority.Err,
        "Received init message contains algorithm which differs from rest of cluster. Sending error reply",
        { errorCode: ReplyError.AlgorithmDiffersFromOtherNodes },
      );
      return ReplyError.AlgorithmDiffersFromOtherNodes;
    }
    if (client.nodeId === member.nodeId) {
      ctx.log(
        Priority.Err,
        "Received init message contains node id which is duplicate of other node in cluster. Sending error reply",
        { errorCode: ReplyError.DuplicateNodeId },
      );
      return ReplyError.DuplicateNodeId;
    }
  }
  return ReplyError.NoError;
}

/**
 * The heartbeat interval a client asks for (INIT, SET_OPTION): outside the configured range
 * it is logged and refused; else stored, and the DPD timer follows it.
 */
function setHeartbeatInterval(ctx: HandlerContext, client: Client, hb: number): number {
  if (hb < ctx.settings.heartbeatIntervalMin || hb > ctx.settings.heartbeatIntervalMax) {
    ctx.log(
      Priority.Err,
      `Client requested invalid heartbeat interval ${hb >>> 0}. Sending error reply.`,
      { errorCode: ReplyError.InvalidHeartbeatInterval },
    );
    return ReplyError.InvalidHeartbeatInterval;
  }
  client.heartbeatInterval = hb;
  return ctx.updateDpdInterval(client) ? ReplyError.NoError : ReplyError.InvalidHeartbeatInterval;
}

const init: Handler = (ctx, client, msg) => {
  const tls = checkTls(ctx, client, msg);
  if (tls === "disconnect") return "disconnect";
  if (tls === "stop") return "ok";
  const { settings, log } = ctx;
  let error: number = ReplyError.NoError;

  if (!client.preinitReceived) {
    log(Priority.Err, "Received init before preinit message. Sending error reply.", {
      errorCode: ReplyError.PreinitRequired,
    });
    error = ReplyError.PreinitRequired;
  }
  // Each check below only runs while there is no error yet, but C still stores the field
  // (or its zero value) when an earlier check failed.
  if (error === ReplyError.NoError && msg.nodeId === undefined) {
    log(Priority.Err, "Received init message without node id set. Sending error reply.", MISSING);
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.nodeId = msg.nodeId ?? 0;
  }
  if (error === ReplyError.NoError && msg.ringId === undefined) {
    log(Priority.Err, "Received init message without ring id set. Sending error reply.", MISSING);
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.lastRingId = msg.ringId ?? ZERO_RING_ID;
  }
  if (error === ReplyError.NoError && msg.heartbeatInterval === undefined) {
    log(
      Priority.Err,
      "Received init message without heartbeat interval set. Sending error reply.",
      MISSING,
    );
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    // C overwrites an earlier error when the interval is refused.
    const hbError = setHeartbeatInterval(ctx, client, msg.heartbeatInterval ?? 0);
    if (hbError !== ReplyError.NoError) error = hbError;
  }
  if (error === ReplyError.NoError && msg.tieBreaker === undefined) {
    log(
      Priority.Err,
      "Received init message without tie-breaker set. Sending error reply.",
      MISSING,
    );
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.tieBreaker = msg.tieBreaker ?? NO_TIE_BREAKER;
  }
  if (error === ReplyError.NoError && msg.decisionAlgorithm === undefined) {
    log(
      Priority.Err,
      "Received init message without decision algorithm. Sending error reply.",
      MISSING,
    );
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    const algorithm = msg.decisionAlgorithm ?? 0;
    if (!isDecisionAlgorithm(algorithm)) {
      log(
        Priority.Err,
        `Client requested unsupported decision algorithm ${algorithm}. Sending error reply.`,
        { errorCode: ReplyError.UnsupportedDecisionAlgorithm },
      );
      error = ReplyError.UnsupportedDecisionAlgorithm;
    }
    client.decisionAlgorithm = algorithm;
  }
  if (error === ReplyError.NoError) {
    client.keepActivePartitionTieBreaker = settings.keepActivePartitionTieBreaker
      ? KeepActivePartitionTieBreaker.Enabled
      : KeepActivePartitionTieBreaker.Disabled;
    error = checkNewClient(ctx, client);
  }
  if (error === ReplyError.NoError) {
    const name = client.clusterName ?? new Uint8Array();
    // Only a client that changed its cluster name by a second PREINIT gets here while
    // already in a cluster; C corrupts its lists then, we move the client.
    if (client.cluster !== undefined) ctx.clusters.deleteClient(client.cluster, client);
    const cluster = ctx.clusters.addClient(client, name);
    client.cluster = cluster;
    logNewClientConnected(log, client, cluster);
    const algorithm = algorithmFor(log, client, "qnetd_algorithm_client_init");
    error = algorithm === undefined ? ReplyError.InternalError : algorithm.init(ctx, client);
  }
  if (error === ReplyError.NoError) {
    client.initReceived = true;
    ctx.record(
      client,
      () => connectedEvent(client.addrStr, client.decisionAlgorithm, client.tieBreaker),
    );
  } else {
    log(Priority.Err, "Algorithm returned error code. Sending error reply.", { errorCode: error });
    ctx.record(client, () => refusedEvent(client.addrStr, error));
  }

  ctx.send(
    client,
    withSeq({
      type: MsgType.InitReply,
      replyErrorCode: error,
      withSupportedMessages: msg.supportedMessages !== undefined,
      withSupportedOptions: msg.supportedOptions !== undefined,
      serverMaximumRequestSize: settings.maxClientReceiveSize,
      serverMaximumReplySize: settings.maxClientSendSize,
    }, msg.seqNumber),
  );
  return "ok";
};

const setOption: Handler = (ctx, client, msg) => {
  const stop = needsInit(ctx, client, msg, "set option message");
  if (stop !== undefined) return stop;
  const hb = msg.heartbeatInterval;
  if (hb !== undefined) {
    const error = setHeartbeatInterval(ctx, client, hb);
    if (error !== ReplyError.NoError) {
      sendError(ctx, client, msg.seqNumber, error);
      return "ok";
    }
  }
  if (msg.keepActivePartitionTieBreaker !== undefined) {
    client.keepActivePartitionTieBreaker = msg.keepActivePartitionTieBreaker;
  }
  const reply: {
    type: typeof MsgType.SetOptionReply;
    seqNumber?: number;
    heartbeatInterval?: number;
    keepActivePartitionTieBreaker?: number;
  } = { type: MsgType.SetOptionReply };
  if (msg.seqNumber !== undefined) reply.seqNumber = msg.seqNumber;
  if (hb !== undefined) reply.heartbeatInterval = client.heartbeatInterval;
  if (msg.keepActivePartitionTieBreaker !== undefined) {
    reply.keepActivePartitionTieBreaker = client.keepActivePartitionTieBreaker;
  }
  ctx.send(client, reply);
  return "ok";
};

const echoRequest: Handler = (ctx, client, msg, raw) => {
  const stop = needsInit(ctx, client, msg, "echo request");
  if (stop !== undefined) return stop;
  ctx.send(client, { type: MsgType.EchoReply, request: raw.slice() });
  return "ok";
};

/**
 * What differs between the four handlers that ask the algorithm for a decision (node list,
 * ask for vote, vote info reply, heuristics change); {@link decisionHandler} runs the
 * common path: check_tls and init check, required options, the "received" log, the
 * algorithm call, then (for those that reply) the result log, storing and the reply.
 * `R` is the message's required content, once checked.
 */
interface DecisionStep<R> {
  /** `what` of "Received <what> before init message." */
  readonly what: string;
  /** The required content, or the text of the missing-option error. */
  required(msg: DecodedMsg): Required<R>;
  /** The debug dump of the received message. */
  logReceived(log: Log, client: Client, request: R): void;
  /** The decision-history event of the received message, if it is worth one. */
  received?(client: Client, request: R): ClientEvent;
  /** The algorithm callback; no algorithm gives INTERNAL_ERROR with C's `caller` log line. */
  decide(ctx: HandlerContext, client: Client, request: R): AlgoOutcome;
  /** Stores the message's data on the client (after the decision, as C does). */
  store?(client: Client, request: R): void;
  /** The reply carrying the vote; none for VOTE_INFO_REPLY. */
  reply?(client: Client, request: R, vote: Vote): ServerMsg;
}

/** A message's required content, or what is missing (the log text of the error reply). */
type Required<R> = { readonly request: R } | { readonly missing: string };

/** The message's sequence number, or the error text naming `what` lacks it. */
function requiredSeq(msg: DecodedMsg, what: string): Required<number> {
  return msg.seqNumber === undefined
    ? { missing: `Received ${what} message without seq number set. Sending error reply.` }
    : { request: msg.seqNumber };
}

function decisionHandler<R>(step: DecisionStep<R>): Handler {
  return (ctx, client, msg) => {
    const stop = needsInit(ctx, client, msg, step.what);
    if (stop !== undefined) return stop;
    const required = step.required(msg);
    if ("missing" in required) return missingOption(ctx, client, msg, required.missing);
    const request = required.request;
    step.logReceived(ctx.log, client, request);
    if (step.received !== undefined) ctx.record(client, () => step.received!(client, request));
    const outcome = step.decide(ctx, client, request);
    if (outcome.error !== ReplyError.NoError) {
      ctx.record(client, () => algorithmErrorEvent(outcome.error, outcome.reason));
      return algorithmError(ctx, client, msg, outcome.error);
    }
    if (step.reply === undefined) return "ok";
    ctx.log(Priority.Debug, `Algorithm result vote is ${voteName(outcome.vote)}`);
    step.store?.(client, request);
    storeVote(client, outcome.vote);
    if (isDecision(outcome.vote)) {
      ctx.record(client, () => voteEvent(outcome.vote, "reply", outcome.reason));
    }
    ctx.send(client, step.reply(client, request, outcome.vote));
    return "ok";
  };
}

/** A NODE_LIST message once its required options are there. */
type NodeListRequest =
  & { readonly seq: number; readonly nodes: readonly NodeInfo[]; readonly heuristics: Heuristics }
  & (
    | {
      readonly listType: typeof NodeListType.InitialConfig | typeof NodeListType.ChangedConfig;
      readonly configVersion: bigint | undefined;
    }
    | { readonly listType: typeof NodeListType.Membership; readonly ring: RingId }
    | { readonly listType: typeof NodeListType.Quorum; readonly quorate: Quorate }
  );

const nodeList = decisionHandler<NodeListRequest>({
  what: "node list message",
  required(msg) {
    const listType = msg.nodeListType;
    if (listType === undefined) {
      return {
        missing: "Received node list message without node list type set. Sending error reply.",
      };
    }
    const seqOrMissing = requiredSeq(msg, "node list");
    if ("missing" in seqOrMissing) return seqOrMissing;
    const seq = seqOrMissing.request;
    const common = {
      seq,
      nodes: msg.nodes ?? [],
      heuristics: msg.heuristics ?? Heuristics.Undefined,
    };
    switch (listType) {
      case NodeListType.InitialConfig:
      case NodeListType.ChangedConfig:
        return { request: { ...common, listType, configVersion: msg.configVersion } };
      case NodeListType.Membership:
        if (msg.ringId === undefined) {
          return {
            missing: "Received node list message without ring id number set. Sending error reply.",
          };
        }
        return { request: { ...common, listType, ring: msg.ringId } };
      case NodeListType.Quorum:
        if (msg.quorate === undefined) {
          return {
            missing: "Received quorum list message without quorate set. Sending error reply.",
          };
        }
        return { request: { ...common, listType, quorate: msg.quorate } };
    }
  },
  logReceived(log, client, r) {
    switch (r.listType) {
      case NodeListType.Membership:
        return logMembershipNodeListReceived(log, client, r.seq, r.ring, r.heuristics, r.nodes);
      case NodeListType.Quorum:
        return logQuorumNodeListReceived(log, client, r.seq, r.quorate, r.nodes);
      default:
        return logConfigNodeListReceived(
          log,
          client,
          r.seq,
          r.configVersion,
          r.nodes,
          r.listType === NodeListType.InitialConfig,
        );
    }
  },
  decide(ctx, client, r) {
    switch (r.listType) {
      case NodeListType.Membership:
        return decideVote(
          ctx.log,
          client,
          "qnetd_algorithm_membership_node_list_received",
          (a) => a.membershipNodeListReceived(ctx, client, r.seq, r.ring, r.nodes, r.heuristics),
        );
      case NodeListType.Quorum:
        return decideVote(
          ctx.log,
          client,
          "algorithm_quorum_node_list_received",
          (a) => a.quorumNodeListReceived(ctx, client, r.seq, r.quorate, r.nodes),
        );
      default: {
        const initial = r.listType === NodeListType.InitialConfig;
        return decideVote(
          ctx.log,
          client,
          "qnetd_algorithm_config_node_list_received",
          (a) => a.configNodeListReceived(ctx, client, r.seq, r.configVersion, r.nodes, initial),
        );
      }
    }
  },
  received(_client, r) {
    switch (r.listType) {
      case NodeListType.Membership:
        return membershipListEvent(r.ring, r.nodes, r.heuristics);
      case NodeListType.Quorum:
        return quorumListEvent(r.quorate, r.nodes);
      default:
        return configListEvent(
          r.listType === NodeListType.InitialConfig,
          r.nodes,
          r.configVersion,
        );
    }
  },
  store(client, r) {
    switch (r.listType) {
      case NodeListType.Membership:
        client.lastMembershipNodeList = shareNodes(client, r.nodes);
        client.lastRingId = r.ring;
        client.lastMembershipHeuristics = r.heuristics;
        client.lastHeuristics = r.heuristics;
        break;
      case NodeListType.Quorum:
        client.lastQuorumNodeList = shareNodes(client, r.nodes);
        break;
      default:
        client.configNodeList = shareNodes(client, r.nodes);
        client.configVersion = r.configVersion;
    }
  },
  reply: (client, r, vote) => ({
    type: MsgType.NodeListReply,
    seqNumber: r.seq,
    nodeListType: r.listType,
    ringId: client.lastRingId,
    vote,
  }),
});

const askForVote = decisionHandler<number>({
  what: "ask for vote message",
  required: (msg) => requiredSeq(msg, "ask for vote"),
  logReceived: logAskForVoteReceived,
  decide: (ctx, client, seq) =>
    decideVote(
      ctx.log,
      client,
      "qnetd_algorithm_ask_for_vote_received",
      (a) => a.askForVoteReceived(ctx, client, seq),
    ),
  reply: (client, seq, vote) => ({
    type: MsgType.AskForVoteReply,
    seqNumber: seq,
    vote,
    ringId: client.lastRingId,
  }),
});

const voteInfoReply = decisionHandler<number>({
  what: "vote info reply",
  required: (msg) => requiredSeq(msg, "vote info reply"),
  logReceived: logVoteInfoReplyReceived,
  decide: (ctx, client, seq) =>
    decideVote(
      ctx.log,
      client,
      "qnetd_algorithm_vote_info_reply_received",
      (a) => ({ error: a.voteInfoReplyReceived(ctx, client, seq), vote: Vote.Undefined }),
    ),
});

const heuristicsChange = decisionHandler<{ seq: number; heuristics: Heuristics }>({
  what: "heuristics change message",
  required(msg) {
    const seq = msg.seqNumber;
    const heuristics = msg.heuristics ?? Heuristics.Undefined;
    if (seq === undefined || heuristics === Heuristics.Undefined) {
      return {
        missing:
          "Received heuristics change message without seq number set or with undefined heuristics. Sending error reply.",
      };
    }
    return { request: { seq, heuristics } };
  },
  logReceived: (log, client, r) => logHeuristicsChangeReceived(log, client, r.seq, r.heuristics),
  received: (client, r) => heuristicsEvent(client.lastHeuristics, r.heuristics),
  // C logs the ask-for-vote name here (a copy-paste slip kept for identical logs).
  decide: (ctx, client, r) =>
    decideVote(
      ctx.log,
      client,
      "qnetd_algorithm_ask_for_vote_received",
      (a) => a.heuristicsChangeReceived(ctx, client, r.seq, r.heuristics),
    ),
  store(client, r) {
    client.lastRegularHeuristics = r.heuristics;
    client.lastHeuristics = r.heuristics;
  },
  reply: (client, r, vote) => ({
    type: MsgType.HeuristicsChangeReply,
    seqNumber: r.seq,
    vote,
    ringId: client.lastRingId,
    heuristics: r.heuristics,
  }),
});

/** The handler of every message type (`qnetd_client_msg_received()`'s switch). */
export const MSG_HANDLERS = Object.freeze(
  {
    [MsgType.Preinit]: preinit,
    [MsgType.PreinitReply]: unexpected("preinit reply"),
    [MsgType.StartTls]: startTls,
    [MsgType.Init]: init,
    [MsgType.InitReply]: unexpected("init reply"),
    [MsgType.ServerError]: unexpected("server error"),
    [MsgType.SetOption]: setOption,
    [MsgType.SetOptionReply]: unexpected("set option reply"),
    [MsgType.EchoRequest]: echoRequest,
    [MsgType.EchoReply]: unexpected("echo reply"),
    [MsgType.NodeList]: nodeList,
    [MsgType.NodeListReply]: unexpected("node list reply"),
    [MsgType.AskForVote]: askForVote,
    [MsgType.AskForVoteReply]: unexpected("ask for vote reply"),
    [MsgType.VoteInfo]: unexpected("vote info"),
    [MsgType.VoteInfoReply]: voteInfoReply,
    [MsgType.HeuristicsChange]: heuristicsChange,
    [MsgType.HeuristicsChangeReply]: unexpected("heuristics change reply"),
  } satisfies Record<MsgType, Handler>,
);
