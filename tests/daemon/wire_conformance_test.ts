/**
 * The conformance table (tests/support/conformance_rows.ts) over TCP: every row is played by
 * one client harness against our daemon, then against the real corosync-qnetd 3.0.3 (a
 * missing C daemon is a named skip, a failure under CI). Both must give the row's votes and
 * errors, and the same ones. One daemon of each kind serves every row; each row uses its own
 * cluster name.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DecisionAlgorithm } from "../../core/protocol/constants.ts";
import {
  type ArbiterKind,
  assertOutcome,
  needCQnetd,
  type Outcome,
  outcomeOf,
  type Row,
  ROWS,
  type RunningArbiter,
  runRow,
  startArbiter,
  testNeeding,
  WireHarness,
} from "../support/mod.ts";

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

/** Our outcome of every row, for the comparison with the C daemon that follows. */
const ours = new Map<string, Outcome>();

Deno.test({
  name: "runRow() on WireHarness gives every row's votes and errors on our daemon",
  async fn(t) {
    await using daemon = await start("qnet");
    for (const row of ROWS) {
      await t.step(row.id, async () => {
        const outcome = await play(row, daemon);
        assertOutcome(row, outcome, "qnet");
        ours.set(row.id, outcome);
      });
    }
  },
});

testNeeding(needCQnetd(), {
  name: "runRow() on WireHarness gives the same votes and errors on corosync-qnetd",
  async fn(t) {
    await using real = await start("c");
    await using daemon = ours.size === ROWS.length ? undefined : await start("qnet");
    for (const row of ROWS.filter((r) => !C_SKIPS.has(r.id))) {
      await t.step(row.id, async () => {
        const [mine, theirs] = await Promise.all([
          ours.get(row.id) ?? play(row, daemon!),
          play(row, real).catch((cause) => {
            throw new Error(`${row.id}: corosync-qnetd differs`, { cause });
          }),
        ]);
        assertOutcome(row, theirs, "corosync-qnetd");
        assertEquals(mine, theirs, `${row.id}: qnet vs corosync-qnetd`);
      });
    }
  },
});
