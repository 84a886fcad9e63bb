/**
 * Certificate rotation without a restart (cli/key_rotation.ts), end to end over TCP: a client
 * connected over TLS with the first keys stays connected through a SIGHUP that brings a new
 * CA and a new server certificate, and keeps its vote; a new client then sees the new server
 * certificate and must hold a certificate of the new CA. A partial or missing key directory
 * keeps the old keys and says why in the log.
 */
import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { pemBlocks } from "../../core/certs/pem.ts";
import { certificateNames } from "../../core/certs/peer_names.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import {
  encodeConfigNodeList,
  encodeEchoRequest,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
  encodeStartTls,
  encodeVoteInfoReply,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeState,
  ReplyError,
  TieBreakerMode,
  Vote,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg } from "../../core/protocol/types.ts";
import {
  CLUSTER,
  describeNames,
  freePort,
  handshake,
  type HandshakeOutcome,
  makePki,
  type MemoryClient,
  MemoryClientContext,
  type Pki,
  QNET_ARGV,
  type RunningArbiter,
  startArbiter,
  tlsRequest,
  WireConn,
} from "../support/mod.ts";

/** Port ranges of the two tests (in the nssops range); see {@link startOnFreePort}. */
const PORTS = { pem: [42100, 42149], nss: [42150, 42199] } as const;

/**
 * Starts our daemon with TLS on `keyDir` on a free port of `range` (tests/support/ports.ts);
 * another program's client socket may still take it before the daemon binds (the range lies in
 * the kernel's ephemeral range): then another port is tried, up to 8 times.
 */
async function startOnFreePort(
  range: readonly [number, number],
  keyDir: string,
): Promise<RunningArbiter> {
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return await startArbiter("qnet", {
        port: freePort(...range),
        args: ["-s", "on", "-d"],
        settings: { nss_db_dir: keyDir, dpd_enabled: "off" },
      });
    } catch (error) {
      const taken = /Address already in use|Local Network address is in use/;
      if (!taken.test(String(error))) throw error;
    }
  }
  throw new Error(`no port of ${range.join("-")} stayed free long enough`);
}
const RING = { nodeId: 1, seq: 4n };

/** The PEM files of `pki` laid out as `qnet certutil -i` (before NSS databases) wrote them. */
function installKeys(pki: Pki, dir: string): void {
  Deno.copyFileSync(pki.caCert, `${dir}/qnet-ca.pem`);
  Deno.copyFileSync(pki.serverCert, `${dir}/qnetd-cert.pem`);
  Deno.copyFileSync(pki.serverKey, `${dir}/qnetd-key.pem`);
}

function derOf(pemFile: string): Uint8Array {
  return pemBlocks(Deno.readTextFileSync(pemFile))[0]!.der;
}

/** Waits (bounded) until the daemon's log matches `pattern` `count` times. */
async function waitForLog(arbiter: RunningArbiter, pattern: RegExp, count: number): Promise<void> {
  const global = new RegExp(pattern.source, "g");
  for (let i = 0; i < 300; i++) {
    if ((arbiter.stderr().match(global)?.length ?? 0) >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no ${count}x ${pattern} in the daemon's log:\n${arbiter.stderr()}`);
}

/** A client's TLS session: its socket, its TLS state and what it has read. */
interface Session {
  readonly conn: WireConn;
  readonly client: MemoryClient;
  readonly outcome: HandshakeOutcome;
  plain: Uint8Array;
  vote: Vote | undefined;
}

/** PREINIT and STARTTLS in plain text, then the TLS handshake. */
async function connectNode(port: number, context: MemoryClientContext): Promise<Session> {
  const conn = await WireConn.connect(port);
  await conn.write(encodePreinit({ seqNumber: 1, clusterName: CLUSTER }));
  const r = await conn.readMessage();
  assert.equal(r.kind, "data");
  await conn.write(encodeStartTls({ seqNumber: 2 }));
  const { client, handshake: outcome } = await handshake(conn, context);
  return { conn, client, outcome, plain: new Uint8Array(0), vote: undefined };
}

/**
 * Sends `msg` over the session's TLS and reads messages until one of `type`, answering
 * VOTE_INFO as corosync-qdevice does; the plaintext left over stays for the next call.
 */
async function request(session: Session, msg: Uint8Array, type: number): Promise<DecodedMsg> {
  session.client.send(msg);
  await session.conn.write(session.client.takeOutgoing());
  // Bounded: 64 KiB of TLS bytes (read one at a time, each read bounded by WireConn) or 20 s.
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 65_536 && Date.now() < deadline; i++) {
    const plain = session.plain;
    if (plain.length >= 6) {
      const len = new DataView(plain.buffer, plain.byteOffset).getUint32(2);
      if (plain.length >= 6 + len) {
        const d = decodeMsg(plain.subarray(0, 6 + len));
        session.plain = plain.slice(6 + len);
        assert.ok(d.ok);
        if (d.msg.type === type) return d.msg;
        assert.equal(d.msg.type, MsgType.VoteInfo, `unexpected message ${d.msg.type}`);
        session.vote = d.msg.vote;
        session.client.send(encodeVoteInfoReply({ seqNumber: d.msg.seqNumber ?? 0 }));
        await session.conn.write(session.client.takeOutgoing());
        continue;
      }
    }
    const r = await session.conn.readExactly(1);
    assert.equal(r.kind, "data", `the daemon closed or went silent: ${session.client.failed}`);
    const got = session.client.receive(r.kind === "data" ? r.bytes : new Uint8Array());
    assert.equal(session.client.failed, "");
    session.plain = concatBytes([session.plain, got]);
  }
  return assert.fail(`no message ${type} over TLS`);
}

async function untilVote(session: Session): Promise<Vote> {
  let seq = 10;
  const init = await request(
    session,
    encodeInit({
      seqNumber: seq++,
      nodeId: 1,
      decisionAlgorithm: DecisionAlgorithm.Ffsplit,
      heartbeatInterval: 8000,
      tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
      ringId: RING,
    }),
    MsgType.InitReply,
  );
  assert.equal(init.replyErrorCode, ReplyError.NoError);
  await request(
    session,
    encodeSetOption({ seqNumber: seq++, heartbeatInterval: 8000 }),
    MsgType.SetOptionReply,
  );
  const nodes = [{ nodeId: 1, dataCenterId: 0, nodeState: NodeState.NotSet }];
  await request(
    session,
    encodeConfigNodeList({ seqNumber: seq++, initial: true, nodes }),
    MsgType.NodeListReply,
  );
  const membership = await request(
    session,
    encodeMembershipNodeList({ seqNumber: seq++, ringId: RING, nodeIds: [1] }),
    MsgType.NodeListReply,
  );
  const keep = (vote: Vote | undefined) => {
    if (vote !== undefined && vote !== Vote.NoChange) session.vote = vote;
  };
  keep(membership.vote);
  const quorum = await request(
    session,
    encodeQuorumNodeList({
      seqNumber: seq++,
      quorate: 1,
      nodes: [{ nodeId: 1, dataCenterId: 0, nodeState: NodeState.Member }],
    }),
    MsgType.NodeListReply,
  );
  keep(quorum.vote);
  // A vote still being decided arrives as VOTE_INFO; echoes give it the time to come.
  for (let i = 0; i < 20 && session.vote !== Vote.Ack; i++) {
    await request(session, encodeEchoRequest({ seqNumber: seq++ }), MsgType.EchoReply);
    await new Promise((r) => setTimeout(r, 100));
  }
  return session.vote!;
}

async function toolList(socket: string): Promise<string> {
  const out = await new Deno.Command(QNET_ARGV[0]!, {
    args: [...QNET_ARGV.slice(1), "qnetd-tool", "-l", "-p", socket],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name:
    "SIGHUP rotates the TLS keys: connected clients stay with their votes, new ones see the new certificate",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await using oldPki = await makePki();
    await using newPki = await makePki();
    const keyDir = `${oldPki.dir}/qnetd`;
    Deno.mkdirSync(keyDir);
    installKeys(oldPki, keyDir);
    using oldClient = new MemoryClientContext({
      caFile: oldPki.caCert,
      certFile: oldPki.clientCert,
      keyFile: oldPki.clientKey,
    });
    using newClient = new MemoryClientContext({
      caFile: newPki.caCert,
      certFile: newPki.clientCert,
      keyFile: newPki.clientKey,
    });
    // Trusts the new server certificate but holds a client certificate of the old CA.
    using staleCert = new MemoryClientContext({
      caFile: newPki.caCert,
      certFile: oldPki.clientCert,
      keyFile: oldPki.clientKey,
    });

    await using daemon = await startOnFreePort(PORTS.pem, keyDir);
    const port = daemon.port;

    const first = await connectNode(port, oldClient);
    using _first = first.client;
    using _firstConn = first.conn;
    assert.equal(first.outcome, "done", first.client.failed);
    assert.deepEqual(first.client.peerCertificateDer(), derOf(oldPki.serverCert));
    assert.equal(await untilVote(first), Vote.Ack);

    await t.step("a partial key directory keeps the old keys and logs why", async () => {
      // The new certificate has arrived, its key not yet.
      Deno.copyFileSync(newPki.serverCert, `${keyDir}/qnetd-cert.pem`);
      daemon.process.kill("SIGHUP");
      await waitForLog(
        daemon,
        /Can't reload TLS key material, keeping the old keys: .*qnetd-key\.pem.*mismatch/,
        1,
      );
      const probe = await connectNode(port, oldClient);
      using _c = probe.client;
      using _conn = probe.conn;
      assert.equal(probe.outcome, "done", probe.client.failed);
      assert.deepEqual(probe.client.peerCertificateDer(), derOf(oldPki.serverCert));
    });

    await t.step("a missing key directory keeps the old keys and logs why", async () => {
      for (const f of ["qnetd-cert.pem", "qnetd-key.pem", "qnet-ca.pem"]) {
        Deno.removeSync(`${keyDir}/${f}`);
      }
      daemon.process.kill("SIGHUP");
      await waitForLog(
        daemon,
        /Can't reload TLS key material, keeping the old keys: .*holds no key material/,
        1,
      );
      const probe = await connectNode(port, oldClient);
      using _c = probe.client;
      using _conn = probe.conn;
      assert.equal(probe.outcome, "done", probe.client.failed);
    });

    await t.step("new keys: the connected client stays up and keeps its vote", async () => {
      installKeys(newPki, keyDir);
      daemon.process.kill("SIGHUP");
      await waitForLog(daemon, /TLS key material reloaded: server certificate "Qnetd Server"/, 1);
      const echo = await request(first, encodeEchoRequest({ seqNumber: 50 }), MsgType.EchoReply);
      assert.equal(echo.seqNumber, 50);
      const list = await toolList(daemon.socketPath);
      assert.match(list, new RegExp(`Cluster "${CLUSTER}":`));
      assert.equal(list.match(/Vote:.*\(ACK\)$/gm)?.length, 1, list);
    });

    await t.step("a new client sees the new certificate and needs one of the new CA", async () => {
      const fresh = await connectNode(port, newClient);
      using _c = fresh.client;
      using _conn = fresh.conn;
      assert.equal(fresh.outcome, "done", fresh.client.failed);
      assert.deepEqual(fresh.client.peerCertificateDer(), derOf(newPki.serverCert));
      assert.notDeepEqual(derOf(newPki.serverCert), derOf(oldPki.serverCert));
      const reply = await tlsRequest(
        fresh.conn,
        fresh.client,
        encodeInit({
          seqNumber: 3,
          nodeId: 2,
          decisionAlgorithm: DecisionAlgorithm.Ffsplit,
          heartbeatInterval: 8000,
          tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
          ringId: RING,
        }),
      );
      assert.ok(reply !== "eof" && reply !== "alert", fresh.client.failed);
      assert.equal(reply.type, MsgType.InitReply);

      // Trusting only the old CA, a client refuses the new server certificate.
      const old = await connectNode(port, oldClient);
      using _old = old.client;
      using _oldConn = old.conn;
      assert.notEqual(old.outcome, "done");
      assert.match(old.client.failed, /certificate verify failed/);

      // A client certificate of the old CA is no longer trusted by the server.
      const stale = await connectNode(port, staleCert);
      using _stale = stale.client;
      using _staleConn = stale.conn;
      const outcome = stale.outcome === "done"
        ? await tlsRequest(stale.conn, stale.client, encodeEchoRequest({ seqNumber: 4 }))
        : stale.outcome;
      assert.ok(
        outcome === "failed" || outcome === "closed" || outcome === "alert" || outcome === "eof",
        `the server accepted a client certificate of the old CA: ${JSON.stringify(outcome)}`,
      );
      await daemon.assertServing();
    });

    await t.step("the first session still answers after the others", async () => {
      const echo = await request(first, encodeEchoRequest({ seqNumber: 60 }), MsgType.EchoReply);
      assert.equal(echo.seqNumber, 60);
    });
  },
});

/** Runs a program; fails the test with its stderr when it fails. */
async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** `qnet certutil` with `args`. */
function certutil(args: string[]): Promise<void> {
  return run(QNET_ARGV[0]!, [...QNET_ARGV.slice(1), "certutil", ...args]);
}

/**
 * A QNet CA as an NSS database (`qnet certutil -i -d DIR/db`) and a client certificate for
 * CLUSTER it signed (`-s`), as PEM for the test client, with its key.
 */
async function nssCa(dir: string) {
  const db = `${dir}/db`;
  await certutil(["-i", "-d", db]);
  await run("openssl", [
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${dir}/client.key`,
    "-subj",
    `/CN=${CLUSTER}`,
    "-outform",
    "DER",
    "-out",
    `${dir}/client.crq`,
  ]);
  await certutil(["-s", "-c", `${dir}/client.crq`, "-n", CLUSTER, "-d", db]);
  await run("openssl", [
    "x509",
    "-inform",
    "DER",
    "-in",
    `${db}/cluster-${CLUSTER}.crt`,
    "-out",
    `${dir}/client.pem`,
  ]);
  return {
    db,
    client: {
      caFile: `${db}/qnetd-cacert.crt`,
      certFile: `${dir}/client.pem`,
      keyFile: `${dir}/client.key`,
    },
  };
}

/** The server certificate a TLS client gets from `port` (DER). */
async function servedCertificate(port: number, context: MemoryClientContext): Promise<Uint8Array> {
  const session = await connectNode(port, context);
  using _c = session.client;
  using _conn = session.conn;
  assert.equal(session.outcome, "done", session.client.failed);
  return session.client.peerCertificateDer()!;
}

Deno.test({
  name: "SIGHUP rotates keys kept in an NSS database: a half-copied database keeps the old keys",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-nssops-rotate-nss-" });
    try {
      await Deno.mkdir(`${dir}/old`);
      await Deno.mkdir(`${dir}/new`);
      const [oldCa, newCa] = await Promise.all([nssCa(`${dir}/old`), nssCa(`${dir}/new`)]);
      const keyDir = `${dir}/keys`;
      await Deno.mkdir(keyDir);
      for (const f of ["cert9.db", "key4.db", "pkcs11.txt"]) {
        await Deno.copyFile(`${oldCa.db}/${f}`, `${keyDir}/${f}`);
      }
      using oldClient = new MemoryClientContext(oldCa.client);
      using newClient = new MemoryClientContext(newCa.client);

      await using daemon = await startOnFreePort(PORTS.nss, keyDir);
      const port = daemon.port;
      const first = await connectNode(port, oldClient);
      using _first = first.client;
      using _firstConn = first.conn;
      assert.equal(first.outcome, "done", first.client.failed);
      assert.equal(await untilVote(first), Vote.Ack);
      const oldServerCert = first.client.peerCertificateDer()!;

      // The new cert9.db has arrived, its key4.db not yet: the key of "QNetd Cert" is missing.
      await Deno.copyFile(`${newCa.db}/cert9.db`, `${keyDir}/cert9.db`);
      daemon.process.kill("SIGHUP");
      await waitForLog(
        daemon,
        /Can't reload TLS key material, keeping the old keys: .*key4\.db/,
        1,
      );
      assert.deepEqual(await servedCertificate(port, oldClient), oldServerCert);

      await Deno.copyFile(`${newCa.db}/key4.db`, `${keyDir}/key4.db`);
      daemon.process.kill("SIGHUP");
      await waitForLog(
        daemon,
        /TLS key material reloaded: .*cert9\.db \(nickname 'QNetd Cert'\)/,
        1,
      );
      const newServerCert = await servedCertificate(port, newClient);
      assert.notDeepEqual(newServerCert, oldServerCert);
      assert.deepEqual(describeNames(certificateNames(newServerCert)), ["cn:Qnetd Server"]);
      // The session from before the rotation is still up, with its vote.
      await request(first, encodeEchoRequest({ seqNumber: 70 }), MsgType.EchoReply);
      const list = await toolList(daemon.socketPath);
      assert.equal(list.match(/Vote:.*\(ACK\)$/gm)?.length, 1, list);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
