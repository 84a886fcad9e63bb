/**
 * Protocol state fuzzing against the running daemons: a random but fixed sequence of many
 * clients (several clusters, all four algorithms, dpd off) from the pure Arbiter fuzzer is
 * replayed over TCP to our daemon and, when installed, to the real corosync-qnetd 3.0.3. Each
 * client must receive the very bytes the pure Arbiter produced, so both daemons answer
 * identically. The sequences avoid the ffsplit "member without config list" case that crashes
 * the C daemon; a separate test drives exactly that case against ours.
 *
 * Ports 17500-17599.
 */
import assert from "node:assert/strict";
import {
  type ArbiterKind,
  bytesToHex,
  Choices,
  needKind,
  Rng,
  runScenario,
  type ScenarioResult,
  startArbiter,
  testNeeding,
  WireConn,
} from "../support/mod.ts";
import {
  encodeConfigNodeList,
  encodeEchoRequest,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
} from "../../core/protocol/encode_client.ts";
import { DecisionAlgorithm, MsgType, TieBreakerMode } from "../../core/protocol/constants.ts";

const PORTS: Record<ArbiterKind, number> = { qnet: 17500, c: 17550 };
/**
 * Fixed sequences, picked among the first 3000 seeds for the most VOTE_INFO traffic and so
 * that together they cover the four algorithms (checked below, in case the generator drifts).
 */
const SEEDS = [103, 1260, 2775, 2368, 2915];
const MAX_STEPS = 200;

function scenarios(): ScenarioResult[] {
  const all = SEEDS.map((seed) =>
    runScenario(new Choices(new Rng(seed)), { maxSteps: MAX_STEPS, liveSafe: true })
  );
  const algorithms = new Set(all.flatMap((s) => s.algorithms));
  assert.equal(algorithms.size, 4, "the live sequences no longer cover every algorithm");
  const voteInfos = all.reduce((n, s) => n + s.stats.voteInfos, 0);
  assert.ok(voteInfos >= 60, `the live sequences carry only ${voteInfos} VOTE_INFOs`);
  return all;
}
/** Any single wait for a reply; a daemon that answers less fails instead of hanging. */
const READ_MS = 5000;

/** Connected clients as `status` reports them on the local socket. */
async function connectedClients(socketPath: string): Promise<number> {
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  try {
    await conn.write(new TextEncoder().encode("status\n"));
    let text = "";
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 64; i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const match = /Connected clients:\t+(\d+)/.exec(text);
    if (match === null) {
      throw new Error(`Cannot read the client count from ${JSON.stringify(text)}`);
    }
    return Number(match[1]);
  } finally {
    conn.close();
  }
}

/** Waits (bounded) until the daemon has processed the closes: its client count is `n`. */
async function waitForClients(socketPath: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await connectedClients(socketPath) === n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`The daemon did not reach ${n} connected clients`);
}

/** Plays `scenario` against a daemon; returns what each client received, as hex. */
async function replay(
  scenario: ScenarioResult,
  port: number,
  socketPath: string,
): Promise<Map<number, string[]>> {
  const conns = new Map<number, WireConn>();
  const got = new Map<number, string[]>();
  try {
    for (const [i, step] of scenario.steps.entries()) {
      if (step.kind === "advance") throw new Error("live sequences have no clock steps");
      if (step.kind === "connect") {
        conns.set(step.client, await WireConn.connect(port));
        got.set(step.client, []);
      } else if (step.kind === "send") {
        await conns.get(step.client)!.write(step.bytes);
      } else {
        conns.get(step.client)![Symbol.dispose]();
        conns.delete(step.client);
        await waitForClients(socketPath, conns.size);
      }
      for (const expected of scenario.stepReplies[i]!) {
        const r = await conns.get(expected.client)!.readMessage(READ_MS);
        const hex = r.kind === "data" ? bytesToHex(r.bytes) : `<${r.kind}>`;
        got.get(expected.client)!.push(hex);
        if (r.kind !== "data") throw new Error(`step ${i}: client ${expected.client} got ${hex}`);
      }
    }
  } catch (error) {
    // Keep what arrived so far for the comparison; the error is reported there.
    got.set(-1, [String(error)]);
  } finally {
    for (const conn of conns.values()) conn[Symbol.dispose]();
  }
  return got;
}

function expectedHex(scenario: ScenarioResult): Map<number, string[]> {
  return new Map(
    [...scenario.received].map(([client, msgs]) => [client, msgs.map((m) => bytesToHex(m))]),
  );
}

function daemonArgs(
  scenario: ScenarioResult,
): { args: string[]; settings: Record<string, string> } {
  return {
    args: ["-s", "off", "-c", scenario.flags.clientCertRequired ? "on" : "off"],
    settings: {
      dpd_enabled: "off",
      keep_active_partition_tie_breaker: scenario.flags.keepActivePartitionTieBreaker
        ? "on"
        : "off",
    },
  };
}

for (const kind of ["qnet", "c"] as const) {
  testNeeding(needKind(kind), {
    name: `${kind} daemon answers fuzzed multi-client sequences byte for byte like the Arbiter`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      for (const [n, scenario] of scenarios().entries()) {
        const seed = SEEDS[n];
        await using daemon = await startArbiter(kind, {
          port: PORTS[kind] + n,
          ...daemonArgs(scenario),
        });
        const got = await replay(scenario, daemon.port, daemon.socketPath);
        const expected = expectedHex(scenario);
        assert.deepEqual(
          got,
          expected,
          `seed ${seed}: replies differ from the Arbiter's\n${daemon.stderr().slice(-2000)}`,
        );
        // SIGTERM is a clean shutdown for both daemons: exit 0, not a death by signal.
        const status = await daemon.stop();
        assert.deepEqual([status.code, status.signal], [0, null], `${kind} crashed`);
      }
    },
  });
}

const CRASH_CLUSTER = "crash";

function join(nodeId: number): Uint8Array[] {
  return [
    encodePreinit({ seqNumber: 1, clusterName: CRASH_CLUSTER }),
    encodeInit({
      seqNumber: 2,
      nodeId,
      decisionAlgorithm: DecisionAlgorithm.Ffsplit,
      heartbeatInterval: 8000,
      tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
      ringId: { nodeId: 1, seq: 4n },
    }),
  ];
}

/** Sends `bytes` and returns the reply, skipping the VOTE_INFOs that ffsplit sends first. */
async function exchange(conn: WireConn, bytes: Uint8Array): Promise<Uint8Array> {
  await conn.write(bytes);
  for (let i = 0; i < 8; i++) {
    const r = await conn.readMessage(READ_MS);
    assert.equal(r.kind, "data", "no reply");
    if (r.kind === "data" && r.bytes[1] !== MsgType.VoteInfo) return r.bytes;
  }
  throw new Error("Only VOTE_INFOs came back");
}

Deno.test({
  name: "qnet daemon keeps answering where corosync-qnetd 3.0.3 crashes (ffsplit, no config list)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using daemon = await startArbiter("qnet", {
      port: PORTS.qnet + 10,
      args: ["-s", "off"],
      settings: { dpd_enabled: "off" },
    });
    // vectors/qnetd_ffsplit_segfault_log.txt: two members, no lists, one leaves.
    using a = await WireConn.connect(daemon.port);
    for (const msg of join(1)) await exchange(a, msg);
    {
      using b = await WireConn.connect(daemon.port);
      for (const msg of join(2)) await exchange(b, msg);
    }
    await waitForClients(daemon.socketPath, 1);
    const echo = encodeEchoRequest({ seqNumber: 3 });
    const reply = await exchange(a, echo);
    assert.equal(reply[1], MsgType.EchoReply);
    // The variant of reference §2.2: the leaver has lists, the one left has only INIT.
    using c = await WireConn.connect(daemon.port);
    for (const msg of join(3)) await exchange(c, msg);
    await exchange(
      c,
      encodeConfigNodeList({ seqNumber: 3, initial: true, nodes: [1, 3].map(nodeInfo) }),
    );
    const membershipReply = await exchange(
      c,
      encodeMembershipNodeList({ seqNumber: 4, ringId: { nodeId: 1, seq: 4n }, nodeIds: [1, 3] }),
    );
    assert.equal(membershipReply[1], MsgType.NodeListReply);
    c[Symbol.dispose]();
    await waitForClients(daemon.socketPath, 1);
    assert.equal((await exchange(a, encodeEchoRequest({ seqNumber: 4 })))[1], MsgType.EchoReply);
    // And a new client is still served.
    using d = await WireConn.connect(daemon.port);
    const preinitReply = await exchange(d, join(4)[0]!);
    assert.equal(preinitReply[1], MsgType.PreinitReply);
    const status = await daemon.stop();
    assert.equal(status.code, 0, "our daemon did not exit cleanly after the crash case");
  },
});

function nodeInfo(nodeId: number) {
  return { nodeId, dataCenterId: 0, nodeState: 0 as const };
}
