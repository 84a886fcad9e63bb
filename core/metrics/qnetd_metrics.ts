/**
 * The daemon's metrics in the Prometheus text format (docs/monitoring.md lists them): per
 * cluster and per node from the arbiter's snapshot, the daemon's traffic from the network
 * edge's counters, and process figures. Pure: the daemon glue (cli/metrics_daemon.ts) gathers
 * the inputs at scrape time, so the vote path does no work for the metrics beyond the edge's
 * counter increments.
 *
 * @module
 */
import type { ServerSnapshot } from "../arbiter/snapshot.ts";
import { msgKeyName } from "../cmap/qnetd_keys.ts";
import {
  DecisionAlgorithm,
  MSG_TYPE_MAX,
  MSG_TYPE_NAMES,
  type MsgType,
  ReplyError,
  TieBreakerMode,
  TLS_SUPPORTED_NAMES,
  Vote,
} from "../protocol/constants.ts";
import type { TieBreaker } from "../protocol/types.ts";
import { clusterLabel } from "./cluster_label.ts";
import { escapeLabelValue, ExpositionWriter, labels } from "./exposition.ts";
import { CLOSE_REASON_NAMES, type CloseReason, type TrafficCounters } from "./traffic.ts";

/** What the edge knows of one connection: its timing and the vote it holds. */
export interface NodeTimes {
  /** When its last message arrived, on the monotonic clock (ms); 0: none yet. */
  readonly lastMessageAt: number;
  /** When it was last sent a vote other than NO_CHANGE, ms since the epoch; 0: never. */
  readonly lastDecisionAt: number;
  /**
   * That vote, which the client holds until another one (NO_CHANGE keeps it); 0: none yet.
   * The snapshot's `lastSentVote` is NO_CHANGE after many replies, so it cannot tell.
   */
  readonly currentVote: number;
}

/** Everything one exposition is made from. */
export interface MetricsInput {
  readonly snapshot: ServerSnapshot;
  /** The edge's timing of the connection with this "addr:port", if it is still open. */
  readonly nodeTimes: (address: string) => NodeTimes | undefined;
  /** Now on the clock of {@link NodeTimes.lastMessageAt} (ms). */
  readonly monotonicNow: number;
  readonly counters: TrafficCounters;
  /** Accepted clients waiting for the admission window. */
  readonly admissionQueueLength: number;
  /** Largest event-loop delay seen since the previous scrape (s). */
  readonly eventLoopLagSeconds: number;
  readonly memory: { readonly rss: number; readonly heapUsed: number; readonly heapTotal: number };
  /** `not_after` of the server and CA certificates (s since the epoch), when loaded. */
  readonly certificates: {
    readonly server?: number | undefined;
    readonly ca?: number | undefined;
  };
  readonly reloads: {
    readonly succeeded: number;
    readonly failed: number;
    /** ms since the epoch; undefined before the first reload. */
    readonly lastAt?: number;
  };
  /** When the daemon started (ms since the epoch). */
  readonly startedAt: number;
  readonly version: string;
}

/** Vote label values, in the order the issue lists them. */
const VOTE_LABELS: ReadonlyArray<readonly [Vote, string]> = [
  [Vote.Ack, "ack"],
  [Vote.Nack, "nack"],
  [Vote.AskLater, "ask_later"],
  [Vote.WaitForReply, "wait_for_reply"],
  [Vote.Undefined, "none"],
];

/** Algorithm label values, as corosync.conf names them (`quorum.device.net.algorithm`). */
const ALGORITHM_LABELS: Readonly<Record<number, string>> = {
  [DecisionAlgorithm.Test]: "test",
  [DecisionAlgorithm.Ffsplit]: "ffsplit",
  [DecisionAlgorithm.TwoNodeLms]: "2nodelms",
  [DecisionAlgorithm.Lms]: "lms",
};

/** Reply error label values: the code's name in snake case. */
const ERROR_LABELS: ReadonlyMap<number, string> = new Map(
  Object.entries(ReplyError).map(([name, code]) => [
    code,
    name.replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase(),
  ]),
);

/** Tie-breaker label value, as corosync.conf writes it (`lowest`, `highest` or a node id). */
function tieBreakerLabel(tb: TieBreaker): string {
  switch (tb.mode) {
    case TieBreakerMode.Lowest:
      return "lowest";
    case TieBreakerMode.Highest:
      return "highest";
    case TieBreakerMode.NodeId:
      return String(tb.nodeId);
    default:
      return "unknown";
  }
}

/** Label text of each message type, made once. */
const TYPE_LABELS: readonly string[] = Array.from(
  { length: MSG_TYPE_MAX + 1 },
  (_, t) => labels({ type: msgKeyName(t as MsgType) }),
);

/** The exposition for `input` (see docs/monitoring.md). */
export function renderMetrics(input: MetricsInput): string {
  const w = new ExpositionWriter();
  clusterAndNodeFamilies(w, input);
  daemonFamilies(w, input);
  return w.text();
}

/** Per-cluster and per-node families, in one pass over the snapshot. */
function clusterAndNodeFamilies(w: ExpositionWriter, input: MetricsInput): void {
  const snap = input.snapshot;
  const nodes: string[] = [];
  const byVote: string[] = [];
  const decided: string[] = [];
  const info: string[] = [];
  const connected: string[] = [];
  const tls: string[] = [];
  const verified: string[] = [];
  const heartbeat: string[] = [];
  const silence: string[] = [];
  const voteCounts = new Map<number, number>();
  const seenClusters = new Set<string>();
  for (const cluster of snap.clusters) {
    const label = clusterLabel(cluster.name);
    // Distinct names give distinct labels (cluster_label.ts); a repeat can only be a forged
    // hash collision of two very long names, and would make Prometheus refuse the scrape.
    if (seenClusters.has(label)) continue;
    seenClusters.add(label);
    const c = `cluster="${escapeLabelValue(label)}"`;
    nodes.push(`qnetd_cluster_nodes{${c}} ${cluster.clients.length}\n`);
    info.push(
      `qnetd_cluster_info{${c},algorithm="${
        ALGORITHM_LABELS[cluster.decisionAlgorithm] ?? "unknown"
      }",tie_breaker="${tieBreakerLabel(cluster.tieBreaker)}"} 1\n`,
    );
    voteCounts.clear();
    let lastDecision = 0;
    const seenNodes = new Set<number>();
    for (const client of cluster.clients) {
      const times = input.nodeTimes(client.address);
      const vote = times?.currentVote ?? client.lastSentAckNackVote;
      voteCounts.set(vote, (voteCounts.get(vote) ?? 0) + 1);
      if (times !== undefined && times.lastDecisionAt > lastDecision) {
        lastDecision = times.lastDecisionAt;
      }
      // Node 0 has not sent INIT yet; a duplicate node id is refused at INIT but may stay
      // connected: one series per node id, the first client's.
      if (client.nodeId === 0 || seenNodes.has(client.nodeId)) continue;
      seenNodes.add(client.nodeId);
      const n = `{${c},node_id="${client.nodeId}"}`;
      connected.push(`qnetd_node_connected${n} 1\n`);
      tls.push(`qnetd_node_tls${n} ${client.tlsStarted ? 1 : 0}\n`);
      verified.push(
        `qnetd_node_certificate_verified${n} ${client.tlsPeerCertificateVerified ? 1 : 0}\n`,
      );
      heartbeat.push(
        `qnetd_node_heartbeat_interval_seconds${n} ${client.heartbeatInterval / 1000}\n`,
      );
      if (times !== undefined && times.lastMessageAt > 0) {
        const age = Math.max(0, input.monotonicNow - times.lastMessageAt) / 1000;
        silence.push(`qnetd_node_last_message_age_seconds${n} ${age.toFixed(3)}\n`);
      }
    }
    for (const [vote, name] of VOTE_LABELS) {
      byVote.push(
        `qnetd_cluster_nodes_by_vote{${c},vote="${name}"} ${voteCounts.get(vote) ?? 0}\n`,
      );
    }
    if (lastDecision > 0) {
      decided.push(`qnetd_cluster_last_decision_timestamp_seconds{${c}} ${lastDecision / 1000}\n`);
    }
  }
  const family = (name: string, help: string, samples: readonly string[]) => {
    w.family(name, help, "gauge").raw(samples);
  };
  family("qnetd_cluster_nodes", "Clients connected for the cluster.", nodes);
  family(
    "qnetd_cluster_nodes_by_vote",
    "Clients of the cluster by the vote they hold (the last one sent but NO_CHANGE; none: no vote yet).",
    byVote,
  );
  family(
    "qnetd_cluster_last_decision_timestamp_seconds",
    "When the arbiter last sent a vote (other than NO_CHANGE) to a client of the cluster.",
    decided,
  );
  family(
    "qnetd_cluster_info",
    "The cluster's decision algorithm and tie-breaker (always 1).",
    info,
  );
  family("qnetd_node_connected", "The node is connected (1) with a completed INIT.", connected);
  family("qnetd_node_tls", "The node's connection uses TLS.", tls);
  family(
    "qnetd_node_certificate_verified",
    "The node presented a client certificate that verified against the QNet CA.",
    verified,
  );
  family(
    "qnetd_node_heartbeat_interval_seconds",
    "The node's heartbeat interval.",
    heartbeat,
  );
  family(
    "qnetd_node_last_message_age_seconds",
    "Seconds since the node's last message.",
    silence,
  );
}

/** The daemon's own families. */
function daemonFamilies(w: ExpositionWriter, input: MetricsInput): void {
  const snap = input.snapshot;
  const counters = input.counters;
  w.family("qnetd_info", "The daemon's version and TLS mode (always 1).", "gauge")
    .sample(
      labels({ version: input.version, tls: TLS_SUPPORTED_NAMES[snap.tlsSupported] ?? "unknown" }),
      1,
    );
  w.family("qnetd_start_time_seconds", "When the daemon started.", "gauge")
    .sample("", input.startedAt / 1000);
  w.family("qnetd_clients", "TCP clients connected (including those before INIT).", "gauge")
    .sample("", snap.connectedClients);
  w.family("qnetd_clusters", "Clusters with at least one connected client.", "gauge")
    .sample("", snap.clusters.length);
  w.family("qnetd_connections_accepted_total", "TCP connections accepted.", "counter")
    .sample("", counters.accepted);
  w.family("qnetd_connections_closed_total", "TCP connections closed, by reason.", "counter");
  for (const [reason, name] of Object.entries(CLOSE_REASON_NAMES)) {
    w.sample(labels({ reason: name }), counters.closed[Number(reason) as CloseReason] ?? 0);
  }
  w.family("qnetd_messages_received_total", "Messages received, by type.", "counter");
  for (let t = 0; t <= MSG_TYPE_MAX; t++) w.sample(TYPE_LABELS[t]!, counters.rx[t] ?? 0);
  w.sample(labels({ type: "skipped" }), counters.rx[MSG_TYPE_MAX + 1] ?? 0);
  w.family("qnetd_messages_sent_total", "Messages sent, by type.", "counter");
  for (let t = 0; t <= MSG_TYPE_MAX; t++) w.sample(TYPE_LABELS[t]!, counters.tx[t] ?? 0);
  w.family(
    "qnetd_error_replies_total",
    "Replies carrying an error code (SERVER_ERROR, INIT_REPLY), by code.",
    "counter",
  );
  for (const [code, name] of ERROR_LABELS) {
    if (code === ReplyError.NoError) continue;
    w.sample(labels({ code: String(code), error: name }), counters.errorReplies[code] ?? 0);
  }
  w.sample(labels({ code: "other", error: "other" }), counters.errorRepliesOther);
  w.family(
    "qnetd_tls_handshakes_total",
    "TLS handshakes by result, and by reason for failures.",
    "counter",
  );
  w.sample(labels({ result: "success", reason: "" }), counters.tlsHandshakesOk);
  for (const [reason, count] of counters.tlsHandshakesFailed) {
    w.sample(labels({ result: "failure", reason }), count);
  }
  w.family(
    "qnetd_admission_queue_length",
    "Accepted clients waiting for the admission window.",
    "gauge",
  ).sample("", input.admissionQueueLength);
  w.family(
    "qnetd_event_loop_lag_seconds",
    "Largest event-loop delay seen since the previous scrape.",
    "gauge",
  ).sample("", input.eventLoopLagSeconds);
  w.family("qnetd_resident_memory_bytes", "Resident set size of the process.", "gauge")
    .sample("", input.memory.rss);
  w.family("qnetd_heap_used_bytes", "JavaScript heap in use.", "gauge")
    .sample("", input.memory.heapUsed);
  w.family("qnetd_heap_total_bytes", "JavaScript heap allocated.", "gauge")
    .sample("", input.memory.heapTotal);
  w.family(
    "qnetd_certificate_not_after_timestamp_seconds",
    "End of validity of the server and CA certificates the daemon loaded.",
    "gauge",
  );
  const certs = input.certificates;
  if (certs.server !== undefined) w.sample(labels({ certificate: "server" }), certs.server);
  if (certs.ca !== undefined) w.sample(labels({ certificate: "ca" }), certs.ca);
  w.family("qnetd_config_reloads_total", "Configuration reloads (SIGHUP), by result.", "counter")
    .sample(labels({ result: "success" }), input.reloads.succeeded)
    .sample(labels({ result: "failure" }), input.reloads.failed);
  w.family(
    "qnetd_config_last_reload_timestamp_seconds",
    "When the configuration was last reloaded.",
    "gauge",
  );
  if (input.reloads.lastAt !== undefined) w.sample("", input.reloads.lastAt / 1000);
}

/** The message type names, for documentation and tests. */
export const MESSAGE_TYPE_LABELS: readonly string[] = Object.keys(MSG_TYPE_NAMES).map((t) =>
  msgKeyName(Number(t) as MsgType)
);
