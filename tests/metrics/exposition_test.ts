/**
 * The exposition writer, the cluster-name labels and the rendering of a daemon state: label
 * values escaped and one-to-one whatever bytes a client sent as its cluster name, the series
 * the issue asks for, and the real `promtool check metrics` accepting the result.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteSink,
  escapeLabelValue,
  ExpositionWriter,
  formatValue,
  labels,
} from "../../core/metrics/exposition.ts";
import { clusterLabel, MAX_CLUSTER_LABEL_BYTES } from "../../core/metrics/cluster_label.ts";
import {
  type ClientView,
  type ClusterView,
  type MetricsInput,
  renderMetricsText,
} from "../../core/metrics/qnetd_metrics.ts";
import {
  DecisionAlgorithm,
  MsgType,
  ReplyError,
  TieBreakerMode,
  TlsSupported,
  Vote,
} from "../../core/protocol/constants.ts";
import { EdgeCounters } from "../../net/edge_counters.ts";
import { CloseReason } from "../../core/metrics/traffic.ts";
import {
  needProgram,
  parseExposition,
  promtoolCheckMetrics,
  samplesOf,
  testNeeding,
} from "../support/mod.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("escapeLabelValue() escapes backslash, double quote and newline only", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(escapeLabelValue("plain ünïcode {}=,"), "plain ünïcode {}=,");
  assert.equal(labels({ a: "x", b: '"' }), 'a="x",b="\\""');
});

Deno.test("formatValue() writes Go float syntax", () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 1.5, 0, 1e21].map(formatValue), [
    "NaN",
    "+Inf",
    "-Inf",
    "1.5",
    "0",
    "1e+21",
  ]);
});

Deno.test("ByteSink writes integers, milliseconds as seconds and text, growing as needed", () => {
  const sink = new ByteSink(new Uint8Array(4));
  for (const n of [0, 7, 10, 1234567890, 2 ** 53 - 1]) {
    sink.number(n);
    sink.ascii(" ");
  }
  for (const ms of [0, 1500, 8000, 1, 10, 999, 1_700_000_000_500, 2.5, -1]) {
    sink.milliseconds(ms);
    sink.ascii(" ");
  }
  sink.number(-3);
  sink.ascii(" ");
  sink.number(0.25);
  sink.text(" é🦕");
  sink.bytes(new Uint8Array([0x21]));
  assert.equal(
    new TextDecoder().decode(sink.written()),
    "0 7 10 1234567890 9007199254740991 0 1.5 8 0.001 0.01 0.999 1700000000.5 0.0025 -0.001 " +
      "-3 0.25 é🦕!",
  );
  assert.equal(sink.length, sink.written().length);
});

Deno.test("ExpositionWriter refuses a family written twice and samples before a family", () => {
  const w = new ExpositionWriter();
  assert.throws(() => w.sample("", 1), /before any family/);
  w.family("x_total", "help \\ with\nnewline", "counter").sample("", 2);
  assert.throws(() => w.family("x_total", "again", "counter"), /twice/);
  assert.equal(
    w.text(),
    "# HELP x_total help \\\\ with\\nnewline\n# TYPE x_total counter\nx_total 2\n",
  );
});

Deno.test("clusterLabel() keeps plain names and escapes every unsafe byte as \\xHH", () => {
  assert.equal(clusterLabel(utf8("debian")), "debian");
  assert.equal(clusterLabel(utf8('quote"brace}{ é 🦕')), 'quote"brace}{ é 🦕');
  assert.equal(clusterLabel(utf8("back\\slash")), "back\\x5cslash");
  assert.equal(clusterLabel(utf8("new\nline")), "new\\x0aline");
  assert.equal(clusterLabel(utf8("é\u0085")), "\\xc3\\xa9\\xc2\\x85"); // C1 control: all escaped
  assert.equal(clusterLabel(new Uint8Array([0x61, 0xff, 0x00])), "a\\xff\\x00");
  assert.equal(clusterLabel(new Uint8Array()), "");
});

Deno.test("clusterLabel() is one-to-one and never yields a control character", () => {
  const names = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.string({ maxLength: 12 }).map(utf8),
    fc.constantFrom(utf8("a\\x5cb"), utf8("a\\b"), utf8("\\xff"), new Uint8Array([0xff])),
  );
  fc.assert(
    fc.property(names, names, (a, b) => {
      const same = a.length === b.length && a.every((x, i) => x === b[i]);
      assert.equal(clusterLabel(a) === clusterLabel(b), same);
      // deno-lint-ignore no-control-regex -- the very characters that must not appear
      assert.doesNotMatch(clusterLabel(a), /[\u0000-\u001f\u007f-\u009f]/);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("clusterLabel() shortens a long name, keeping it distinct", () => {
  const long = new Uint8Array(32768).fill(0x61);
  const other = long.slice();
  other[30000] = 0x62;
  const a = clusterLabel(long);
  assert.ok(a.length < MAX_CLUSTER_LABEL_BYTES + 40, `${a.length} characters`);
  assert.ok(a.startsWith("a".repeat(MAX_CLUSTER_LABEL_BYTES)));
  assert.notEqual(a, clusterLabel(other));
  assert.equal(clusterLabel(long.subarray(0, MAX_CLUSTER_LABEL_BYTES)), "a".repeat(256));
});

let nextId = 1;

/** A client as the metrics read it (core/arbiter/client.ts's Client has these fields). */
function client(nodeId: number, over: Partial<ClientView> = {}): ClientView {
  return {
    id: nextId++,
    nodeId,
    heartbeatInterval: 8000,
    tlsStarted: false,
    tlsPeerCertificateVerified: false,
    lastSentAckNackVote: Vote.Undefined,
    decisionAlgorithm: DecisionAlgorithm.Ffsplit,
    tieBreaker: { mode: TieBreakerMode.NodeId, nodeId: 2 },
    ...over,
  };
}

/** Cluster names a hostile client could send. */
const HOSTILE_NAMES: readonly Uint8Array[] = [
  utf8('evil"} 1\nqnetd_clients 999\n#'),
  utf8("back\\slash\\"),
  utf8("tab\tand\rcr"),
  new Uint8Array([0xff, 0xfe, 0x22, 0x0a]),
  new Uint8Array(5000).fill(0x22),
  utf8("ünïcødé 🦕"),
  new Uint8Array(),
];

/** The first client made: the only one the edge has timing for (see inputFor). */
let timedClient = 0;

function clustersWith(names: readonly Uint8Array[]): ClusterView[] {
  return names.map((name) => {
    const first = client(1, { tlsStarted: true });
    timedClient ||= first.id;
    return {
      name,
      clients: [
        first,
        client(2, { lastSentAckNackVote: Vote.Nack, tlsPeerCertificateVerified: true }),
        client(2), // a duplicate node id: refused at INIT, still connected
        client(0), // before INIT
      ],
    };
  });
}

function inputFor(clusters: readonly ClusterView[], counters = new EdgeCounters()): MetricsInput {
  return {
    clusters,
    connectedClients: clusters.length * 4 + 1,
    tlsSupported: TlsSupported.Supported,
    nodeTimes: (id) =>
      id === timedClient
        ? { lastMessageAt: 1000, lastDecisionAt: 1_700_000_000_500, currentVote: Vote.AskLater }
        : undefined,
    monotonicNow: 3500,
    counters,
    admissionQueueLength: 3,
    eventLoopLagSeconds: 0.012,
    memory: { rss: 50e6, heapUsed: 10e6, heapTotal: 20e6 },
    certificates: { server: 1_800_000_000, ca: 4_900_000_000 },
    reloads: { succeeded: 2, failed: 1, lastAt: 1_700_000_000_000 },
    startedAt: 1_699_000_000_000,
    version: "0.1.0",
  };
}

Deno.test("renderMetrics() gives each hostile cluster its own series, labels read back", () => {
  const text = renderMetricsText(inputFor(clustersWith(HOSTILE_NAMES)));
  const exp = parseExposition(text);
  const clusters = samplesOf(exp, "qnetd_cluster_nodes");
  assert.deepEqual(clusters.map((s) => s.labels.cluster), HOSTILE_NAMES.map(clusterLabel));
  assert.ok(clusters.every((s) => s.value === 4));
  // No injected sample: qnetd_clients is the daemon's own, once.
  assert.deepEqual(samplesOf(exp, "qnetd_clients").map((s) => s.value), [
    HOSTILE_NAMES.length * 4 + 1,
  ]);
  const first = clusterLabel(HOSTILE_NAMES[0]!);
  const byVote = (vote: string) =>
    samplesOf(exp, "qnetd_cluster_nodes_by_vote", { cluster: first, vote })[0]?.value;
  assert.deepEqual(
    ["ack", "nack", "ask_later", "wait_for_reply", "none"].map(byVote),
    [0, 1, 1, 0, 2], // node 1: the edge's vote; node 2: the arbiter's last ACK/NACK
  );
  // One series per node id; node 0 (before INIT) has none.
  assert.deepEqual(
    samplesOf(exp, "qnetd_node_connected", { cluster: first }).map((s) => s.labels.node_id),
    ["1", "2"],
  );
  assert.deepEqual(samplesOf(exp, "qnetd_node_tls", { cluster: first }).map((s) => s.value), [
    1,
    0,
  ]);
  assert.deepEqual(
    samplesOf(exp, "qnetd_node_certificate_verified", { cluster: first }).map((s) => s.value),
    [0, 1],
  );
  assert.equal(
    samplesOf(exp, "qnetd_node_heartbeat_interval_seconds", { cluster: first })[0]?.value,
    8,
  );
  assert.deepEqual(
    samplesOf(exp, "qnetd_node_last_message_age_seconds", { cluster: first }).map((s) => [
      s.labels.node_id,
      s.value,
    ]),
    [["1", 2.5]],
  );
  assert.equal(
    samplesOf(exp, "qnetd_cluster_last_decision_timestamp_seconds", { cluster: first })[0]?.value,
    1_700_000_000.5,
  );
  assert.deepEqual(samplesOf(exp, "qnetd_cluster_info", { cluster: first })[0]?.labels, {
    cluster: first,
    algorithm: "ffsplit",
    tie_breaker: "2",
  });
});

Deno.test("renderMetrics() reports the edge's counters under their labels", () => {
  const counters = new EdgeCounters();
  counters.accepted = 7;
  counters.closed[CloseReason.Dpd] = 2;
  counters.closed[CloseReason.MaxClients] = 1;
  counters.received(MsgType.Preinit);
  counters.skipped();
  counters.sent({ type: MsgType.ServerError, replyErrorCode: ReplyError.DuplicateNodeId });
  counters.sent({
    type: MsgType.InitReply,
    replyErrorCode: 0,
    withSupportedMessages: false,
    withSupportedOptions: false,
    serverMaximumReplySize: 1,
    serverMaximumRequestSize: 1,
  });
  counters.tlsHandshakesOk = 3;
  counters.tlsFailed("certificate_expired");
  const exp = parseExposition(renderMetricsText(inputFor(clustersWith([]), counters)));
  const value = (name: string, match: Record<string, string> = {}) =>
    samplesOf(exp, name, match).map((s) => s.value);
  assert.deepEqual(value("qnetd_connections_accepted_total"), [7]);
  assert.deepEqual(value("qnetd_connections_closed_total", { reason: "dpd" }), [2]);
  assert.deepEqual(value("qnetd_connections_closed_total", { reason: "max_clients" }), [1]);
  assert.equal(counters.closedAfterAccept, 2);
  assert.deepEqual(value("qnetd_messages_received_total", { type: "preinit" }), [1]);
  assert.deepEqual(value("qnetd_messages_received_total", { type: "skipped" }), [1]);
  assert.deepEqual(value("qnetd_messages_sent_total", { type: "server_error" }), [1]);
  assert.deepEqual(value("qnetd_messages_sent_total", { type: "init_reply" }), [1]);
  assert.deepEqual(
    value("qnetd_error_replies_total", { code: "17", error: "duplicate_node_id" }),
    [1],
  );
  assert.equal(
    samplesOf(exp, "qnetd_error_replies_total").reduce((sum, s) => sum + s.value, 0),
    1,
    "an INIT_REPLY without error is no error reply",
  );
  assert.deepEqual(value("qnetd_tls_handshakes_total", { result: "success" }), [3]);
  assert.deepEqual(
    value("qnetd_tls_handshakes_total", { result: "failure", reason: "certificate_expired" }),
    [1],
  );
  assert.deepEqual(value("qnetd_certificate_not_after_timestamp_seconds", { certificate: "ca" }), [
    4_900_000_000,
  ]);
  assert.deepEqual(value("qnetd_config_reloads_total", { result: "failure" }), [1]);
  assert.deepEqual(value("qnetd_admission_queue_length"), [3]);
  assert.deepEqual(value("qnetd_event_loop_lag_seconds"), [0.012]);
  assert.deepEqual(value("qnetd_resident_memory_bytes"), [50e6]);
  // Every counter family is named *_total, every family is typed.
  for (const [name, type] of exp.types) {
    assert.equal(name.endsWith("_total"), type === "counter", name);
  }
});

testNeeding(
  needProgram("promtool", "prometheus"),
  "promtool check metrics accepts the exposition with hostile cluster names",
  async () => {
    const text = renderMetricsText(inputFor(clustersWith(HOSTILE_NAMES)));
    const { code, output } = await promtoolCheckMetrics(text);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), "", "no lint remark either");
  },
);
