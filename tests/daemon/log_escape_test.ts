/**
 * A cluster name with control characters cannot forge log lines: our daemon's text log
 * escapes them (the C daemon prints them raw), while qnetd-tool's text output, which is not a
 * log, stays byte-identical to what the real tool prints against corosync-qnetd.
 */
import assert from "node:assert/strict";
import {
  type ArbiterKind,
  joinFfsplit,
  needAll,
  needCQnetd,
  needProgram,
  startArbiterOnFreePort,
  testNeeding,
} from "../support/mod.ts";

/** This file's ports. */
const PORT_RANGE = [46100, 46199] as const;
const C_TOOL = "/usr/bin/corosync-qnetd-tool";
/** A name that would add a line of its own and recolour a terminal. */
const EVIL = "evil\nNov 02 23:23:11 error   forged line\x1b[31m";

Deno.test({
  name: "log escaping: a cluster name with a newline stays on its line in the daemon's log",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using daemon = await startArbiterOnFreePort("qnet", PORT_RANGE, {
      args: ["-s", "off", "-d"],
      settings: { "dpd_enabled": "off" },
    });
    using _client = await joinFfsplit(daemon.port, EVIL, 1, [1]);
    const until = Date.now() + 10_000;
    while (!daemon.stderr().includes("cluster name = ") && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const log = daemon.stderr();
    assert.ok(
      log.includes("cluster name = evil\\x0aNov 02 23:23:11 error   forged line\\x1b[31m\n"),
      log,
    );
    assert.ok(!log.includes("\nNov 02 23:23:11 error   forged line"), "a forged line:\n" + log);
    assert.ok(!log.includes("\x1b"), "a raw escape character in the log");
  },
});

testNeeding(needAll(needCQnetd(), needProgram(C_TOOL, "corosync-qnetd")), {
  name: "log escaping: qnetd-tool prints the raw name, the same bytes as against corosync-qnetd",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const outputs = new Map<ArbiterKind, string>();
    for (const kind of ["c", "qnet"] as const) {
      await using daemon = await startArbiterOnFreePort(kind, PORT_RANGE, {
        args: ["-s", "off"],
        settings: { "dpd_enabled": "off" },
      });
      using _client = await joinFfsplit(daemon.port, EVIL, 1, [1]);
      const out = await new Deno.Command(C_TOOL, {
        args: ["-l", "-p", daemon.socketPath],
        stdin: "null",
        stderr: "inherit",
      }).output();
      assert.equal(out.code, 0);
      // Client ports differ between runs; everything else must be equal.
      const text = new TextDecoder().decode(out.stdout);
      outputs.set(kind, text.replace(/(Client address:\s+)\S+/g, "$1ADDRESS"));
    }
    assert.ok(outputs.get("c")!.includes(`Cluster "${EVIL}":`), outputs.get("c"));
    assert.equal(outputs.get("qnet"), outputs.get("c"));
  },
});
