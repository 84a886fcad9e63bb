/**
 * Parsers of the corosync tools' status texts, checked on outputs captured from the real tools
 * (corosync 3.1.7, corosync-qdevice/qnetd 3.0.3) in a two-node ffsplit test cluster, before and
 * after node 2's cluster link was cut. Runs without root.
 */
import assert from "node:assert/strict";
import { Vote } from "../../core/protocol/constants.ts";
import {
  castsQdeviceVote,
  effectiveVote,
  parseQdeviceStatus,
  parseQnetdClients,
  parseQuorumStatus,
  parseVoteName,
  QuorumtoolParseError,
  WaitTimeoutError,
  waitUntil,
} from "../support/mod.ts";

// `corosync-quorumtool -s` on node 1, both nodes up and voting.
const QUORATE = "Quorum information\n" +
  "------------------\n" +
  "Date:             Sun Nov 22 00:38:03 2026\n" +
  "Quorum provider:  corosync_votequorum\n" +
  "Nodes:            2\n" +
  "Node ID:          1\n" +
  "Ring ID:          1.9\n" +
  "Quorate:          Yes\n" +
  "\n" +
  "Votequorum information\n" +
  "----------------------\n" +
  "Expected votes:   3\n" +
  "Highest expected: 3\n" +
  "Total votes:      3\n" +
  "Quorum:           2  \n" +
  "Flags:            Quorate Qdevice \n" +
  "\n" +
  "Membership information\n" +
  "----------------------\n" +
  "    Nodeid      Votes    Qdevice Name\n" +
  "         1          1    A,V,NMW n1 (local)\n" +
  "         2          1    A,V,NMW n2\n" +
  "         0          1            Qdevice\n";

// `corosync-quorumtool -s` on node 2 after its cluster link was cut (exit code 2).
const INQUORATE = "Quorum information\n" +
  "------------------\n" +
  "Date:             Sun Nov 22 00:38:06 2026\n" +
  "Quorum provider:  corosync_votequorum\n" +
  "Nodes:            1\n" +
  "Node ID:          2\n" +
  "Ring ID:          2.d\n" +
  "Quorate:          No\n" +
  "\n" +
  "Votequorum information\n" +
  "----------------------\n" +
  "Expected votes:   3\n" +
  "Highest expected: 3\n" +
  "Total votes:      1\n" +
  "Quorum:           2 Activity blocked\n" +
  "Flags:            Qdevice \n" +
  "\n" +
  "Membership information\n" +
  "----------------------\n" +
  "    Nodeid      Votes    Qdevice Name\n" +
  "         2          1   A,NV,NMW n2 (local)\n" +
  "         0          0            Qdevice (votes 1)\n";

// `corosync-qdevice-tool -s` on node 2.
const QDEVICE_TOOL = "Qdevice information\n" +
  "-------------------\n" +
  "Model:\t\t\tNet\n" +
  "Node ID:\t\t2\n" +
  "Configured node list:\n" +
  "    0\tNode ID = 1\n" +
  "    1\tNode ID = 2\n" +
  "Membership node list:\t1, 2\n" +
  "\n" +
  "Qdevice-net information\n" +
  "----------------------\n" +
  "Cluster name:\t\tqnt\n" +
  "QNetd host:\t\t10.213.2.254:16330\n" +
  "Algorithm:\t\tFifty-Fifty split\n" +
  "Tie-breaker:\t\tNode with lowest node ID\n" +
  "State:\t\t\tConnected\n";

// `corosync-qnetd-tool -l` after the split.
const QNETD_LIST_SPLIT = 'Cluster "qnt":\n' +
  "    Algorithm:\t\tFifty-Fifty split (KAP Tie-breaker)\n" +
  "    Tie-breaker:\tNode with lowest node ID\n" +
  "    Node ID 1:\n" +
  "        Client address:\t\t::ffff:10.213.2.1:56864\n" +
  "        Configured node list:\t1, 2\n" +
  "        Membership node list:\t1\n" +
  "        Vote:\t\t\tNo change (ACK)\n" +
  "    Node ID 2:\n" +
  "        Client address:\t\t::ffff:10.213.2.2:46738\n" +
  "        Configured node list:\t1, 2\n" +
  "        Membership node list:\t2\n" +
  "        Vote:\t\t\tNo change (NACK)\n";

Deno.test("parseQuorumStatus() reads a quorate node with the qdevice vote", () => {
  const status = parseQuorumStatus(QUORATE);
  assert.equal(status.nodeId, 1);
  assert.equal(status.nodes, 2);
  assert.equal(status.ringId, "1.9");
  assert.equal(status.quorate, true);
  assert.equal(status.expectedVotes, 3);
  assert.equal(status.highestExpected, 3);
  assert.equal(status.totalVotes, 3);
  assert.equal(status.quorum, 2);
  assert.deepEqual(status.flags, ["Quorate", "Qdevice"]);
  assert.deepEqual(status.members, [
    {
      nodeId: 1,
      votes: 1,
      qdevice: { alive: true, castVote: true, masterWins: false },
      name: "n1",
      local: true,
    },
    {
      nodeId: 2,
      votes: 1,
      qdevice: { alive: true, castVote: true, masterWins: false },
      name: "n2",
      local: false,
    },
  ]);
  assert.deepEqual(status.qdevice, { votes: 1, configuredVotes: undefined, name: "Qdevice" });
  assert.equal(castsQdeviceVote(status), true);
});

Deno.test("parseQuorumStatus() reads an inquorate node that does not cast the qdevice vote", () => {
  const status = parseQuorumStatus(INQUORATE);
  assert.equal(status.nodeId, 2);
  assert.equal(status.quorate, false);
  assert.equal(status.totalVotes, 1);
  assert.equal(status.quorum, 2);
  assert.deepEqual(status.flags, ["Qdevice"]);
  assert.deepEqual(status.members.map((m) => [m.nodeId, m.local, m.qdevice]), [
    [2, true, { alive: true, castVote: false, masterWins: false }],
  ]);
  assert.deepEqual(status.qdevice, { votes: 0, configuredVotes: 1, name: "Qdevice" });
  assert.equal(castsQdeviceVote(status), false);
});

Deno.test("parseQuorumStatus() reads rows without a qdevice column and NR rows", () => {
  const noColumn = QUORATE.replace(/Qdevice Name/, "Name")
    .replace(/ {4}A,V,NMW n/g, " n")
    .replace(/\n +0 +1 +Qdevice\n/, "\n");
  const status = parseQuorumStatus(noColumn);
  assert.deepEqual(status.members.map((m) => [m.nodeId, m.qdevice, m.name]), [
    [1, undefined, "n1"],
    [2, undefined, "n2"],
  ]);
  assert.equal(status.qdevice, undefined);
  const notRegistered = parseQuorumStatus(QUORATE.replace("A,V,NMW n2", "     NR n2"));
  assert.equal(notRegistered.members[1]?.qdevice, "NR");
});

Deno.test("parseQuorumStatus() rejects text that is not quorumtool output", () => {
  assert.throws(
    () => parseQuorumStatus("Cannot initialize QUORUM service\n"),
    QuorumtoolParseError,
  );
});

Deno.test("parseQdeviceStatus() reads state, node id and membership", () => {
  const status = parseQdeviceStatus(QDEVICE_TOOL);
  assert.equal(status.state, "Connected");
  assert.equal(status.nodeId, 2);
  assert.deepEqual(status.membership, [1, 2]);
  assert.equal(status.fields.get("Algorithm"), "Fifty-Fifty split");
  assert.equal(status.fields.get("Tie-breaker"), "Node with lowest node ID");
  assert.equal(status.fields.get("QNetd host"), "10.213.2.254:16330");
});

Deno.test("parseQnetdClients() reads every client with its lists and votes", () => {
  const clients = parseQnetdClients(QNETD_LIST_SPLIT);
  assert.deepEqual(clients.map((c) => [c.cluster, c.nodeId, c.configured, c.membership]), [
    ["qnt", 1, [1, 2], [1]],
    ["qnt", 2, [1, 2], [2]],
  ]);
  assert.equal(clients[0]?.address, "::ffff:10.213.2.1:56864");
  assert.deepEqual(clients.map((c) => [c.lastVote, c.lastAckNack]), [
    [Vote.NoChange, Vote.Ack],
    [Vote.NoChange, Vote.Nack],
  ]);
  assert.deepEqual(clients.map(effectiveVote), [Vote.Ack, Vote.Nack]);
});

Deno.test("effectiveVote() is undefined after ASK_LATER or WAIT_FOR_REPLY", () => {
  const text = QNETD_LIST_SPLIT.replace("No change (ACK)", "Ask later (ACK)")
    .replace("No change (NACK)", "Wait for reply");
  const clients = parseQnetdClients(text);
  assert.deepEqual(clients.map((c) => [c.lastVote, c.lastAckNack]), [
    [Vote.AskLater, Vote.Ack],
    [Vote.WaitForReply, undefined],
  ]);
  assert.deepEqual(clients.map(effectiveVote), [undefined, undefined]);
});

Deno.test("parseVoteName() inverts voteName() and refuses unknown names", () => {
  assert.equal(parseVoteName("ACK"), Vote.Ack);
  assert.equal(parseVoteName("No change"), Vote.NoChange);
  assert.equal(parseVoteName("Undefined"), undefined);
  assert.equal(parseVoteName("Maybe"), undefined);
});

Deno.test("waitUntil() returns the value once the probe is done", async () => {
  let polls = 0;
  const value = await waitUntil("a done probe", () => {
    polls++;
    return Promise.resolve({ done: true, value: 42, seen: "42" });
  }, { timeoutMs: 1000 });
  assert.equal(value, 42);
  assert.equal(polls, 1);
});

Deno.test("waitUntil() gives up at the deadline with what it saw last", async () => {
  // A zero deadline allows one poll and no pause.
  await assert.rejects(
    waitUntil("never", () => Promise.reject(new Error("still booting")), { timeoutMs: 0 }),
    (e) => e instanceof WaitTimeoutError && /never.*still booting/.test(e.message),
  );
});
