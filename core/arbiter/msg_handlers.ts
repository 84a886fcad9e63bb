/**
 * What the arbiter does with each complete, decoded client message: one handler per
 * message type, with the C daemon's checks, error precedence, log lines and replies.
 *
 * Port of qdevices/qnetd-client-msg-received.c. A handler returns "disconnect" where the C
 * handler returns -1 (certificate problems, STARTTLS that cannot start).
 *
 * @module
 */
import { type Log, Priority } from "../log.ts";
import {
  Heuristics,
  MsgType,
  NodeListType,
  ReplyError,
  TlsSupported,
  Vote,
  voteName,
} from "../protocol/constants.ts";
import type { DecodedMsg, NodeInfo, ServerMsg } from "../protocol/types.ts";
import {
  type AlgoOutcome,
  type Algorithm,
  type AlgorithmContext,
  algorithmFor,
} from "./algorithm.ts";
import { certNameMatches } from "./cert_name.ts";
import { type Client, ZERO_RING_ID } from "./client.ts";
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
      ctx.log(Priority.Err, "TLS is required but doesn't started yet. Sending back error message");
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
    ctx.log(Priority.Err, `Received ${what} before init message. Sending error reply.`);
    sendError(ctx, client, msg.seqNumber, ReplyError.InitRequired);
    return "ok";
  }
  return undefined;
}

/** Logs and sends a missing-option error (DOESNT_CONTAIN_REQUIRED_OPTION). */
function missingOption(
  ctx: HandlerContext,
  client: Client,
  msg: DecodedMsg,
  text: string,
): HandlerResult {
  ctx.log(Priority.Err, text);
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
  ctx.log(Priority.Err, "Algorithm returned error code. Sending error reply.");
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
    ctx.log(Priority.Err, `Received ${what} message. Sending back error message`);
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
    ctx.log(Priority.Err, "Received starttls before preinit message. Sending error reply.");
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
    if (a.mode !== b.mode || (a.mode === 3 && a.nodeId !== b.nodeId)) {
      ctx.log(
        Priority.Err,
        "Received init message contains tie-breaker which differs from rest of cluster. Sending error reply",
      );
      return ReplyError.TieBreakerDiffersFromOtherNodes;
    }
    if (client.decisionAlgorithm !== member.decisionAlgorithm) {
      ctx.log(
        Priority.Err,
        "Received init message contains algorithm which differs from rest of cluster. Sending error reply",
      );
      return ReplyError.AlgorithmDiffersFromOtherNodes;
    }
    if (client.nodeId === member.nodeId) {
      ctx.log(
        Priority.Err,
        "Received init message contains node id which is duplicate of other node in cluster. Sending error reply",
      );
      return ReplyError.DuplicateNodeId;
    }
  }
  return ReplyError.NoError;
}

const init: Handler = (ctx, client, msg) => {
  const tls = checkTls(ctx, client, msg);
  if (tls === "disconnect") return "disconnect";
  if (tls === "stop") return "ok";
  const { settings, log } = ctx;
  let error: number = ReplyError.NoError;

  if (!client.preinitReceived) {
    log(Priority.Err, "Received init before preinit message. Sending error reply.");
    error = ReplyError.PreinitRequired;
  }
  // Each check below only runs while there is no error yet, but C still stores the field
  // (or its zero value) when an earlier check failed.
  if (error === 0 && msg.nodeId === undefined) {
    log(Priority.Err, "Received init message without node id set. Sending error reply.");
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.nodeId = msg.nodeId ?? 0;
  }
  if (error === 0 && msg.ringId === undefined) {
    log(Priority.Err, "Received init message without ring id set. Sending error reply.");
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.lastRingId = msg.ringId ?? ZERO_RING_ID;
  }
  if (error === 0 && msg.heartbeatInterval === undefined) {
    log(Priority.Err, "Received init message without heartbeat interval set. Sending error reply.");
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    const hb = msg.heartbeatInterval ?? 0;
    if (hb < settings.heartbeatIntervalMin || hb > settings.heartbeatIntervalMax) {
      log(
        Priority.Err,
        `Client requested invalid heartbeat interval ${hb >>> 0}. Sending error reply.`,
      );
      error = ReplyError.InvalidHeartbeatInterval;
    } else {
      client.heartbeatInterval = hb;
      if (!ctx.updateDpdInterval(client)) error = ReplyError.InvalidHeartbeatInterval;
    }
  }
  if (error === 0 && msg.tieBreaker === undefined) {
    log(Priority.Err, "Received init message without tie-breaker set. Sending error reply.");
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    client.tieBreaker = msg.tieBreaker ?? { mode: 0, nodeId: 0 };
  }
  if (error === 0 && msg.decisionAlgorithm === undefined) {
    log(Priority.Err, "Received init message without decision algorithm. Sending error reply.");
    error = ReplyError.DoesntContainRequiredOption;
  } else {
    const algorithm = msg.decisionAlgorithm ?? 0;
    if (!(algorithm >= 0 && algorithm <= 3)) {
      log(
        Priority.Err,
        `Client requested unsupported decision algorithm ${algorithm}. Sending error reply.`,
      );
      error = ReplyError.UnsupportedDecisionAlgorithm;
    }
    client.decisionAlgorithm = algorithm;
  }
  if (error === 0) {
    client.keepActivePartitionTieBreaker = settings.keepActivePartitionTieBreaker ? 1 : 0;
    error = checkNewClient(ctx, client);
  }
  if (error === 0) {
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
  if (error === 0) client.initReceived = true;
  else log(Priority.Err, "Algorithm returned error code. Sending error reply.");

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
    if (hb < ctx.settings.heartbeatIntervalMin || hb > ctx.settings.heartbeatIntervalMax) {
      ctx.log(
        Priority.Err,
        `Client requested invalid heartbeat interval ${hb >>> 0}. Sending error reply.`,
      );
      sendError(ctx, client, msg.seqNumber, ReplyError.InvalidHeartbeatInterval);
      return "ok";
    }
    client.heartbeatInterval = hb;
    if (!ctx.updateDpdInterval(client)) {
      sendError(ctx, client, msg.seqNumber, ReplyError.InvalidHeartbeatInterval);
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

const nodeList: Handler = (ctx, client, msg) => {
  const stop = needsInit(ctx, client, msg, "node list message");
  if (stop !== undefined) return stop;
  const { log } = ctx;
  const listType = msg.nodeListType;
  if (listType === undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received node list message without node list type set. Sending error reply.",
    );
  }
  const seq = msg.seqNumber;
  if (seq === undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received node list message without seq number set. Sending error reply.",
    );
  }
  const nodes = msg.nodes ?? [];
  const heuristics = msg.heuristics ?? Heuristics.Undefined;
  let outcome: { error: number; vote: Vote } = { error: 0, vote: Vote.NoChange };
  switch (listType) {
    case NodeListType.InitialConfig:
    case NodeListType.ChangedConfig: {
      const initial = listType === NodeListType.InitialConfig;
      logConfigNodeListReceived(log, client, seq, msg.configVersion, nodes, initial);
      outcome = decideVote(
        log,
        client,
        "qnetd_algorithm_config_node_list_received",
        (a) => a.configNodeListReceived(ctx, client, seq, msg.configVersion, nodes, initial),
      );
      break;
    }
    case NodeListType.Membership: {
      const ring = msg.ringId;
      if (ring === undefined) {
        return missingOption(
          ctx,
          client,
          msg,
          "Received node list message without ring id number set. Sending error reply.",
        );
      }
      logMembershipNodeListReceived(log, client, seq, ring, heuristics, nodes);
      outcome = decideVote(
        log,
        client,
        "qnetd_algorithm_membership_node_list_received",
        (a) => a.membershipNodeListReceived(ctx, client, seq, ring, nodes, heuristics),
      );
      break;
    }
    case NodeListType.Quorum: {
      const quorate = msg.quorate;
      if (quorate === undefined) {
        return missingOption(
          ctx,
          client,
          msg,
          "Received quorum list message without quorate set. Sending error reply.",
        );
      }
      logQuorumNodeListReceived(log, client, seq, quorate, nodes);
      outcome = decideVote(
        log,
        client,
        "algorithm_quorum_node_list_received",
        (a) => a.quorumNodeListReceived(ctx, client, seq, quorate, nodes),
      );
      break;
    }
  }
  if (outcome.error !== 0) return algorithmError(ctx, client, msg, outcome.error);
  log(Priority.Debug, `Algorithm result vote is ${voteName(outcome.vote)}`);

  switch (listType) {
    case NodeListType.InitialConfig:
    case NodeListType.ChangedConfig:
      client.configNodeList = shareNodes(client, nodes);
      client.configVersion = msg.configVersion;
      break;
    case NodeListType.Membership:
      client.lastMembershipNodeList = shareNodes(client, nodes);
      client.lastRingId = msg.ringId ?? client.lastRingId;
      client.lastMembershipHeuristics = heuristics;
      client.lastHeuristics = heuristics;
      break;
    case NodeListType.Quorum:
      client.lastQuorumNodeList = shareNodes(client, nodes);
      break;
  }
  storeVote(client, outcome.vote);
  ctx.send(client, {
    type: MsgType.NodeListReply,
    seqNumber: seq,
    nodeListType: listType,
    ringId: client.lastRingId,
    vote: outcome.vote,
  });
  return "ok";
};

const askForVote: Handler = (ctx, client, msg) => {
  const stop = needsInit(ctx, client, msg, "ask for vote message");
  if (stop !== undefined) return stop;
  const seq = msg.seqNumber;
  if (seq === undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received ask for vote message without seq number set. Sending error reply.",
    );
  }
  logAskForVoteReceived(ctx.log, client, seq);
  const outcome = decideVote(
    ctx.log,
    client,
    "qnetd_algorithm_ask_for_vote_received",
    (a) => a.askForVoteReceived(ctx, client, seq),
  );
  if (outcome.error !== 0) return algorithmError(ctx, client, msg, outcome.error);
  ctx.log(Priority.Debug, `Algorithm result vote is ${voteName(outcome.vote)}`);
  storeVote(client, outcome.vote);
  ctx.send(client, {
    type: MsgType.AskForVoteReply,
    seqNumber: seq,
    vote: outcome.vote,
    ringId: client.lastRingId,
  });
  return "ok";
};

const voteInfoReply: Handler = (ctx, client, msg) => {
  const stop = needsInit(ctx, client, msg, "vote info reply");
  if (stop !== undefined) return stop;
  const seq = msg.seqNumber;
  if (seq === undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received vote info reply message without seq number set. Sending error reply.",
    );
  }
  logVoteInfoReplyReceived(ctx.log, client, seq);
  const algorithm = algorithmFor(ctx.log, client, "qnetd_algorithm_vote_info_reply_received");
  const error = algorithm === undefined
    ? ReplyError.InternalError
    : algorithm.voteInfoReplyReceived(ctx, client, seq);
  if (error !== 0) return algorithmError(ctx, client, msg, error);
  return "ok";
};

const heuristicsChange: Handler = (ctx, client, msg) => {
  const stop = needsInit(ctx, client, msg, "heuristics change message");
  if (stop !== undefined) return stop;
  const seq = msg.seqNumber;
  const heuristics = msg.heuristics ?? Heuristics.Undefined;
  if (seq === undefined || heuristics === Heuristics.Undefined) {
    return missingOption(
      ctx,
      client,
      msg,
      "Received heuristics change message without seq number set or with undefined heuristics. Sending error reply.",
    );
  }
  logHeuristicsChangeReceived(ctx.log, client, seq, heuristics);
  // C logs the ask-for-vote name here (a copy-paste slip kept for identical logs).
  const outcome = decideVote(
    ctx.log,
    client,
    "qnetd_algorithm_ask_for_vote_received",
    (a) => a.heuristicsChangeReceived(ctx, client, seq, heuristics),
  );
  if (outcome.error !== 0) return algorithmError(ctx, client, msg, outcome.error);
  ctx.log(Priority.Debug, `Algorithm result vote is ${voteName(outcome.vote)}`);
  storeVote(client, outcome.vote);
  client.lastRegularHeuristics = heuristics;
  client.lastHeuristics = heuristics;
  ctx.send(client, {
    type: MsgType.HeuristicsChangeReply,
    seqNumber: seq,
    vote: outcome.vote,
    ringId: client.lastRingId,
    heuristics,
  });
  return "ok";
};

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
