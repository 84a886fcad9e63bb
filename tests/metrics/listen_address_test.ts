/** The `metrics_listen` setting: accepted forms, refusals, and the net permission it names. */
import assert from "node:assert/strict";
import { metricsListenDescriptor, parseMetricsListen } from "../../core/metrics/listen_address.ts";
import { defaultQnetdSettings, setSetting } from "../../core/settings.ts";
import { qnetdPermissions } from "../../cli/permission_sets.ts";

Deno.test("parseMetricsListen() takes ADDR:PORT with IPv6 in brackets", () => {
  assert.deepEqual(parseMetricsListen("127.0.0.1:9404"), { hostname: "127.0.0.1", port: 9404 });
  assert.deepEqual(parseMetricsListen("[::1]:9404"), { hostname: "::1", port: 9404 });
  assert.deepEqual(parseMetricsListen("localhost:1"), { hostname: "localhost", port: 1 });
  for (
    const bad of [
      "",
      "9404",
      ":9404",
      "::1:9404",
      "[::1]",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:+1",
      "127.0.0.1: 1",
      "[127.0.0.1]:9404",
      "a b:9404",
      "127.0.0.1:9404,x",
    ]
  ) {
    assert.equal(parseMetricsListen(bad), undefined, bad);
  }
});

Deno.test("metrics_listen is a -S setting, off by default, checked like the others", () => {
  const s = defaultQnetdSettings();
  assert.equal(s.metricsListen, "");
  assert.equal(setSetting(s, "METRICS_LISTEN", "[::1]:9404"), "ok");
  assert.equal(s.metricsListen, "[::1]:9404");
  assert.equal(setSetting(s, "metrics_listen", "nonsense"), "invalid");
  assert.equal(setSetting(s, "metrics_listen", ""), "ok");
});

Deno.test("the daemon's permission set grants exactly the metrics address", () => {
  assert.deepEqual(qnetdPermissions(["-S", "metrics_listen=[::1]:9404"]).net, [
    "[::]:5403",
    "[::1]:9404",
    "unix:/var/run/corosync-qnetd/corosync-qnetd.sock",
  ]);
  assert.equal(
    metricsListenDescriptor(parseMetricsListen("127.0.0.1:9404")!),
    "127.0.0.1:9404",
  );
  assert.deepEqual(qnetdPermissions([]).net, [
    "[::]:5403",
    "unix:/var/run/corosync-qnetd/corosync-qnetd.sock",
  ]);
});
