/**
 * TLS through our daemon, end to end over TCP: PREINIT in plain text, STARTTLS, the handshake
 * on the same socket (an OpenSSL client with a cluster certificate), then the protocol over
 * TLS; and the C daemon's outcomes for a wrong cluster name, a missing certificate and a
 * client that skips TLS under `-s req`.
 */
import assert from "node:assert/strict";
import {
  C_QNETD,
  CLUSTER,
  handshake,
  type HandshakeOutcome,
  makePki,
  type MemoryClient,
  MemoryClientContext,
  needCQnetd,
  type Pki,
  QNET_ARGV,
  startArbiter,
  testNeeding,
  tlsRequest,
  WireConn,
} from "../support/mod.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodeInit, encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  ReplyError,
  TieBreakerMode,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";

const INIT = encodeInit({
  seqNumber: 3,
  nodeId: 1,
  decisionAlgorithm: DecisionAlgorithm.Ffsplit,
  heartbeatInterval: 8000,
  tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
  ringId: { nodeId: 1, seq: 4n },
});

/** Lays the fixture PKI out the way `qnet certutil -i` does, for nss_db_dir. */
function certDir(pki: Pki): string {
  const dir = `${pki.dir}/qnetd`;
  Deno.mkdirSync(dir);
  Deno.copyFileSync(pki.caCert, `${dir}/qnet-ca.pem`);
  Deno.copyFileSync(pki.serverCert, `${dir}/qnetd-cert.pem`);
  Deno.copyFileSync(pki.serverKey, `${dir}/qnetd-key.pem`);
  return dir;
}

async function plainMessage(conn: WireConn): Promise<DecodedMsg> {
  const r = await conn.readMessage();
  assert.equal(r.kind, "data", "expected a message");
  const d = decodeMsg(r.kind === "data" ? r.bytes : new Uint8Array());
  assert.ok(d.ok);
  return d.msg;
}

/** PREINIT + STARTTLS in plain text, then the handshake; returns the TLS client. */
async function startTls(
  conn: WireConn,
  context: MemoryClientContext,
  cluster: string,
): Promise<{ client: MemoryClient; handshake: HandshakeOutcome }> {
  await conn.write(encodePreinit({ seqNumber: 1, clusterName: cluster }));
  const reply = await plainMessage(conn);
  assert.equal(reply.type, MsgType.PreinitReply);
  assert.equal(reply.tlsSupported, 1);
  assert.equal(reply.tlsClientCertRequired, 1);
  await conn.write(encodeStartTls({ seqNumber: 2 }));
  return await handshake(conn, context);
}

Deno.test({
  name: "qnetd over TLS: certificate checks and -s req behave as corosync-qnetd",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await using pki = await makePki();
    const dir = certDir(pki);
    using withCert = new MemoryClientContext({
      caFile: pki.caCert,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
    });
    using withoutCert = new MemoryClientContext({ caFile: pki.caCert });

    await using on = await startArbiter("qnet", {
      port: 16541,
      args: ["-s", "on", "-d"],
      settings: { nss_db_dir: dir, dpd_enabled: "off" },
    });

    await t.step("a client with a certificate for its cluster is accepted", async () => {
      using conn = await WireConn.connect(on.port);
      const { client, handshake } = await startTls(conn, withCert, CLUSTER);
      using _client = client;
      assert.equal(handshake, "done", client.failed);
      const reply = await tlsRequest(conn, client, INIT);
      assert.notEqual(reply, "eof", `the daemon closed; its log:\n${on.stderr()}`);
      assert.equal((reply as DecodedMsg).type, MsgType.InitReply);
      assert.equal((reply as DecodedMsg).replyErrorCode, ReplyError.NoError);
    });

    await t.step("the name check is case-insensitive", async () => {
      using conn = await WireConn.connect(on.port);
      const { client, handshake } = await startTls(conn, withCert, CLUSTER.toUpperCase());
      using _client = client;
      assert.equal(handshake, "done", client.failed);
      const reply = await tlsRequest(conn, client, INIT);
      assert.equal((reply as DecodedMsg).replyErrorCode, ReplyError.NoError);
    });

    await t.step("a certificate for another cluster is disconnected at INIT", async () => {
      using conn = await WireConn.connect(on.port);
      const { client, handshake } = await startTls(conn, withCert, "othercluster");
      using _client = client;
      assert.equal(handshake, "done", client.failed);
      assert.equal(await tlsRequest(conn, client, INIT), "eof");
      await on.assertServing();
    });

    await t.step("a client without a certificate gets the certificate-required alert", async () => {
      using conn = await WireConn.connect(on.port);
      const { client, handshake } = await startTls(conn, withoutCert, CLUSTER);
      using _client = client;
      // TLS 1.3: the client is done after its Finished; the server checks the (empty)
      // certificate then and answers the first data with an alert.
      const outcome = handshake === "done" ? await tlsRequest(conn, client, INIT) : handshake;
      assert.equal(outcome, "alert", `${handshake}: ${client.failed}`);
      assert.match(client.failed, /alert certificate required/);
      assert.ok(await conn.expectEof(), "the daemon kept the connection open");
      await on.assertServing();
    });

    await t.step("with -s on, a client that never starts TLS is accepted", async () => {
      using conn = await WireConn.connect(on.port);
      await conn.write(encodePreinit({ seqNumber: 1, clusterName: CLUSTER }));
      await plainMessage(conn);
      await conn.write(INIT);
      const reply = await plainMessage(conn);
      assert.equal(reply.type, MsgType.InitReply);
      assert.equal(reply.replyErrorCode, ReplyError.NoError);
    });

    await using req = await startArbiter("qnet", {
      port: 16542,
      args: ["-s", "req"],
      settings: { nss_db_dir: dir, dpd_enabled: "off" },
    });
    await t.step("with -s req, INIT before TLS gets error 3 (TLS required)", async () => {
      using conn = await WireConn.connect(req.port);
      await conn.write(encodePreinit({ seqNumber: 1, clusterName: CLUSTER }));
      const preinit = await plainMessage(conn);
      assert.equal(preinit.tlsSupported, 2);
      await conn.write(INIT);
      const reply = await plainMessage(conn);
      assert.equal(reply.type, MsgType.ServerError);
      assert.equal(reply.replyErrorCode, ReplyError.TlsRequired);
      assert.equal(reply.seqNumber, 3);
    });
  },
});

/** Runs a daemon to its exit with TLS on and an empty key directory; returns code and stderr. */
async function startWithoutKeys(cmd: string[], dir: string, port: number) {
  const out = await new Deno.Command(cmd[0]!, {
    args: [
      ...cmd.slice(1),
      "-f",
      "-p",
      String(port),
      "-s",
      "on",
      "-S",
      `nss_db_dir=${dir}/keys,lock_file=${dir}/qnetd.pid,local_socket_file=${dir}/qnetd.sock`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const OURS = QNET_ARGV;

Deno.test("qnetd -s on without key material fails at start, exit 1, one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-nokeys-" });
  try {
    await Deno.mkdir(`${dir}/keys`);
    const ours = await startWithoutKeys([...OURS, "qnetd"], dir, 16390);
    assert.match(ours.stderr, /Can't load TLS key material: .*qnetd-cert\.pem/);
    assert.doesNotMatch(ours.stderr, /^\s+at /m, "a stack trace");
    assert.equal(ours.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testNeeding(needCQnetd(), {
  name: "qnetd -s on without key material exits as corosync-qnetd does",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nokeys-c-" });
    try {
      await Deno.mkdir(`${dir}/keys`);
      const ours = await startWithoutKeys([...OURS, "qnetd"], dir, 16390);
      const c = await startWithoutKeys([C_QNETD], dir, 16391);
      assert.match(c.stderr, /NSS error/);
      assert.equal(ours.code, c.code);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
