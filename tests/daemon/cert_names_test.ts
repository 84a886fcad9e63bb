/**
 * Client-certificate names are matched exactly as corosync-qnetd 3.0.3 matches them (NSS
 * 3.87's `CERT_VerifyCertName()`): both daemons run side by side with `-s req` on the same CA,
 * each certificate is tried against both with the same cluster name, and ours must give the C
 * daemon's outcome. The expected outcome written next to each case (read from NSS's source) is
 * checked against the C daemon too, so a case cannot silently stop testing what it names.
 *
 * Cases: two CNs (the last wins), a NUL in a CN, a SAN without a DNS name (CN fallback), a SAN
 * DNS name hiding the CN, case, UTF-8, Latin-1 (T61String) and BMPString names, RFC 1485
 * escaping (quoted SAN names, backslashes), wildcards, long SANs, IP-literal cluster names.
 *
 * Not comparable: a SAN that NSS cannot decode (an unknown SanEntry tag). NSS then falls
 * back to the CN; OpenSSL refuses such a certificate outright ("invalid certificate"), on the
 * client side of this test as in our daemon's handshake, so ours fails closed there.
 */
import assert from "node:assert/strict";
import { encodeInit, encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { DecisionAlgorithm, MsgType, TieBreakerMode } from "../../core/protocol/constants.ts";
import {
  type ArbiterKind,
  cnOf,
  DerTag,
  handshake,
  issueCertificate,
  type IssuedCertificate,
  MemoryClientContext,
  type NameRdns,
  needAll,
  needCQnetd,
  needProgram,
  type RunningArbiter,
  type SanEntry,
  startArbiterOnFreePort,
  testNeeding,
  tlsRequest,
  WireConn,
  writeCertificatePem,
} from "../support/mod.ts";

/** This file's ports. */
const PORT_RANGE = [46000, 46099] as const;

/** One certificate, the cluster names tried with it, and NSS's outcome for each. */
interface Case {
  readonly what: string;
  readonly subject: NameRdns;
  readonly san?: readonly SanEntry[];
  /** Cluster name → accepted? */
  readonly tries: ReadonlyArray<readonly [string | Uint8Array, boolean]>;
}

const LONG = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.example`;

const CASES: readonly Case[] = [
  {
    what: "two CNs in two RDNs: the last one",
    subject: [[cnOf("clusterX")], [cnOf("clusterA")]],
    tries: [["clusterA", true], ["clusterX", false]],
  },
  {
    what: "two CNs in one RDN: the last one",
    subject: [[cnOf("clusterX"), cnOf("clusterA")]],
    tries: [["clusterA", true], ["clusterX", false]],
  },
  {
    what: "a NUL in the CN",
    subject: [[cnOf("clusterA\0.evil")]],
    tries: [["clusterA", false], ["clusterA\\00.evil", true]],
  },
  {
    what: "a NUL in a SAN DNS name",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "clusterA\0.evil"]],
    tries: [["clusterA", false]],
  },
  {
    what: "a SAN with only an e-mail address: the CN",
    subject: [[cnOf("clusterA")]],
    san: [[DerTag.Rfc822Name, "admin@example.org"]],
    tries: [["clusterA", true]],
  },
  {
    what: "a SAN DNS name hides the CN",
    subject: [[cnOf("clusterA")]],
    san: [[DerTag.Rfc822Name, "admin@example.org"], [DerTag.DnsName, "clusterB"]],
    tries: [["clusterA", false], ["clusterB", true]],
  },
  {
    what: "an empty SAN: the CN",
    subject: [[cnOf("clusterA")]],
    san: [],
    tries: [["clusterA", true]],
  },
  {
    what: "case is ASCII-only",
    subject: [[cnOf("ClusterÜ")]],
    tries: [["clusterÜ", true], ["CLUSTERÜ", true], ["clusterü", false]],
  },
  {
    what: "a UTF-8 SAN name",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "grüße"]],
    tries: [["grüße", true], ["GRüßE", true]],
  },
  {
    what: "a Latin-1 (T61String) CN is compared in UTF-8",
    subject: [[cnOf(Uint8Array.of(0x67, 0x72, 0xfc, 0xdf, 0x65), DerTag.T61String)]],
    tries: [["grüße", true], [Uint8Array.of(0x67, 0x72, 0xfc, 0xdf, 0x65), false]],
  },
  {
    what: "a BMPString CN",
    subject: [[cnOf(Uint8Array.of(0, 0x67, 0, 0x72, 0, 0xfc, 0, 0xdf, 0, 0x65), DerTag.BmpString)]],
    tries: [["grüße", true]],
  },
  {
    what: "a SAN name with a comma is quoted, the same CN is not",
    subject: [[cnOf("a,b")]],
    san: [[DerTag.DnsName, "c,d"]],
    tries: [["c,d", false], ['"c,d"', true], ["a,b", false]],
  },
  {
    what: "a SAN name with a backslash or a newline is escaped, not quoted",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "a\\b"], [DerTag.DnsName, "c\nd"], [DerTag.DnsName, "e\n f"]],
    tries: [["a\\\\b", true], ['"a\\\\b"', false], ["c\\0ad", true], ['"e\\0a f"', true]],
  },
  {
    what: "SAN names with an edge space or a # are quoted; a # in the CN is not",
    subject: [[cnOf("#x")]],
    san: [[DerTag.DnsName, " lead"], [DerTag.DnsName, "tr#ail"]],
    tries: [[" lead", false], ['" lead"', true], ['"tr#ail"', true], ["#x", false]],
  },
  {
    what: "an empty CN matches nothing",
    subject: [[cnOf("")]],
    tries: [["x", false]],
  },
  {
    what: "a CN with a comma",
    subject: [[cnOf("a,b")]],
    tries: [["a,b", true]],
  },
  {
    what: "a backslash in the CN is escaped",
    subject: [[cnOf("a\\b")]],
    tries: [["a\\b", false], ["a\\\\b", true]],
  },
  {
    what: "a wildcard CN",
    subject: [[cnOf("*.example.com")]],
    tries: [["node.example.com", true], ["a.b.example.com", false], ["example.com", false]],
  },
  {
    what: "a wildcard SAN name",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "no*.example.com"]],
    tries: [["node.example.com", true], ["xn--node.example.com", false], ["x.example.com", false]],
  },
  {
    what: "a long SAN name (past NSS's 128-byte buffer)",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "short"], [DerTag.DnsName, LONG]],
    tries: [[LONG, true], [LONG.toUpperCase(), true], [LONG.slice(0, -1), false]],
  },
  {
    what: "an IP cluster name skips SAN DNS names and falls back to the CN",
    subject: [[cnOf("10.0.0.1")]],
    san: [[DerTag.DnsName, "other"]],
    tries: [["10.0.0.1", true], ["other", true]],
  },
  {
    what: "an IP cluster name (10.1 is 10.0.0.1) matches a SAN address, then not the CN",
    subject: [[cnOf("10.0.0.2")]],
    san: [[DerTag.IpAddress, Uint8Array.of(10, 0, 0, 1)]],
    tries: [["10.0.0.1", true], ["10.1", true], ["10.0.0.2", false]],
  },
  {
    what: "IPv6 cluster names and IPv4-mapped addresses",
    subject: [[cnOf("x")]],
    san: [
      [DerTag.IpAddress, Uint8Array.of(...Array(15).fill(0), 1)],
      [DerTag.IpAddress, Uint8Array.of(192, 0, 2, 7)],
    ],
    tries: [["::1", true], ["0::0:1", true], ["::ffff:192.0.2.7", true], ["::2", false]],
  },
  {
    what: "a numeric cluster name is an IPv4 address for NSS",
    subject: [[cnOf("x")]],
    san: [[DerTag.DnsName, "123"], [DerTag.IpAddress, Uint8Array.of(0, 0, 0, 123)]],
    tries: [["123", true], ["0.0.0.123", true]],
  },
];

const INIT = encodeInit({
  seqNumber: 3,
  nodeId: 1,
  decisionAlgorithm: DecisionAlgorithm.Ffsplit,
  heartbeatInterval: 8000,
  tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
  ringId: { nodeId: 1, seq: 4n },
});

/** PREINIT with `cluster`, STARTTLS, the handshake, INIT: "accepted" or what happened. */
async function session(
  daemon: RunningArbiter,
  ctx: MemoryClientContext,
  cluster: string | Uint8Array,
): Promise<string> {
  using conn = await WireConn.connect(daemon.port);
  await conn.write(encodePreinit({ seqNumber: 1, clusterName: cluster }));
  const r = await conn.readMessage();
  assert.equal(r.kind, "data", `no PREINIT reply from the ${daemon.kind} daemon`);
  const preinit = decodeMsg(r.kind === "data" ? r.bytes : new Uint8Array());
  assert.ok(preinit.ok && preinit.msg.type === MsgType.PreinitReply);
  await conn.write(encodeStartTls({ seqNumber: 2 }));
  const { client, handshake: outcome } = await handshake(conn, ctx);
  using _client = client;
  if (outcome !== "done") return `handshake ${outcome}: ${client.failed}`;
  const reply = await tlsRequest(conn, client, INIT);
  if (typeof reply === "string") return reply;
  return reply.type === MsgType.InitReply ? "accepted" : `type ${reply.type}`;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const r = await new Deno.Command(cmd, { args, cwd, stdout: "null", stderr: "piped" }).output();
  assert.ok(r.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** Our key directory (nss_db_dir) and the C daemon's NSS database, for the same CA. */
async function serverFiles(
  dir: string,
  ca: IssuedCertificate,
): Promise<{ ours: string; nss: string }> {
  const server = await issueCertificate({ subject: [[cnOf("Qnetd Server")]] }, ca);
  const ours = `${dir}/ours`;
  const nss = `${dir}/nssdb`;
  await Deno.mkdir(ours);
  await Deno.mkdir(nss);
  const caFiles = await writeCertificatePem(ca, `${dir}/ca`);
  const serverFiles = await writeCertificatePem(server, `${dir}/server`);
  await Deno.copyFile(caFiles.certFile, `${ours}/qnet-ca.pem`);
  await Deno.copyFile(serverFiles.certFile, `${ours}/qnetd-cert.pem`);
  await Deno.copyFile(serverFiles.keyFile, `${ours}/qnetd-key.pem`);
  await run("certutil", ["-N", "-d", `sql:${nss}`, "--empty-password"], dir);
  await run("certutil", [
    "-A",
    "-d",
    `sql:${nss}`,
    "-n",
    "QNet CA",
    "-t",
    "CT,,",
    "-a",
    "-i",
    caFiles.certFile,
  ], dir);
  await run("openssl", [
    "pkcs12",
    "-export",
    "-name",
    "QNetd Cert",
    "-inkey",
    serverFiles.keyFile,
    "-in",
    serverFiles.certFile,
    "-passout",
    "pass:",
    "-out",
    "server.p12",
  ], dir);
  await run("pk12util", ["-i", "server.p12", "-d", `sql:${nss}`, "-W", ""], dir);
  return { ours, nss };
}

function label(name: string | Uint8Array): string {
  return JSON.stringify(typeof name === "string" ? name : [...name]);
}

testNeeding(
  needAll(
    needCQnetd(),
    needProgram("certutil", "libnss3-tools"),
    needProgram("pk12util", "libnss3-tools"),
    needProgram("openssl", "openssl"),
  ),
  {
    name: "certificate names: matched as corosync-qnetd (NSS CERT_VerifyCertName) matches them",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "qnet-certnames-" });
      try {
        const ca = await issueCertificate({ subject: [[cnOf("QNet CA")]], ca: true });
        const { ours, nss } = await serverFiles(dir, ca);
        const settings = { "dpd_enabled": "off" };
        await using qnet = await startArbiterOnFreePort("qnet", PORT_RANGE, {
          args: ["-s", "req"],
          settings: { ...settings, nss_db_dir: ours },
        });
        await using c = await startArbiterOnFreePort("c", PORT_RANGE, {
          args: ["-s", "req"],
          settings: { ...settings, nss_db_dir: nss },
        });
        const daemons: Record<ArbiterKind, RunningArbiter> = { qnet, c };
        for (const [n, each] of CASES.entries()) {
          await t.step(each.what, async () => {
            const cert = await issueCertificate(
              { subject: each.subject, ...(each.san === undefined ? {} : { san: each.san }) },
              ca,
            );
            using ctx = new MemoryClientContext({
              caFile: `${dir}/ca.pem`,
              ...(await writeCertificatePem(cert, `${dir}/client-${n}`)),
            });
            for (const [cluster, accepted] of each.tries) {
              const outcome = {
                c: await session(daemons.c, ctx, cluster),
                qnet: await session(daemons.qnet, ctx, cluster),
              };
              const expected = accepted ? "accepted" : "eof";
              assert.equal(outcome.c, expected, `C daemon, cluster ${label(cluster)}`);
              assert.equal(outcome.qnet, outcome.c, `ours, cluster ${label(cluster)}`);
            }
          });
        }
        await qnet.assertServing();
        await c.assertServing();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  },
);
