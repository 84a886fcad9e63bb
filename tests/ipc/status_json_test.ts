/**
 * `qnet qnetd-tool --json`: the replies carry schema version, daemon version, uptime and
 * timestamp, use one style for enum values, and validate against docs/qnetd-tool.schema.json,
 * built in-process from the recorded states and asked from a running daemon over IPC.
 * Port 18545.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { main as toolMain } from "../../cli/qnetd_tool.ts";
import { RecordingIo } from "../../cli/io.ts";
import { JSON_SCHEMA_VERSION, jsonBody, listJson, statusJson } from "../../core/status_json.ts";
import { QNET_VERSION } from "../../core/version.ts";
import {
  fourClusters,
  joinFfsplit,
  settle,
  startArbiter,
  twoClusters,
  validate,
} from "../support/mod.ts";

const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/qnetd-tool.schema.json", import.meta.url)),
);
const META = {
  version: QNET_VERSION,
  startedAtMs: Date.UTC(2026, 0, 1),
  nowMs: Date.UTC(2026, 0, 1, 1),
};
const bytes = (s: string) => new TextEncoder().encode(s);
const parse = (body: Uint8Array) => JSON.parse(new TextDecoder().decode(body));

Deno.test("statusJson() and listJson() carry the header, the facts and one enum style", () => {
  const status = parse(jsonBody(statusJson(fourClusters, META)));
  assertEquals(
    [status.schemaVersion, status.version, status.uptimeSeconds, status.timestamp],
    [JSON_SCHEMA_VERSION, QNET_VERSION, 3600, "2026-01-01T01:00:00.000Z"],
  );
  assertEquals([status.connectedClusters, status.tls], [4, "unsupported"]);
  const list = parse(jsonBody(listJson(fourClusters, META, bytes("debian"))));
  assertEquals(list.clusters.length, 1);
  const [cluster] = list.clusters;
  assertEquals(cluster.name, "debian");
  assertEquals(cluster.nameHex, "64656269616e");
  assertEquals(cluster.algorithm, "ffsplit");
  assertEquals(cluster.keepActivePartitionTieBreaker, true);
  assertEquals(cluster.tieBreaker, { mode: "lowest", nodeId: 0 });
  assertEquals(cluster.nodes[0].configVersion, "5");
  assertEquals(cluster.nodes[0].ringId, { nodeId: 1, seq: "4" });
  assertEquals(cluster.nodes[0].configNodeList[1], { nodeId: 2, dataCenterId: 3 });
  assertEquals(cluster.nodes[0].heuristics.last, "pass");
  assertEquals(cluster.nodes[1].vote, "noChange");
  assertEquals(cluster.nodes[1].lastAckNackVote, "ack");
  assertEquals("configVersion" in cluster.nodes[1], false);
});

Deno.test("the JSON of the recorded states validates against docs/qnetd-tool.schema.json", () => {
  for (const snapshot of [fourClusters, twoClusters]) {
    assertEquals(validate(SCHEMA, parse(jsonBody(statusJson(snapshot, META)))), []);
    assertEquals(validate(SCHEMA, parse(jsonBody(listJson(snapshot, META)))), []);
  }
});

Deno.test("the schema validator rejects what the schema forbids", () => {
  const status = parse(jsonBody(statusJson(fourClusters, META)));
  const broken: [string, unknown][] = [
    ["an old enum style", { ...status, tls: "Unsupported" }],
    ["a missing header field", { ...status, schemaVersion: undefined }],
    ["another schema version", { ...status, schemaVersion: 2 }],
    ["an unknown key", { ...status, extra: 1 }],
    ["a bad timestamp", { ...status, timestamp: "yesterday" }],
    ["a fraction for an integer", { ...status, port: 1.5 }],
  ];
  for (const [what, value] of broken) {
    const json = JSON.parse(JSON.stringify(value));
    assertEquals(validate(SCHEMA, json).length > 0, true, what);
  }
});

Deno.test({
  name: "qnet qnetd-tool --json against a running daemon validates and counts uptime",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using daemon = await startArbiter("qnet", {
      port: 18545,
      args: ["-s", "off"],
      settings: { dpd_enabled: "off" },
    });
    using one = await joinFfsplit(daemon.port, "json", 1, [1, 2]);
    using two = await joinFfsplit(daemon.port, "json", 2, [1, 2]);
    await settle([one, two]);
    const before = Date.now();
    const replies = [];
    for (const args of [["-s", "--json"], ["-l", "--json"], ["-l", "-v", "--json", "-c", "json"]]) {
      const io = new RecordingIo();
      assertEquals(await toolMain([...args, "-p", daemon.socketPath], io), 0, io.stderr);
      const reply = JSON.parse(io.stdout);
      assertEquals(validate(SCHEMA, reply), [], args.join(" "));
      replies.push(reply);
    }
    const [status, list] = replies;
    assertEquals([status.version, status.connectedClients], [QNET_VERSION, 2]);
    assertEquals(Math.abs(Date.parse(status.timestamp) - before) < 60_000, true, status.timestamp);
    assertEquals(status.uptimeSeconds >= 0 && status.uptimeSeconds < 600, true);
    assertEquals(
      list.clusters[0].nodes.map((n: { lastAckNackVote: string }) => n.lastAckNackVote),
      ["ack", "ack"],
    );
  },
});
