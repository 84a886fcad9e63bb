/**
 * The `--flood` report of scripts/bench: one table per TLS mode with the arbiters side by side
 * and the ratio of the first two; failed probes count with the probe timeout, never dropped.
 */
import assert from "node:assert/strict";
import {
  compareRuns,
  type FloodFigures,
  formatFloodJson,
  formatFloodTable,
} from "../../scripts/bench/flood_run.ts";
import { FLOOD_RATE } from "../../scripts/bench/silent_flood.ts";
import { parseOptions } from "../../scripts/bench/main.ts";

function figures(mode: string, label: string, p50: number, p99: number): FloodFigures {
  return {
    mode,
    label,
    command: label,
    ratePerSec: 800,
    holdMs: 3000,
    floodMs: 10000,
    floodOpened: 8000,
    floodFailed: 0,
    probes: 32,
    answered: 32,
    replyP50: p50,
    replyP99: p99,
    replyMax: p99,
    connectP50: 0.1,
    connectP99: 0.2,
    servingAfter: true,
    failures: [],
  };
}

Deno.test("flood report: per mode, arbiters side by side with the first/second ratio", () => {
  const all = [
    figures("TLS off", "qnet", 2, 8),
    figures("TLS off", "C", 1, 4),
    figures("TLS on", "qnet", 3, 9),
    { ...figures("TLS on", "C", 1, 3), servingAfter: false, failures: ["reply timeout"] },
  ];
  const table = formatFloodTable(all);
  assert.match(table, /^flood, TLS off\s+qnet\s+C\s+qnet\/C$/m);
  assert.match(table, /^PREINIT reply p50 \(ms\)\s+2\.000\s+1\.000\s+2\.00$/m);
  assert.match(table, /^PREINIT reply p99 \(ms\)\s+9\.000\s+3\.000\s+3\.00$/m);
  assert.match(table, /^probes answered\s+32 \/ 32\s+32 \/ 32\s+1\.00$/m);
  assert.match(table, /^C \(TLS on\): no PREINIT reply after the flood$/m);
  assert.match(table, /^C \(TLS on\): failed probes, e\.g\. reply timeout$/m);
  const json = JSON.parse(formatFloodJson(all));
  assert.equal(json.ratios["TLS off"]["PREINIT reply p99 (ms)"], 2);
  assert.equal(json.runs.length, 4);
});

Deno.test("flood --compare: ours then C, TLS off at 800/s, then TLS on at 100/s", () => {
  const a = { label: "qnet", command: "a" };
  const b = { label: "C", command: "b" };
  const runs = compareRuns([a, b], [a, b]);
  assert.deepEqual(
    runs.map((r) => `${r.mode} ${r.spec.label} ${r.ratePerSec}`),
    [
      `TLS off qnet ${FLOOD_RATE.plain}`,
      `TLS off C ${FLOOD_RATE.plain}`,
      `TLS on qnet ${FLOOD_RATE.tls}`,
      `TLS on C ${FLOOD_RATE.tls}`,
    ],
  );
});

Deno.test("bench --flood: options pick the runs, the duration and the rate", () => {
  const compare = parseOptions(["--flood", "--compare", "--flood-duration", "7"]);
  assert.ok(compare !== "help" && compare.flood !== undefined);
  assert.equal(compare.flood.durationMs, 7000);
  assert.deepEqual(compare.flood.runs.map((r) => r.mode), [
    "TLS off",
    "TLS off",
    "TLS on",
    "TLS on",
  ]);
  const given = parseOptions(["--flood", "--tls", "--arbiter", "x=/bin/x {port}"]);
  assert.ok(given !== "help" && given.flood !== undefined);
  assert.deepEqual(given.flood.runs.map((r) => [r.mode, r.spec.label, r.ratePerSec]), [
    ["as given", "x", FLOOD_RATE.tls],
  ]);
  const rate = parseOptions(["--flood", "--flood-rate", "50", "--arbiter", "/bin/x"]);
  assert.ok(rate !== "help" && rate.flood?.runs[0]?.ratePerSec === 50);
  assert.throws(
    () => parseOptions(["--flood", "--ceiling"]),
    /--flood needs --compare or --arbiter/,
  );
});
