/**
 * The conformance table (tests/arbiter/conformance_rows.ts) over TCP: every row is played by
 * one client harness against our daemon and, when installed, against the real
 * corosync-qnetd 3.0.3. Both must give the row's votes and errors, hence the same ones.
 * One daemon of each kind serves every row; each row uses its own cluster name.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DecisionAlgorithm } from "../../core/protocol/constants.ts";
import {
  assertOutcome,
  type Outcome,
  outcomeOf,
  type Row,
  ROWS,
  runRow,
} from "../arbiter/conformance_rows.ts";
import {
  type ArbiterKind,
  haveCQnetd,
  type RunningArbiter,
  startArbiter,
} from "../support/daemons.ts";
import { WireHarness } from "./wire_harness.ts";

const PORTS: Record<ArbiterKind, number> = { qnet: 17600, c: 17601 };
/** lms rows use this INIT heartbeat, so the algorithm timer fires every 250 ms. */
const LMS_HEARTBEAT = 1000;
/** Rows the real daemon cannot run: X1 crashes corosync-qnetd 3.0.3 (reference §2.6). */
const C_SKIPS = new Set(["X1"]);

function start(kind: ArbiterKind): Promise<RunningArbiter> {
  return startArbiter(kind, {
    port: PORTS[kind],
    args: ["-s", "off", "-l", "127.0.0.1"],
    settings: { dpd_enabled: "off", heartbeat_interval_min: String(LMS_HEARTBEAT) },
  });
}

/** Plays `row` against `daemon`; the outcome, or the error that stopped the row. */
async function play(row: Row, daemon: RunningArbiter): Promise<Outcome> {
  await using h = new WireHarness({
    port: daemon.port,
    socketPath: daemon.socketPath,
    cluster: `wire-${row.id}`,
    heartbeat: row.alg === DecisionAlgorithm.Lms ? LMS_HEARTBEAT : 4000,
  });
  await runRow(row, h);
  const outcome = outcomeOf(h);
  if (row.id === "X1") assert(await h.answers(), `${row.id}: ${daemon.kind} stopped answering`);
  return outcome;
}

Deno.test({
  name: "runRow() on WireHarness gives every row's votes and errors on our daemon and the C one",
  async fn(t) {
    await using ours = await start("qnet");
    await using real = haveCQnetd() ? await start("c") : undefined;
    for (const row of ROWS) {
      await t.step(row.id, async () => {
        const [mine, theirs] = await Promise.allSettled([
          play(row, ours),
          real === undefined || C_SKIPS.has(row.id) ? Promise.resolve(undefined) : play(row, real),
        ]);
        if (mine.status === "rejected") throw mine.reason;
        if (theirs.status === "rejected") {
          throw new Error(`${row.id}: corosync-qnetd differs`, { cause: theirs.reason });
        }
        assertOutcome(row, mine.value, "qnet");
        if (theirs.value === undefined) return;
        assertOutcome(row, theirs.value, "corosync-qnetd");
        assertEquals(mine.value, theirs.value, `${row.id}: qnet vs corosync-qnetd`);
      });
    }
  },
});
