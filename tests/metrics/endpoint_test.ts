/**
 * The metrics of a running daemon, started with exactly the permission set its command line
 * declares (`-S metrics_listen=...` included): what scripted clients do shows up in the
 * series (clusters with hostile names, ACK/NACK of a split, DPD and peer-closed
 * disconnects, a failed TLS handshake, a skipped message and its error reply, the
 * certificates' expiry); the IPC `metrics` command serves the same exposition; the HTTP side
 * answers 404/405/431 and stays bounded; the real `promtool check metrics` accepts it all.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { main as certutilMain } from "../../cli/certutil.ts";
import { RecordingIo } from "../../cli/io.ts";
import { clusterLabel } from "../../core/metrics/cluster_label.ts";
import { encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import { main as toolMain } from "../../cli/qnetd_tool.ts";
import {
  canRun,
  type Exposition,
  freePort,
  handshake,
  joinFfsplit,
  MemoryClientContext,
  mustRun,
  needNssTools,
  needProgram,
  parseExposition,
  promtoolCheckMetrics,
  type QdeviceClient,
  samplesOf,
  settle,
  startArbiter,
  WireConn,
} from "../support/mod.ts";

const PORT = freePort(43010, 43049);
const METRICS_PORT = freePort(43050, 43099);
const METRICS_URL = `http://127.0.0.1:${METRICS_PORT}/metrics`;
/** Bound of every wait for the daemon to notice something. */
const WAIT_MS = 15_000;

/** Cluster names as hostile clients send them (UTF-8 strings: the wire allows any bytes). */
const HOSTILE = [
  'evil"} 1\nqnetd_clients 999\n# x',
  "back\\slash",
  "ctl\u0001\u007f",
  "ünï 🦕",
];

async function scrape(): Promise<{ text: string; exposition: Exposition; response: Response }> {
  const response = await fetch(METRICS_URL);
  const text = await response.text();
  return { text, exposition: parseExposition(text), response };
}

/** Scrapes until `ok` holds (bounded), returning the last exposition. */
async function scrapeUntil(
  ok: (e: Exposition) => boolean,
  what: string,
): Promise<Exposition> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const { exposition } = await scrape();
    if (ok(exposition)) return exposition;
    if (Date.now() > until) throw new Error(`metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const value = (e: Exposition, name: string, match: Record<string, string> = {}) =>
  samplesOf(e, name, match).reduce((sum, s) => sum + s.value, 0);

/** Sends raw bytes as an HTTP request and returns the status line. */
async function rawHttp(request: Uint8Array): Promise<string> {
  using conn = await WireConn.connect(METRICS_PORT);
  await conn.write(request).catch(() => {});
  let text = "";
  for (;;) {
    const r = await conn.readExactly(1, 5000);
    if (r.kind !== "data") break;
    text += String.fromCharCode(r.bytes[0]!);
    if (text.includes("\r\n")) break;
  }
  return text.trim();
}

Deno.test({
  name: "metrics endpoint: a live daemon's clusters, votes, disconnects and TLS in the series",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-metr-endpoint-" });
    const clients: QdeviceClient[] = [];
    try {
      const keys = `${dir}/keys`;
      const io = new RecordingIo();
      assert.equal(await certutilMain(["-i", "-d", keys], io), 0, io.stderr);
      await using daemon = await startArbiter("qnet", {
        port: PORT,
        args: ["-s", "on"],
        settings: {
          nss_db_dir: keys,
          metrics_listen: `127.0.0.1:${METRICS_PORT}`,
        },
      });

      await t.step("clusters with hostile names, each with a split decided ACK/NACK", async () => {
        for (const name of HOSTILE) {
          clients.push(await joinFfsplit(PORT, name, 1, [1, 2], { membership: [1] }));
          clients.push(await joinFfsplit(PORT, name, 2, [1, 2], { membership: [2] }));
        }
        await settle(clients);
        const { exposition: e, text, response } = await scrape();
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        const labels = samplesOf(e, "qnetd_cluster_nodes").map((s) => s.labels.cluster);
        const encoder = new TextEncoder();
        assert.deepEqual(labels, HOSTILE.map((n) => clusterLabel(encoder.encode(n))));
        assert.equal(value(e, "qnetd_clients"), HOSTILE.length * 2);
        assert.equal(value(e, "qnetd_clusters"), HOSTILE.length);
        for (const cluster of labels) {
          assert.equal(value(e, "qnetd_cluster_nodes_by_vote", { cluster, vote: "ack" }), 1);
          assert.equal(value(e, "qnetd_cluster_nodes_by_vote", { cluster, vote: "nack" }), 1);
          assert.deepEqual(samplesOf(e, "qnetd_cluster_info", { cluster })[0]?.labels, {
            cluster,
            algorithm: "ffsplit",
            tie_breaker: "lowest",
          });
          const decided = value(e, "qnetd_cluster_last_decision_timestamp_seconds", { cluster });
          assert.ok(Math.abs(decided - Date.now() / 1000) < 60, `decided at ${decided}`);
          assert.deepEqual(
            samplesOf(e, "qnetd_node_connected", { cluster }).map((s) => s.labels.node_id),
            ["1", "2"],
          );
          assert.equal(
            value(e, "qnetd_node_heartbeat_interval_seconds", { cluster, node_id: "1" }),
            8,
          );
          const age = value(e, "qnetd_node_last_message_age_seconds", { cluster, node_id: "2" });
          assert.ok(age >= 0 && age < 30, `age ${age}`);
          assert.equal(value(e, "qnetd_node_tls", { cluster }), 0);
        }
        // The injected line did not become a sample of its own.
        assert.equal(samplesOf(e, "qnetd_clients").length, 1);
        assert.ok(value(e, "qnetd_messages_received_total", { type: "init" }) >= 8);
        assert.equal(
          value(e, "qnetd_messages_sent_total", { type: "init_reply" }),
          value(e, "qnetd_messages_received_total", { type: "init" }),
        );
        if (canRun(needProgram("promtool", "prometheus"), "promtool check metrics")) {
          const check = await promtoolCheckMetrics(text);
          assert.equal(check.code, 0, check.output);
        }
      });

      await t.step("the certificates' not_after, as NSS's certutil reads them", async () => {
        if (!canRun(needNssTools(), "NSS certutil as the oracle")) return;
        const { exposition: e } = await scrape();
        for (const [which, nickname] of [["server", "QNetd Cert"], ["ca", "QNet CA"]] as const) {
          const pem = (await mustRun("certutil", ["-L", "-d", `sql:${keys}`, "-n", nickname, "-a"]))
            .stdout;
          const cert = new x509.X509Certificate(pem);
          assert.equal(
            value(e, "qnetd_certificate_not_after_timestamp_seconds", { certificate: which }),
            cert.notAfter.getTime() / 1000,
            which,
          );
        }
      });

      await t.step(
        "a skipped message, its error reply, a peer close and a DPD expiry",
        async () => {
          const before = (await scrape()).exposition;
          // An unknown message type with a 4-byte body: skipped, SERVER_ERROR 4.
          using unknown = await WireConn.connect(PORT);
          await unknown.write(new Uint8Array([0x00, 0xff, 0, 0, 0, 4, 1, 2, 3, 4]));
          const reply = await unknown.readMessage();
          assert.equal(reply.kind, "data");
          // A client that goes away.
          clients.pop()![Symbol.dispose]();
          // A client with a 1 s heartbeat that never sends another message.
          const silent = await joinFfsplit(PORT, "dpd-cluster", 1, [1], { heartbeat: 1000 });
          clients.push(silent);
          const e = await scrapeUntil(
            (e) =>
              value(e, "qnetd_connections_closed_total", { reason: "dpd" }) >= 1 &&
              value(e, "qnetd_connections_closed_total", { reason: "peer_closed" }) >= 1,
            "the DPD and peer-closed disconnects",
          );
          assert.equal(value(e, "qnetd_messages_received_total", { type: "skipped" }), 1);
          assert.equal(
            value(e, "qnetd_error_replies_total", { code: "4", error: "unsupported_message" }),
            1,
          );
          assert.ok(
            value(e, "qnetd_connections_accepted_total") >=
              value(before, "qnetd_connections_accepted_total") + 2,
          );
          assert.equal(value(e, "qnetd_connections_closed_total", { reason: "protocol_error" }), 0);
        },
      );

      await t.step("a TLS handshake without the required client certificate", async () => {
        using conn = await WireConn.connect(PORT);
        await conn.write(encodePreinit({ seqNumber: 1, clusterName: "tls-cluster" }));
        assert.equal((await conn.readMessage()).kind, "data");
        await conn.write(encodeStartTls({ seqNumber: 2 }));
        using context = new MemoryClientContext({ caFile: `${keys}/qnetd-cacert.crt` });
        const outcome = await handshake(conn, context);
        outcome.client[Symbol.dispose]();
        const e = await scrapeUntil(
          (e) => value(e, "qnetd_tls_handshakes_total", { result: "failure" }) >= 1,
          "the failed handshake",
        );
        assert.deepEqual(
          samplesOf(e, "qnetd_tls_handshakes_total", { result: "failure" }).map((s) => [
            s.labels.reason,
            s.value,
          ]),
          [["no_client_certificate", 1]],
        );
        assert.equal(value(e, "qnetd_connections_closed_total", { reason: "tls_error" }), 1);
        assert.equal(value(e, "qnetd_tls_handshakes_total", { result: "success" }), 0);
      });

      await t.step("SIGHUP: the reload counted, the keys' expiry kept", async () => {
        const before = (await scrape()).exposition;
        const expiry = (e: Exposition) =>
          samplesOf(e, "qnetd_certificate_not_after_timestamp_seconds").map((s) => s.value);
        assert.equal(value(before, "qnetd_config_reloads_total"), 0);
        daemon.process.kill("SIGHUP");
        const e = await scrapeUntil(
          (e) => value(e, "qnetd_config_reloads_total", { result: "success" }) === 1,
          "the reload",
        );
        assert.equal(value(e, "qnetd_config_reloads_total", { result: "failure" }), 0);
        const at = value(e, "qnetd_config_last_reload_timestamp_seconds");
        assert.ok(Math.abs(at - Date.now() / 1000) < 60, `reloaded at ${at}`);
        assert.deepEqual(expiry(e), expiry(before));
        assert.equal(expiry(e).length, 2);
      });

      await t.step("qnetd-tool --metrics prints the same families over IPC", async () => {
        const io = new RecordingIo();
        assert.equal(await toolMain(["--metrics", "-p", daemon.socketPath], io), 0, io.stderr);
        const ipc = parseExposition(io.stdout);
        const http = (await scrape()).exposition;
        assert.deepEqual([...ipc.types.keys()], [...http.types.keys()]);
        assert.equal(value(ipc, "qnetd_clusters"), value(http, "qnetd_clusters"));
        if (canRun(needProgram("promtool", "prometheus"), "promtool check metrics")) {
          const check = await promtoolCheckMetrics(io.stdout);
          assert.equal(check.code, 0, check.output);
        }
        // --json has no metrics form.
        const json = new RecordingIo();
        assert.equal(await toolMain(["--metrics", "--json", "-p", daemon.socketPath], json), 1);
        assert.match(json.stderr, /--json needs -s, -l or --events/);
      });

      await t.step("HTTP: 404 elsewhere, 405 for POST, 431 for a huge head, HEAD", async () => {
        assert.equal(await fetch(`http://127.0.0.1:${METRICS_PORT}/`).then(drain), 404);
        assert.equal(
          await fetch(`http://127.0.0.1:${METRICS_PORT}/metricsx`).then(drain),
          404,
        );
        assert.equal(await fetch(METRICS_URL, { method: "POST", body: "x" }).then(drain), 405);
        const head = await fetch(METRICS_URL, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.ok(Number(head.headers.get("content-length")) > 1000);
        await head.body?.cancel();
        const huge = new TextEncoder().encode(
          `GET /metrics HTTP/1.1\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`,
        );
        assert.equal(await rawHttp(huge), "HTTP/1.1 431 Request Header Fields Too Large");
        // Connections that never send a request hold no more than their slot: scrapes go on.
        const idle = await Promise.all(
          Array.from({ length: 4 }, () => WireConn.connect(METRICS_PORT)),
        );
        assert.equal((await scrape()).response.status, 200);
        for (const conn of idle) conn[Symbol.dispose]();
        await daemon.assertServing();
      });
    } finally {
      for (const c of clients) c[Symbol.dispose]();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function drain(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}
