/**
 * The per-message behaviour of the arbiter: error precedence, "before init" errors, TLS
 * checks, heartbeat bounds, replies, DPD, timers, vote ordering, shutdown and logs.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Priority } from "../../core/log.ts";
import {
  DecisionAlgorithm,
  Heuristics,
  MsgType,
  NodeListType,
  TlsSupported,
  Vote,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg, ServerMsg } from "../../core/protocol/types.ts";
import { Harness, HIGHEST, LOWEST, nodes, nodeTb, ring } from "../support/mod.ts";
import type { PeerCertNames } from "../../core/certs/peer_names.ts";

/** A client certificate with only a subject CN. */
function commonName(cn: string): PeerCertNames {
  return { altNames: undefined, commonName: new TextEncoder().encode(cn) };
}

const utf8 = new TextEncoder();
const NAME = utf8.encode("cluster");

function initMsg(overrides: Partial<DecodedMsg> = {}): DecodedMsg {
  return {
    type: MsgType.Init,
    nodeId: 1,
    decisionAlgorithm: DecisionAlgorithm.Ffsplit,
    heartbeatInterval: 8000,
    tieBreaker: LOWEST,
    ringId: ring(1, 4),
    supportedMessages: [],
    supportedOptions: [],
    ...overrides,
  };
}

function initReply(error: number, seqNumber: number): ServerMsg {
  return {
    type: MsgType.InitReply,
    replyErrorCode: error,
    withSupportedMessages: true,
    withSupportedOptions: true,
    seqNumber,
    serverMaximumRequestSize: 32768,
    serverMaximumReplySize: 32768,
  };
}

function without<T extends object>(msg: T, key: keyof T): T {
  const copy = { ...msg };
  delete copy[key];
  return copy;
}

function lastVoteInfoSeq(h: Harness, nodeId: number): number {
  const msg = h.node(nodeId).received.findLast((m) => m.type === MsgType.VoteInfo);
  return msg?.type === MsgType.VoteInfo ? msg.seqNumber : -1;
}

function logged(h: Harness, text: string, priority?: Priority): boolean {
  return h.recorder.lines.some((line) =>
    line.message === text && (priority === undefined || line.priority === priority)
  );
}

Deno.test({
  name: "Arbiter.received() replays the full_session vector of the real daemon",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    const r4 = ring(1, 4);
    const r8 = ring(1, 8);
    const steps: [DecodedMsg, ServerMsg[]][] = [
      [{ type: MsgType.Preinit, seqNumber: 1, clusterName: utf8.encode("debian") }, [{
        type: MsgType.PreinitReply,
        seqNumber: 1,
        tlsSupported: 0,
        tlsClientCertRequired: true,
      }]],
      [initMsg({ seqNumber: 2 }), [initReply(0, 2)]],
      [{
        type: MsgType.SetOption,
        seqNumber: 3,
        heartbeatInterval: 8000,
        keepActivePartitionTieBreaker: 1,
      }, [{
        type: MsgType.SetOptionReply,
        seqNumber: 3,
        heartbeatInterval: 8000,
        keepActivePartitionTieBreaker: 1,
      }]],
      [{
        type: MsgType.NodeList,
        seqNumber: 4,
        nodeListType: NodeListType.InitialConfig,
        configVersion: 5n,
        nodes: nodes([1, 2]),
      }, [{
        type: MsgType.NodeListReply,
        seqNumber: 4,
        nodeListType: 0,
        ringId: r4,
        vote: Vote.AskLater,
      }]],
      [{
        type: MsgType.NodeList,
        seqNumber: 5,
        nodeListType: NodeListType.Membership,
        ringId: r4,
        nodes: nodes([1]),
        heuristics: Heuristics.Pass,
      }, [
        { type: MsgType.VoteInfo, seqNumber: 1, vote: Vote.Ack, ringId: r4 },
        { type: MsgType.NodeListReply, seqNumber: 5, nodeListType: 2, ringId: r4, vote: 5 },
      ]],
      [{
        type: MsgType.NodeList,
        seqNumber: 6,
        nodeListType: NodeListType.Quorum,
        quorate: 1,
        nodes: [{ nodeId: 1, dataCenterId: 0, nodeState: 1 }, {
          nodeId: 2,
          dataCenterId: 0,
          nodeState: 2,
        }],
      }, [{ type: MsgType.NodeListReply, seqNumber: 6, nodeListType: 3, ringId: r4, vote: 5 }]],
      [{ type: MsgType.AskForVote, seqNumber: 7 }, [{
        type: MsgType.ServerError,
        seqNumber: 7,
        replyErrorCode: 14,
      }]],
      [{ type: MsgType.HeuristicsChange, seqNumber: 8, heuristics: Heuristics.Fail }, [
        { type: MsgType.VoteInfo, seqNumber: 2, vote: Vote.Ack, ringId: r4 },
        {
          type: MsgType.HeuristicsChangeReply,
          seqNumber: 8,
          vote: 5,
          ringId: r4,
          heuristics: Heuristics.Fail,
        },
      ]],
      [{
        type: MsgType.NodeList,
        seqNumber: 9,
        nodeListType: NodeListType.ChangedConfig,
        configVersion: 6n,
        nodes: nodes([1, 2, 3]),
      }, [
        { type: MsgType.VoteInfo, seqNumber: 3, vote: Vote.Nack, ringId: r4 },
        { type: MsgType.NodeListReply, seqNumber: 9, nodeListType: 1, ringId: r4, vote: 5 },
      ]],
      [{
        type: MsgType.NodeList,
        seqNumber: 10,
        nodeListType: NodeListType.Membership,
        ringId: r8,
        nodes: nodes([1, 2]),
        heuristics: Heuristics.Pass,
      }, [
        { type: MsgType.VoteInfo, seqNumber: 4, vote: Vote.Ack, ringId: r8 },
        { type: MsgType.NodeListReply, seqNumber: 10, nodeListType: 2, ringId: r8, vote: 5 },
      ]],
    ];
    for (const [msg, expected] of steps) assertEquals(h.send(1, msg, false), expected);
    const echo = new Uint8Array([0, 8, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 1]);
    const actions = h.arbiter.received(h.node(1).clientId, echo, {
      ok: true,
      msg: { type: MsgType.EchoRequest, seqNumber: 1 },
    });
    assertEquals(actions, [{
      kind: "send",
      clientId: h.node(1).clientId,
      msg: { type: MsgType.EchoReply, request: echo },
    }]);
  },
});

Deno.test({
  name: "Arbiter.received() applies the INIT error precedence of the C daemon",
  permissions: "none",
  fn() {
    const cases: [string, boolean, Record<string, unknown>, number][] = [
      ["case 19: before PREINIT, hb 10 -> 13 overrides 6", false, { heartbeatInterval: 10 }, 13],
      ["case 20: before PREINIT, algorithm 4 -> 12", false, { decisionAlgorithm: 4 }, 12],
      ["before PREINIT, all fine -> 6", false, {}, 6],
      ["case 43: no node id and hb 10 -> 13 overrides 7", true, {
        heartbeatInterval: 10,
        nodeId: -1,
      }, 13],
      ["case 40: no heartbeat -> 7", true, { heartbeatInterval: -1 }, 7],
      ["case 41: no tie-breaker -> 7", true, { tieBreaker: -1 }, 7],
      ["no algorithm -> 7", true, { decisionAlgorithm: -1 }, 7],
      ["no ring id -> 7", true, { ringId: -1 }, 7],
      ["no node id, algorithm 9 -> 12 overrides 7", true, { nodeId: -1, decisionAlgorithm: 9 }, 12],
      ["case 44: hb 999 -> 13", true, { heartbeatInterval: 999 }, 13],
      ["hb 1000 ok", true, { heartbeatInterval: 1000 }, 0],
      ["case 46: hb 120000 ok", true, { heartbeatInterval: 120000 }, 0],
      ["case 47: hb 120001 -> 13", true, { heartbeatInterval: 120001 }, 13],
    ];
    for (const [label, preinit, overrides, expected] of cases) {
      const h = new Harness();
      h.connect(1);
      if (preinit) h.send(1, { type: MsgType.Preinit, clusterName: NAME });
      let msg = initMsg();
      for (const [key, value] of Object.entries(overrides)) {
        msg = value === -1 ? without(msg, key as keyof DecodedMsg) : { ...msg, [key]: value };
      }
      const replies = h.send(1, msg);
      assertEquals(replies, [initReply(expected, h.node(1).seq)], label);
      if (expected !== 0) {
        assert(logged(h, "Algorithm returned error code. Sending error reply."), label);
      }
    }
  },
});

Deno.test({
  name: "Arbiter.received() logs each INIT failure as the C daemon",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    h.send(1, initMsg({ heartbeatInterval: 10 }));
    assert(logged(h, "Received init before preinit message. Sending error reply.", Priority.Err));
    assert(logged(h, "Client requested invalid heartbeat interval 10. Sending error reply."));
    h.send(1, { type: MsgType.Preinit, clusterName: NAME });
    h.send(1, initMsg({ decisionAlgorithm: 7 }));
    assert(logged(h, "Client requested unsupported decision algorithm 7. Sending error reply."));
    h.send(1, without(initMsg(), "nodeId"));
    assert(logged(h, "Received init message without node id set. Sending error reply."));
  },
});

Deno.test({
  name: "Arbiter.received() rejects INITs that conflict with the cluster (E1)",
  permissions: "none",
  fn() {
    const cases: [string, Partial<DecodedMsg>, number][] = [
      ["duplicate node id", { nodeId: 1 }, 17],
      ["other algorithm", { nodeId: 2, decisionAlgorithm: DecisionAlgorithm.Lms }, 16],
      ["other tie-breaker mode", { nodeId: 2, tieBreaker: HIGHEST }, 15],
      ["heartbeat 500", { nodeId: 2, heartbeatInterval: 500 }, 13],
      ["same everything", { nodeId: 2 }, 0],
    ];
    for (const [label, overrides, expected] of cases) {
      const h = new Harness();
      h.connect(1);
      h.send(1, { type: MsgType.Preinit, clusterName: NAME });
      h.send(1, initMsg());
      h.connect(2);
      h.send(2, { type: MsgType.Preinit, clusterName: NAME });
      assertEquals(h.send(2, initMsg(overrides)), [initReply(expected, 2)], label);
      const snapshot = h.arbiter.snapshot({ address: "*", port: 5403 });
      assertEquals(snapshot.clusters[0]!.clients.length, expected === 0 ? 2 : 1, label);
    }
    // Tie-breaker NODE_ID with a different node id.
    const h = new Harness();
    for (const id of [1, 2]) {
      h.connect(id);
      h.send(id, { type: MsgType.Preinit, clusterName: NAME });
    }
    h.send(1, initMsg({ tieBreaker: nodeTb(1) }));
    assertEquals(h.send(2, initMsg({ nodeId: 2, tieBreaker: nodeTb(2) })), [initReply(15, 2)]);
  },
});

Deno.test({
  name: "Arbiter.received() accepts an INIT retry and answers a second INIT with 17",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    h.send(1, { type: MsgType.Preinit, clusterName: NAME });
    assertEquals(h.send(1, initMsg({ heartbeatInterval: 1 })), [initReply(13, 2)]);
    assertEquals(h.send(1, initMsg()), [initReply(0, 3)]);
    assertEquals(h.send(1, initMsg()), [initReply(17, 4)]);
    // Still a member with INIT done: an echo is answered.
    assertEquals(h.send(1, { type: MsgType.EchoRequest })[0]?.type, MsgType.EchoReply);
    assertEquals(h.arbiter.snapshot({ address: "*", port: 1 }).clusters[0]!.clients.length, 1);
  },
});

Deno.test({
  name: "Arbiter.received() answers every message that needs INIT with error 11",
  permissions: "none",
  fn() {
    const cases: [DecodedMsg, string][] = [
      [{ type: MsgType.SetOption }, "set option message"],
      [{ type: MsgType.EchoRequest }, "echo request"],
      [{ type: MsgType.NodeList, nodeListType: 0 }, "node list message"],
      [{ type: MsgType.AskForVote }, "ask for vote message"],
      [{ type: MsgType.VoteInfoReply }, "vote info reply"],
      [{ type: MsgType.HeuristicsChange, heuristics: 1 }, "heuristics change message"],
    ];
    for (const [msg, what] of cases) {
      const h = new Harness();
      h.connect(1);
      h.send(1, { type: MsgType.Preinit, clusterName: NAME });
      assertEquals(h.send(1, msg), [{
        type: MsgType.ServerError,
        seqNumber: 2,
        replyErrorCode: 11,
      }]);
      assert(logged(h, `Received ${what} before init message. Sending error reply.`), what);
    }
  },
});

Deno.test({
  name: "Arbiter.received() answers server-only types with error 8 and its log line",
  permissions: "none",
  fn() {
    const names: [MsgType, string][] = [
      [MsgType.PreinitReply, "preinit reply"],
      [MsgType.InitReply, "init reply"],
      [MsgType.ServerError, "server error"],
      [MsgType.SetOptionReply, "set option reply"],
      [MsgType.EchoReply, "echo reply"],
      [MsgType.NodeListReply, "node list reply"],
      [MsgType.AskForVoteReply, "ask for vote reply"],
      [MsgType.VoteInfo, "vote info"],
      [MsgType.HeuristicsChangeReply, "heuristics change reply"],
    ];
    for (const [type, name] of names) {
      const h = new Harness();
      h.connect(1);
      assertEquals(h.send(1, { type }), [{
        type: MsgType.ServerError,
        seqNumber: 1,
        replyErrorCode: 8,
      }]);
      assert(logged(h, `Received ${name} message. Sending back error message`, Priority.Err));
    }
  },
});

Deno.test({
  name: "Arbiter.received() checks PREINIT, STARTTLS and node-list options",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    assertEquals(h.send(1, { type: MsgType.StartTls }), [{
      type: MsgType.ServerError,
      seqNumber: 1,
      replyErrorCode: 6,
    }]);
    assertEquals(h.send(1, { type: MsgType.Preinit }), [{
      type: MsgType.ServerError,
      seqNumber: 2,
      replyErrorCode: 7,
    }]);
    assert(logged(h, "Received preinit message without cluster name. Sending error reply."));
    assertEquals(h.send(1, { type: MsgType.Preinit, clusterName: NAME }, false), [{
      type: MsgType.PreinitReply,
      tlsSupported: 0,
      tlsClientCertRequired: true,
    }]);
    h.send(1, initMsg());
    const err7 = (seqNumber?: number) =>
      seqNumber === undefined
        ? [{ type: MsgType.ServerError, replyErrorCode: 7 }]
        : [{ type: MsgType.ServerError, seqNumber, replyErrorCode: 7 }];
    assertEquals(h.send(1, { type: MsgType.NodeList, seqNumber: 9 }), err7(9));
    assertEquals(h.send(1, { type: MsgType.NodeList, nodeListType: 0 }, false), err7());
    assertEquals(h.send(1, { type: MsgType.NodeList, seqNumber: 10, nodeListType: 2 }), err7(10));
    assertEquals(h.send(1, { type: MsgType.NodeList, seqNumber: 11, nodeListType: 3 }), err7(11));
    assertEquals(h.send(1, { type: MsgType.AskForVote }, false), err7());
    assertEquals(h.send(1, { type: MsgType.VoteInfoReply }, false), err7());
    assertEquals(h.send(1, { type: MsgType.HeuristicsChange, seqNumber: 12 }), err7(12));
    assert(
      logged(h, "Received node list message without node list type set. Sending error reply."),
    );
    assert(logged(h, "Received quorum list message without quorate set. Sending error reply."));
    // An unknown VOTE_INFO_REPLY seq is ignored silently (case 83).
    assertEquals(h.send(1, { type: MsgType.VoteInfoReply, seqNumber: 99 }), []);
  },
});

Deno.test({
  name: "Arbiter.received() shapes SET_OPTION replies and checks heartbeat bounds",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.join(1, {
      algorithm: DecisionAlgorithm.Ffsplit,
      config: [1, 2],
      tieBreaker: LOWEST,
      upTo: "init",
    });
    assertEquals(
      h.send(1, { type: MsgType.SetOption, keepActivePartitionTieBreaker: 1 }, false),
      [{ type: MsgType.SetOptionReply, keepActivePartitionTieBreaker: 1 }],
    );
    assertEquals(h.send(1, { type: MsgType.SetOption, seqNumber: 5 }, false), [{
      type: MsgType.SetOptionReply,
      seqNumber: 5,
    }]);
    assertEquals(
      h.send(1, { type: MsgType.SetOption, seqNumber: 6, heartbeatInterval: 999 }, false),
      [{
        type: MsgType.ServerError,
        seqNumber: 6,
        replyErrorCode: 13,
      }],
    );
    assertEquals(
      h.send(1, { type: MsgType.SetOption, seqNumber: 7, heartbeatInterval: 120001 }, false),
      [{
        type: MsgType.ServerError,
        seqNumber: 7,
        replyErrorCode: 13,
      }],
    );
    assertEquals(
      h.send(1, { type: MsgType.SetOption, seqNumber: 8, heartbeatInterval: 1000 }, false),
      [{
        type: MsgType.SetOptionReply,
        seqNumber: 8,
        heartbeatInterval: 1000,
      }],
    );
    const snap = h.arbiter.snapshot({ address: "*", port: 1 });
    assertEquals(snap.clusters[0]!.clients[0]!.heartbeatInterval, 1000);
    assertEquals(snap.clusters[0]!.clients[0]!.keepActivePartitionTieBreaker, true);
  },
});

Deno.test({
  name: "Arbiter checks TLS as check_tls: required, certificate, cluster name",
  permissions: "none",
  fn() {
    // -s req: error 3 before STARTTLS, connection kept.
    const req = new Harness({ tlsSupported: TlsSupported.Required });
    req.connect(1);
    req.send(1, { type: MsgType.Preinit, clusterName: NAME });
    assertEquals(req.send(1, initMsg()), [{
      type: MsgType.ServerError,
      seqNumber: 2,
      replyErrorCode: 3,
    }]);
    assert(logged(req, "TLS is required but doesn't started yet. Sending back error message"));
    assertEquals(req.send(1, { type: MsgType.StartTls }), []);
    assertEquals(req.actions.at(-1), { kind: "startTls", clientId: req.node(1).clientId });
    // Wrong name in the certificate: closed at the first message after the handshake.
    req.arbiter.tlsEstablished(req.node(1).clientId, commonName("other"));
    assertEquals(req.send(1, initMsg()), []);
    assertEquals(req.actions.at(-1), { kind: "disconnect", clientId: req.node(1).clientId });
    assert(logged(req, "Client doesn't sent certificate with valid CN. Disconnecting client"));
    assert(
      logged(
        req,
        "Client 127.0.0.1:40001 (init_received 0, cluster cluster, node_id 0) disconnect",
      ),
    );
    assertEquals(req.arbiter.clientCount, 0);

    // Matching name (case-insensitive): INIT accepted, verified once.
    const on = new Harness({ tlsSupported: TlsSupported.Supported });
    on.connect(1);
    on.send(1, { type: MsgType.Preinit, clusterName: NAME });
    on.send(1, { type: MsgType.StartTls });
    on.arbiter.tlsEstablished(on.node(1).clientId, commonName("CLUSTER"));
    assertEquals(on.send(1, initMsg()), [initReply(0, 3)]);
    assert(logged(on, "  tls peer certificate verified = 1"));
    // No certificate at all.
    on.connect(2);
    on.send(2, { type: MsgType.Preinit, clusterName: NAME });
    on.send(2, { type: MsgType.StartTls });
    on.arbiter.tlsEstablished(on.node(2).clientId, undefined);
    assertEquals(on.send(2, initMsg({ nodeId: 2 })), []);
    assert(logged(on, "Client doesn't sent valid certificate. Disconnecting client"));
    // -s on without STARTTLS: plain text accepted, no certificate check.
    on.connect(3);
    on.send(3, { type: MsgType.Preinit, clusterName: NAME });
    assertEquals(on.send(3, initMsg({ nodeId: 3 })), [initReply(0, 2)]);

    // -c off: no name check at all.
    const noCert = new Harness({
      tlsSupported: TlsSupported.Required,
      tlsClientCertRequired: false,
    });
    noCert.connect(1);
    noCert.send(1, { type: MsgType.Preinit, clusterName: NAME });
    noCert.send(1, { type: MsgType.StartTls });
    noCert.arbiter.tlsEstablished(noCert.node(1).clientId, commonName("other"));
    assertEquals(noCert.send(1, initMsg()), [initReply(0, 3)]);

    // STARTTLS on a TLS-off server: the C daemon cannot start TLS and closes.
    const off = new Harness();
    off.connect(1);
    off.send(1, { type: MsgType.Preinit, clusterName: NAME });
    assertEquals(off.send(1, { type: MsgType.StartTls }), []);
    assertEquals(off.actions.at(-1), { kind: "disconnect", clientId: off.node(1).clientId });
    assert(logged(
      off,
      "Can't start TLS. Disconnecting client. (-8187): security library: invalid arguments.",
    ));
  },
});

Deno.test({
  name: "Arbiter.received() answers decode failures with error 9 and the decoded seq",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    const id = h.node(1).clientId;
    const raw = new Uint8Array(6);
    assertEquals(
      h.arbiter.received(id, raw, {
        ok: false,
        failure: "invalidValue",
        partial: { type: 0, seqNumber: 5 },
      }),
      [{
        kind: "send",
        clientId: id,
        msg: { type: MsgType.ServerError, seqNumber: 5, replyErrorCode: 9 },
      }],
    );
    assertEquals(
      h.arbiter.received(id, raw, { ok: false, failure: "inconsistent", partial: { type: 8 } }),
      [{ kind: "send", clientId: id, msg: { type: MsgType.ServerError, replyErrorCode: 9 } }],
    );
    // The error replies' lines name their code for structured logs (text ignores it).
    const sent = { errorCode: 9 };
    assertEquals(h.recorder.lines.slice(0, 4), [
      { priority: Priority.Warning, message: "Received message with option with invalid value" },
      { priority: Priority.Info, message: "Sending back error message", fields: sent },
      { priority: Priority.Warning, message: "Received inconsistent msg (tlv len > msg size)" },
      { priority: Priority.Info, message: "Sending back error message", fields: sent },
    ]);
  },
});

Deno.test({
  name: "Arbiter.skipped() sends the skip reason without seq, and 0 for the len-0 quirk",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.connect(1);
    const id = h.node(1).clientId;
    h.arbiter.skipStarted(id, 4, 0xffff, 10);
    assertEquals(h.arbiter.skipped(id, 4), [{
      kind: "send",
      clientId: id,
      msg: { type: MsgType.ServerError, replyErrorCode: 4 },
    }]);
    h.arbiter.skipStarted(id, 5, 8, 40000);
    h.arbiter.skipped(id, 5);
    assertEquals(h.arbiter.skipped(id, 0)[0], {
      kind: "send",
      clientId: id,
      msg: { type: MsgType.ServerError, replyErrorCode: 0 },
    });
    assertEquals(h.recorder.lines.map((l) => l.message), [
      "msgio_read set skipping_msg",
      "Client sent unsupported msg type 65535. Skipping message",
      "msgio_read set skipping_msg",
      "Client wants to send too long message 40000 bytes. Skipping message",
      "msgio_read set skipping_msg",
    ]);
  },
});

Deno.test({
  name: "Arbiter DPD disconnects after coefficient x heartbeat, not fed by skipped messages",
  permissions: "none",
  fn() {
    const h = new Harness({ dpdEnabled: true });
    h.connect(1);
    const id = h.node(1).clientId;
    assertEquals(h.arbiter.msUntilNextTimer(), 180000);
    h.send(1, { type: MsgType.Preinit, clusterName: NAME });
    h.send(1, initMsg({ heartbeatInterval: 1000 }));
    assertEquals(h.arbiter.msUntilNextTimer(), 1500);
    h.clock.advance(1000);
    h.arbiter.skipStarted(id, 4, 99, 0);
    h.arbiter.skipped(id, 4);
    assertEquals(h.arbiter.expireTimers(), []);
    assertEquals(h.arbiter.msUntilNextTimer(), 500);
    h.clock.advance(499);
    assertEquals(h.arbiter.expireTimers(), []);
    h.clock.advance(1);
    assertEquals(h.arbiter.expireTimers(), [{ kind: "disconnect", clientId: id }]);
    assert(
      logged(
        h,
        "Client 127.0.0.1:40001 doesn't sent any message during 1500ms. Disconnecting",
        Priority.Warning,
      ),
    );
    assertEquals(h.arbiter.clientCount, 0);
    assertEquals(h.arbiter.msUntilNextTimer(), undefined);
    // A complete message, even an undecodable one, restarts the timer.
    h.connect(2);
    const id2 = h.node(2).clientId;
    h.clock.advance(170000);
    h.arbiter.received(id2, new Uint8Array(6), {
      ok: false,
      failure: "inconsistent",
      partial: { type: 8 },
    });
    assertEquals(h.arbiter.msUntilNextTimer(), 180000);
  },
});

Deno.test({
  name: "Arbiter.accept() refuses over max clients and when DPD cannot be armed",
  permissions: "none",
  fn() {
    const h = new Harness({ maxClients: 1 });
    assert(h.arbiter.accept("127.0.0.1:1") !== undefined);
    assertEquals(h.arbiter.accept("127.0.0.1:2"), undefined);
    assert(logged(h, "Maximum clients reached. Not accepting connection", Priority.Err));
    const big = new Harness({ dpdEnabled: true, dpdIntervalCoefficient: 151 });
    assertEquals(big.arbiter.accept("127.0.0.1:3"), undefined);
    assert(logged(big, "Can't initialize dpd timer for client 127.0.0.1:3", Priority.Err));
    const edge = new Harness({ dpdEnabled: true, dpdIntervalCoefficient: 150 });
    assert(edge.arbiter.accept("127.0.0.1:4") !== undefined);
    assertEquals(edge.arbiter.clientCount, 1);
  },
});

Deno.test({
  name: "Arbiter lms timer sends VOTE_INFO with its own seq counter from 1",
  permissions: "none",
  fn() {
    const h = new Harness();
    const o = { algorithm: DecisionAlgorithm.Lms, config: [1, 2, 3, 4], tieBreaker: LOWEST };
    for (const id of [1, 2, 3, 4]) h.join(id, { ...o, heartbeat: 4000 });
    for (const id of [1, 2, 3, 4]) {
      const members = id <= 2 ? [1, 2] : [3, 4];
      h.membership(id, members, [members[0]!, 2]);
      h.quorum(id, members);
    }
    assertEquals(h.arbiter.msUntilNextTimer(), 1000);
    h.runTimers(1000);
    const voteInfos = h.actions.filter((a) => a.kind === "send" && a.msg.type === MsgType.VoteInfo);
    assertEquals(
      voteInfos.map((a) =>
        a.kind === "send" && a.msg.type === MsgType.VoteInfo
          ? [a.clientId, a.msg.seqNumber, a.msg.vote, a.msg.ringId]
          : []
      ).sort((a, b) => Number(a[0]) - Number(b[0])),
      // (Timers due at the same instant fire in heap order, as in C; sorted here.)
      [
        [h.node(1).clientId, 1, Vote.Ack, ring(1, 2)],
        [h.node(2).clientId, 1, Vote.Ack, ring(1, 2)],
        [h.node(3).clientId, 1, Vote.Nack, ring(3, 2)],
      ],
    );
    assert(logged(
      h,
      "Algorithm for client 127.0.0.1:40001 decided to not reschedule timer and send vote with value ACK",
    ));
    assertEquals(h.arbiter.msUntilNextTimer(), undefined);
  },
});

Deno.test({
  name: "Arbiter ffsplit sends VOTE_INFO before the reply, NACK round before ACK round",
  permissions: "none",
  fn() {
    const h = new Harness();
    const o = {
      algorithm: DecisionAlgorithm.Ffsplit,
      config: [1, 2, 3, 4],
      tieBreaker: LOWEST,
      kap: 1 as const,
    };
    for (const id of [1, 2, 3, 4]) h.join(id, o);
    for (const id of [3, 4]) h.node(id).autoReply = false;
    for (const id of [1, 2, 3]) h.membership(id, id <= 2 ? [1, 2] : [3, 4], [id <= 2 ? 1 : 3, 2]);
    const start = h.actions.length;
    h.membership(4, [3, 4], [3, 2]);
    const sent = h.actions.slice(start).map((a) =>
      a.kind === "send"
        ? `${a.clientId}:${a.msg.type}${"vote" in a.msg ? `/${a.msg.vote}` : ""}`
        : a.kind
    );
    const [c3, c4] = [h.node(3).clientId, h.node(4).clientId];
    // NACK to 3 and 4 (VOTE_INFO before node 4's own reply), no ACK yet.
    assertEquals(sent, [`${c3}:14/2`, `${c4}:14/2`, `${c4}:11/5`]);
    h.send(3, { type: MsgType.VoteInfoReply, seqNumber: lastVoteInfoSeq(h, 3) }, false);
    assertEquals(h.votes(), "1=- 2=- 3=NACK 4=NACK");
    h.send(4, { type: MsgType.VoteInfoReply, seqNumber: lastVoteInfoSeq(h, 4) }, false);
    assertEquals(h.votes(), "1=ACK 2=ACK 3=NACK 4=NACK");
  },
});

Deno.test({
  name: "Arbiter.shutdown() disconnects every client and ffsplit sends no vote",
  permissions: "none",
  fn() {
    const h = new Harness();
    const o = {
      algorithm: DecisionAlgorithm.Ffsplit,
      config: [1, 2],
      tieBreaker: LOWEST,
      kap: 1 as const,
    };
    h.join(1, o);
    h.join(2, o);
    h.connect(3);
    const actions = h.arbiter.shutdown();
    assertEquals(
      actions,
      [1, 2, 3].map((n) => ({ kind: "disconnect", clientId: h.node(n).clientId })),
    );
    assertEquals(h.arbiter.clientCount, 0);
    assertEquals(h.arbiter.snapshot({ address: "*", port: 1 }).clusters, []);
    assert(
      logged(
        h,
        "Client 127.0.0.1:40003 (init_received 0, cluster (null), node_id 0) disconnect (server is going down)",
      ),
    );
  },
});

Deno.test({
  name: "Arbiter logs the New client connected block and algorithm results",
  permissions: "none",
  fn() {
    const h = new Harness();
    h.join(1, {
      algorithm: DecisionAlgorithm.Ffsplit,
      config: [1, 2],
      tieBreaker: LOWEST,
      ring: [1, 4],
    });
    const lines = h.recorder.lines.map((l) => l.message);
    const at = lines.indexOf("New client connected");
    assertEquals(lines.slice(at, at + 10).filter((l) => !l.startsWith("  pointer")), [
      "New client connected",
      "  cluster name = cluster",
      "  tls started = 0",
      "  tls peer certificate verified = 0",
      "  node_id = 1",
      "  addr_str = 127.0.0.1:40001",
      "  ring id = (1.4)",
      "  cluster dump:",
      "    client = 127.0.0.1:40001, node_id = 1",
    ]);
    assert(lines.includes("Algorithm result vote is Ask later"));
    assert(lines.includes("ffsplit: Membership for cluster cluster is now stable"));
    assert(lines.includes("    0 node_id = 1, data_center_id = 0, node_state = not set"));
    assert(h.recorder.lines.every((l) => l.priority !== Priority.Crit));
  },
});

Deno.test({
  name: "Arbiter.snapshot() shows clusters in creation order and clients by node id",
  permissions: "none",
  fn() {
    const h = new Harness({ maxClients: 9 });
    const o = { algorithm: DecisionAlgorithm.TwoNodeLms, config: [1, 2], tieBreaker: HIGHEST };
    h.join(2, o);
    h.join(1, o);
    const snap = h.arbiter.snapshot({ address: "*", port: 5403 });
    assertEquals(snap.connectedClients, 2);
    assertEquals(snap.maxClients, 9);
    assertEquals(snap.clusters.length, 1);
    assertEquals(snap.clusters[0]!.decisionAlgorithm, DecisionAlgorithm.TwoNodeLms);
    assertEquals(snap.clusters[0]!.tieBreaker, HIGHEST);
    assertEquals(snap.clusters[0]!.clients.map((c) => c.nodeId), [1, 2]);
    assertEquals(snap.clusters[0]!.clients[0]!.lastSentVote, Vote.NoChange);
    assertEquals(snap.clusters[0]!.clients[0]!.lastSentAckNackVote, Vote.Ack);
    assertEquals(snap.clusters[0]!.clients[0]!.configNodeList.map((n) => n.nodeId), [1, 2]);
    assertEquals(h.arbiter.closed(999), []);
  },
});
