/**
 * A real Prometheus server (Debian's `prometheus`) scrapes the daemon's endpoint: the test
 * starts it on loopback with its own port and a temporary storage directory, waits (bounded)
 * until its query API returns the daemon's series, and checks that the target is up and that
 * a hostile cluster name arrived as the exact label value the daemon wrote.
 */
import assert from "node:assert/strict";
import { clusterLabel } from "../../core/metrics/cluster_label.ts";
import {
  freePort,
  joinFfsplit,
  needProgram,
  settle,
  startArbiter,
  testNeeding,
} from "../support/mod.ts";

const PORT = freePort(43100, 43129);
const METRICS_PORT = freePort(43130, 43159);
const PROMETHEUS_PORT = freePort(43160, 43199);
/** How long Prometheus may take to start and scrape twice. */
const PROMETHEUS_WAIT_MS = 60_000;
const CLUSTER = 'prom "quoted" \\ cluster\nline two';

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<QueryResult[] | undefined> {
  try {
    const url = `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${
      encodeURIComponent(expr)
    }`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await response.json();
    return body.status === "success" ? body.data.result : undefined;
  } catch {
    return undefined; // not up yet
  }
}

async function queryUntil(expr: string, until: number): Promise<QueryResult[]> {
  for (;;) {
    const result = await query(expr);
    if (result !== undefined && result.length > 0) return result;
    if (Date.now() > until) throw new Error(`Prometheus never returned ${expr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

testNeeding(needProgram("prometheus", "prometheus"), {
  name: "prometheus: a real server scrapes the endpoint and serves the series",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-metr-prometheus-" });
    try {
      await using daemon = await startArbiter("qnet", {
        port: PORT,
        args: ["-s", "off"],
        settings: { metrics_listen: `127.0.0.1:${METRICS_PORT}`, dpd_enabled: "off" },
      });
      using one = await joinFfsplit(daemon.port, CLUSTER, 1, [1, 2]);
      using two = await joinFfsplit(daemon.port, CLUSTER, 2, [1, 2]);
      await settle([one, two]);

      const config = `${dir}/prometheus.yml`;
      await Deno.writeTextFile(
        config,
        [
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "scrape_configs:",
          "  - job_name: qnetd",
          "    static_configs:",
          `      - targets: ["127.0.0.1:${METRICS_PORT}"]`,
          "",
        ].join("\n"),
      );
      const prometheus = new Deno.Command("prometheus", {
        args: [
          `--config.file=${config}`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
          "--storage.tsdb.retention.time=1h",
          "--log.level=warn",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let log = "";
      const pump = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of prometheus.stderr) log += decoder.decode(chunk);
      })();
      try {
        const until = Date.now() + PROMETHEUS_WAIT_MS;
        const up = await queryUntil('up{job="qnetd"} == 1', until).catch((error) => {
          throw new Error(`${error.message}\nprometheus log:\n${log}`);
        });
        assert.equal(up.length, 1);
        const nodes = await queryUntil("qnetd_cluster_nodes", until);
        const label = clusterLabel(new TextEncoder().encode(CLUSTER));
        assert.deepEqual(nodes.map((r) => [r.metric.cluster, r.value[1]]), [[label, "2"]]);
        const acks = await queryUntil('qnetd_cluster_nodes_by_vote{vote="ack"}', until);
        assert.deepEqual(acks.map((r) => r.value[1]), ["2"]);
        const accepted = await queryUntil("qnetd_connections_accepted_total", until);
        assert.ok(Number(accepted[0]!.value[1]) >= 2);
        // The scrape reports no sample errors (a duplicate or malformed series would).
        const errors = await queryUntil(
          'scrape_samples_post_metric_relabeling{job="qnetd"}',
          until,
        );
        assert.ok(Number(errors[0]!.value[1]) > 50, `samples: ${errors[0]!.value[1]}`);
      } finally {
        const kill = (signal: Deno.Signal) => {
          try {
            prometheus.kill(signal);
          } catch {
            // Exited already.
          }
        };
        kill("SIGTERM");
        const killer = setTimeout(() => kill("SIGKILL"), 10_000);
        await prometheus.status;
        clearTimeout(killer);
        await pump;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
