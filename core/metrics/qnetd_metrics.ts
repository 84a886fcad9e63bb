/**
 * The daemon's metrics in the Prometheus text format (docs/monitoring.md lists them): per
 * cluster and per node from the arbiter's snapshot, the daemon's traffic from the network
 * edge's counters, and process figures. Pure: the daemon glue (cli/metrics_daemon.ts) gathers
 * the inputs at scrape time, so the vote path does no work for the metrics beyond the edge's
 * counter increments.
 *
 * @module
 */
import { msgKeyName } from "../cmap/qnetd_keys.ts";
import {
  DecisionAlgorithm,
  MSG_TYPE_MAX,
  type MsgType,
  ReplyError,
  TieBreakerMode,
  TLS_SUPPORTED_NAMES,
  type TlsSupported,
  Vote,
} from "../protocol/constants.ts";
import { clusterLabel, MAX_CLUSTER_LABEL_BYTES } from "./cluster_label.ts";
import { type ByteSink, escapeLabelValue, ExpositionWriter, labels } from "./exposition.ts";
import { CLOSE_REASON_NAMES, type CloseReason, type TrafficCounters } from "./traffic.ts";

/** What the edge knows of one connection: its timing and the vote it holds. */
export interface NodeTimes {
  /** When its last message arrived, on the monotonic clock (ms); 0: none yet. */
  readonly lastMessageAt: number;
  /** When it was last sent a vote other than NO_CHANGE, ms since the epoch; 0: never. */
  readonly lastDecisionAt: number;
  /**
   * That vote, which the client holds until another one (NO_CHANGE keeps it); 0: none yet.
   * The arbiter's `lastSentVote` is NO_CHANGE after many replies, so it cannot tell.
   */
  readonly currentVote: number;
}

/** What the metrics read of one client (core/arbiter/client.ts's Client is one). */
export interface ClientView {
  /** The arbiter's id, which is also the edge's connection id. */
  readonly id: number;
  readonly nodeId: number;
  /** ms. */
  readonly heartbeatInterval: number;
  readonly tlsStarted: boolean;
  readonly tlsPeerCertificateVerified: boolean;
  /** The last ACK or NACK sent (used when the edge has no vote for the client). */
  readonly lastSentAckNackVote: number;
  readonly decisionAlgorithm: number;
  readonly tieBreaker: { readonly mode: number; readonly nodeId: number };
}

/** What the metrics read of one cluster (core/arbiter/cluster_list.ts's Cluster is one). */
export interface ClusterView {
  /** Never changed while the cluster lives (the label cache is keyed by it). */
  readonly name: Uint8Array;
  /** In node-id order. */
  readonly clients: readonly ClientView[];
}

/** Everything one exposition is made from. */
export interface MetricsInput {
  /** The arbiter's clusters as they are (`Arbiter.liveClusters()`), read, never kept. */
  readonly clusters: readonly ClusterView[];
  /** TCP clients, including those before PREINIT. */
  readonly connectedClients: number;
  readonly tlsSupported: number;
  /** The edge's view of the connection with this id, if it is still open. */
  readonly nodeTimes: (clientId: number) => NodeTimes | undefined;
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
  /** The cost of the metrics themselves: renderings done before this one, and their CPU. */
  readonly renders?: { readonly count: number; readonly cpuSeconds: number };
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
function tieBreakerLabel(tb: { readonly mode: number; readonly nodeId: number }): string {
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

/** A cluster's label, escaped and encoded once for the cluster's life. */
interface ClusterLabel {
  /** `cluster="..."` as bytes. */
  readonly pair: Uint8Array;
  /** The label value, kept only for names long enough to be shortened (see dedupe). */
  readonly shortened: string | undefined;
}

const labelCache = new WeakMap<Uint8Array, ClusterLabel>();
const encoder = new TextEncoder();

function labelOf(name: Uint8Array): ClusterLabel {
  let cached = labelCache.get(name);
  if (cached === undefined) {
    const value = clusterLabel(name);
    cached = {
      pair: encoder.encode(`cluster="${escapeLabelValue(value)}"`),
      shortened: name.length > MAX_CLUSTER_LABEL_BYTES ? value : undefined,
    };
    labelCache.set(name, cached);
  }
  return cached;
}

/**
 * The clusters to write: all of them, less any whose shortened label repeats an earlier one
 * (only a forged hash collision of two very long names can; Prometheus would refuse the
 * whole scrape over the duplicate series).
 */
function distinctClusters(clusters: readonly ClusterView[]): readonly ClusterView[] {
  let seen: Set<string> | undefined;
  let kept: ClusterView[] | undefined;
  for (let i = 0; i < clusters.length; i++) {
    const cluster = clusters[i]!;
    const shortened = labelOf(cluster.name).shortened;
    if (shortened !== undefined) {
      seen ??= new Set();
      if (seen.has(shortened)) {
        kept ??= clusters.slice(0, i); // the first repeat: copy what came before
        continue;
      }
      seen.add(shortened);
    }
    kept?.push(cluster);
  }
  return kept ?? clusters;
}

/**
 * True when `client` is the first of its cluster with its node id, and has one: node 0 has
 * not sent INIT yet, and a duplicate node id is refused at INIT but may stay connected. One
 * series per node id, the first client's.
 */
function firstWithNodeId(clients: readonly ClientView[], index: number): boolean {
  const nodeId = clients[index]!.nodeId;
  if (nodeId === 0) return false;
  for (let i = 0; i < index; i++) if (clients[i]!.nodeId === nodeId) return false;
  return true;
}

/**
 * The exposition for `input` (see docs/monitoring.md), written into `buffer` when given
 * (replaced by a larger one when too small: the result's `.buffer` is the one to reuse).
 */
export function renderMetrics(input: MetricsInput, buffer?: Uint8Array): Uint8Array {
  const steps = renderMetricsInSteps(input, buffer);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** About this many bytes are written between two steps of {@link renderMetricsInSteps}. */
export const STEP_BYTES = 64 * 1024;

/**
 * {@link renderMetrics} in steps of about {@link STEP_BYTES} each (well under a millisecond):
 * the daemon lets its event loop run between steps, so that a scrape of thousands of nodes
 * never holds up the vote path for the whole rendering. Steps end between two clusters only,
 * so each cluster's clients are read in one go (a family cannot show a client twice); the
 * cluster list is the caller's copy (`Arbiter.liveClusters()` returns a fresh array).
 */
export function* renderMetricsInSteps(
  input: MetricsInput,
  buffer?: Uint8Array,
): Generator<void, Uint8Array> {
  const w = new ExpositionWriter(buffer);
  yield* clusterFamilies(w, input, distinctClusters(input.clusters));
  daemonFamilies(w, input);
  return w.bytes();
}

/** The exposition as text (for tests and tools). */
export function renderMetricsText(input: MetricsInput): string {
  return new TextDecoder().decode(renderMetrics(input));
}

/** One per-cluster or per-node family: how to write its samples for one cluster. */
interface ClusterFamily {
  readonly name: string;
  readonly help: string;
  /** Writes the family's samples of `cluster` (plain function: the hot loop of a scrape). */
  readonly write: (sink: ByteSink, cluster: ClusterView, input: MetricsInput) => void;
}

const ascii = (text: string) => encoder.encode(text);
const LINE_END = ascii("\n");
const OPEN_BRACE = ascii("{");
const NODE_ID = ascii(',node_id="');
const CLOSE_NODE_ID = ascii('"} ');

/** `name{cluster="..."} value\n`. */
function clusterSample(sink: ByteSink, name: Uint8Array, cluster: ClusterView, value: number) {
  sink.bytes(name);
  sink.bytes(labelOf(cluster.name).pair);
  sink.ascii("} ");
  sink.number(value);
  sink.bytes(LINE_END);
}

/**
 * A per-node family: `name{cluster="...",node_id="N"} value\n` for each node of the cluster
 * (see firstWithNodeId) whose `value` is defined; `milliseconds`: the value is written as
 * seconds.
 */
function perNode(
  name: string,
  help: string,
  value: (client: ClientView, input: MetricsInput) => number | undefined,
  milliseconds = false,
): ClusterFamily {
  const nameBytes = ascii(name);
  return {
    name,
    help,
    write(sink, cluster, input) {
      const clients = cluster.clients;
      for (let i = 0; i < clients.length; i++) {
        if (!firstWithNodeId(clients, i)) continue;
        const client = clients[i]!;
        const v = value(client, input);
        if (v === undefined) continue;
        sink.bytes(nameBytes);
        sink.bytes(OPEN_BRACE);
        sink.bytes(labelOf(cluster.name).pair);
        sink.bytes(NODE_ID);
        sink.number(client.nodeId);
        sink.bytes(CLOSE_NODE_ID);
        if (milliseconds) sink.milliseconds(v);
        else sink.number(v);
        sink.bytes(LINE_END);
      }
    },
  };
}

/** The vote `client` holds: the edge's, else the arbiter's last ACK/NACK. */
function voteOf(client: ClientView, input: MetricsInput): number {
  return input.nodeTimes(client.id)?.currentVote ?? client.lastSentAckNackVote;
}

const CLUSTER_NODES = ascii("qnetd_cluster_nodes{");
const BY_VOTE = ascii("qnetd_cluster_nodes_by_vote{");
const VOTE_PAIRS: readonly (readonly [Vote, Uint8Array])[] = VOTE_LABELS.map((
  [vote, label],
) => [vote, ascii(`,vote="${label}"} `)]);
/** Scratch counts per vote number, reused for every cluster (no allocation per scrape). */
const VOTE_COUNTS: number[] = new Array(Vote.NoChange + 1).fill(0);
const LAST_DECISION = ascii("qnetd_cluster_last_decision_timestamp_seconds{");
const CLUSTER_INFO = ascii("qnetd_cluster_info{");

/** Every per-cluster and per-node family, in exposition order. */
const CLUSTER_FAMILIES: readonly ClusterFamily[] = [
  {
    name: "qnetd_cluster_nodes",
    help: "Clients connected for the cluster.",
    write: (sink, cluster) => clusterSample(sink, CLUSTER_NODES, cluster, cluster.clients.length),
  },
  {
    name: "qnetd_cluster_nodes_by_vote",
    help:
      "Clients of the cluster by the vote they hold (the last one sent but NO_CHANGE; none: no vote yet).",
    write(sink, cluster, input) {
      // One pass over the clients: a count per vote number (0..NoChange), then the samples.
      const counts = VOTE_COUNTS;
      counts.fill(0);
      const clients = cluster.clients;
      for (let k = 0; k < clients.length; k++) {
        const vote = voteOf(clients[k]!, input);
        if (vote >= 0 && vote < counts.length) counts[vote]!++;
      }
      for (let v = 0; v < VOTE_PAIRS.length; v++) {
        sink.bytes(BY_VOTE);
        sink.bytes(labelOf(cluster.name).pair);
        sink.bytes(VOTE_PAIRS[v]![1]);
        sink.number(counts[VOTE_PAIRS[v]![0]]!);
        sink.bytes(LINE_END);
      }
    },
  },
  {
    name: "qnetd_cluster_last_decision_timestamp_seconds",
    help: "When the arbiter last sent a vote (other than NO_CHANGE) to a client of the cluster.",
    write(sink, cluster, input) {
      let last = 0;
      const clients = cluster.clients;
      for (let k = 0; k < clients.length; k++) {
        last = Math.max(last, input.nodeTimes(clients[k]!.id)?.lastDecisionAt ?? 0);
      }
      if (last === 0) return;
      sink.bytes(LAST_DECISION);
      sink.bytes(labelOf(cluster.name).pair);
      sink.ascii("} ");
      sink.milliseconds(last);
      sink.bytes(LINE_END);
    },
  },
  {
    name: "qnetd_cluster_info",
    help: "The cluster's decision algorithm and tie-breaker (always 1).",
    write(sink, cluster) {
      const first = cluster.clients[0];
      sink.bytes(CLUSTER_INFO);
      sink.bytes(labelOf(cluster.name).pair);
      sink.ascii(',algorithm="');
      sink.ascii(ALGORITHM_LABELS[first?.decisionAlgorithm ?? -1] ?? "unknown");
      sink.ascii('",tie_breaker="');
      sink.ascii(first === undefined ? "unknown" : tieBreakerLabel(first.tieBreaker));
      sink.ascii('"} 1\n');
    },
  },
  perNode("qnetd_node_connected", "The node is connected (1) with a completed INIT.", () => 1),
  perNode("qnetd_node_tls", "The node's connection uses TLS.", (c) => (c.tlsStarted ? 1 : 0)),
  perNode(
    "qnetd_node_certificate_verified",
    "The node presented a client certificate that verified against the QNet CA.",
    (c) => (c.tlsPeerCertificateVerified ? 1 : 0),
  ),
  perNode(
    "qnetd_node_heartbeat_interval_seconds",
    "The node's heartbeat interval.",
    (c) => c.heartbeatInterval,
    true,
  ),
  perNode(
    "qnetd_node_last_message_age_seconds",
    "Seconds since the node's last message.",
    (c, input) => {
      const at = input.nodeTimes(c.id)?.lastMessageAt ?? 0;
      return at > 0 ? Math.round(Math.max(0, input.monotonicNow - at)) : undefined;
    },
    true,
  ),
];

/**
 * Writes `family`'s samples from cluster `from` on, until about {@link STEP_BYTES} are
 * written or the clusters end; returns the next cluster's index.
 */
function writeStep(
  sink: ByteSink,
  family: ClusterFamily,
  clusters: readonly ClusterView[],
  from: number,
  input: MetricsInput,
): number {
  const stop = sink.length + STEP_BYTES;
  let c = from;
  while (c < clusters.length && sink.length < stop) family.write(sink, clusters[c++]!, input);
  return c;
}

/**
 * Per-cluster and per-node families: one pass over the clusters per family, in steps that
 * end between two clusters, nothing allocated per cluster or node.
 */
function* clusterFamilies(
  w: ExpositionWriter,
  input: MetricsInput,
  clusters: readonly ClusterView[],
): Generator<void> {
  for (const family of CLUSTER_FAMILIES) {
    w.family(family.name, family.help, "gauge");
    let next = 0;
    while (next < clusters.length) {
      next = writeStep(w.sink, family, clusters, next, input);
      if (next < clusters.length) yield;
    }
  }
}

/** The daemon's own families. */
function daemonFamilies(w: ExpositionWriter, input: MetricsInput): void {
  const counters = input.counters;
  w.family("qnetd_info", "The daemon's version and TLS mode (always 1).", "gauge")
    .sample(
      labels({
        version: input.version,
        tls: TLS_SUPPORTED_NAMES[input.tlsSupported as TlsSupported] ?? "unknown",
      }),
      1,
    );
  w.family("qnetd_start_time_seconds", "When the daemon started.", "gauge")
    .sample("", input.startedAt / 1000);
  w.family("qnetd_clients", "TCP clients connected (including those before INIT).", "gauge")
    .sample("", input.connectedClients);
  w.family("qnetd_clusters", "Clusters with at least one connected client.", "gauge")
    .sample("", input.clusters.length);
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
  w.family(
    "qnetd_metrics_renders_total",
    "Expositions rendered (scrapes within 250 ms of each other share one), before this one.",
    "counter",
  ).sample("", input.renders?.count ?? 0);
  w.family(
    "qnetd_metrics_render_cpu_seconds_total",
    "CPU time the daemon spent rendering them: the cost of the metrics on the event loop.",
    "counter",
  ).sample("", input.renders?.cpuSeconds ?? 0);
}
