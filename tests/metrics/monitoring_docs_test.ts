/**
 * docs/monitoring.md and its files: the alert rules pass the real `promtool check rules` and
 * their unit tests (`promtool test rules`), and every metric the rules, the Grafana dashboard
 * and the page name is one the daemon exports, and every one it exports is documented.
 */
import assert from "node:assert/strict";
import { renderMetricsText } from "../../core/metrics/qnetd_metrics.ts";
import { TlsSupported } from "../../core/protocol/constants.ts";
import { EdgeCounters } from "../../net/edge_counters.ts";
import { needProgram, parseExposition, testNeeding } from "../support/mod.ts";

const DOCS = new URL("../../docs/", import.meta.url).pathname;
const RULES = `${DOCS}monitoring/qnetd-alerts.yml`;
const RULES_TEST = `${DOCS}monitoring/qnetd-alerts.test.yml`;
const DASHBOARD = `${DOCS}monitoring/grafana-qnetd.json`;
const PAGE = `${DOCS}monitoring.md`;

/** Every family the daemon writes (they are written even when they have no sample). */
function exportedFamilies(): Set<string> {
  const text = renderMetricsText({
    clusters: [],
    connectedClients: 0,
    tlsSupported: TlsSupported.Supported,
    nodeTimes: () => undefined,
    monotonicNow: 0,
    counters: new EdgeCounters(),
    admissionQueueLength: 0,
    eventLoopLagSeconds: 0,
    memory: { rss: 1, heapUsed: 1, heapTotal: 1 },
    certificates: {},
    reloads: { succeeded: 0, failed: 0 },
    startedAt: 0,
    version: "0",
  });
  return new Set(parseExposition(text).types.keys());
}

/** The qnetd_* names in `text`. */
function metricNames(text: string): Set<string> {
  return new Set(text.match(/\bqnetd_[a-z0-9_]+/g) ?? []);
}

async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}

testNeeding(
  needProgram("promtool", "prometheus"),
  "promtool check rules: five alerts",
  async () => {
    const { code, output } = await promtool(["check", "rules", RULES]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS: 5 rules found/);
    const names = [...(await Deno.readTextFile(RULES)).matchAll(/- alert: (\w+)/g)].map((m) =>
      m[1]
    );
    assert.deepEqual(names, [
      "QnetdDown",
      "QnetdClusterWithoutAck",
      "QnetdCertificateExpiring",
      "QnetdTlsHandshakeFailuresRising",
      "QnetdDpdDisconnectsRising",
    ]);
  },
);

testNeeding(
  needProgram("promtool", "prometheus"),
  "promtool test rules: each alert fires on its unit test's series",
  async () => {
    const { code, output } = await promtool(["test", "rules", RULES_TEST]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
    // Every alert has a test that expects it to fire.
    const tests = await Deno.readTextFile(RULES_TEST);
    for (const name of (await Deno.readTextFile(RULES)).matchAll(/- alert: (\w+)/g)) {
      assert.match(tests, new RegExp(`alertname: ${name[1]}\\n\\s+exp_alerts:\\n\\s+- `), name[1]);
    }
  },
);

Deno.test("the rules, the dashboard and the page name only exported metrics", async () => {
  const exported = exportedFamilies();
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
    p.targets.map((t) => t.expr)
  );
  assert.ok(exprs.length >= 10, "a dashboard with its queries");
  for (
    const [what, names] of [
      ["rules", metricNames(await Deno.readTextFile(RULES))],
      ["rule tests", metricNames(await Deno.readTextFile(RULES_TEST))],
      ["dashboard", metricNames(exprs.join("\n"))],
      ["docs/monitoring.md", metricNames(await Deno.readTextFile(PAGE))],
    ] as const
  ) {
    for (const name of names) assert.ok(exported.has(name), `${what} names ${name}`);
  }
});

Deno.test("docs/monitoring.md documents every exported metric", async () => {
  const documented = metricNames(await Deno.readTextFile(PAGE));
  for (const name of exportedFamilies()) assert.ok(documented.has(name), name);
});
