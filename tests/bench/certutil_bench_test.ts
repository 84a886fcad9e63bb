/**
 * scripts/bench/certutil_bench.ts measures both tools on one run: every figure is a positive
 * duration (no timing is asserted: figures belong to the benchmark, not to the suite).
 */
import assert from "node:assert/strict";
import { measure } from "../../scripts/bench/certutil_bench.ts";
import { needAll, needNssTools, needRealTools, testNeeding } from "../support/mod.ts";

testNeeding(
  needAll(needRealTools(), needNssTools()),
  "certutil bench: one run of -i and -s with both tools",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "qnet-certutil-bench-test-" });
    try {
      const r = await measure(root, 0);
      for (const value of [r.c.init, r.c.sign, r.ours.init, r.ours.sign]) {
        assert.ok(Number.isFinite(value) && value > 0, String(value));
      }
      assert.ok((await Deno.stat(`${root}/run0/ours/nssdb/cluster-Bench.crt`)).size > 0);
      assert.ok((await Deno.stat(`${root}/run0/qnetd/nssdb/cluster-Bench.crt`)).size > 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
