// deno-lint-ignore-file no-console -- also a command-line probe: stdout is its interface
/**
 * What server certificate an arbiter hands a new TLS client: connects, sends PREINIT and
 * STARTTLS as corosync-qdevice does, runs the TLS handshake trusting `caFile` (no client
 * certificate) and returns the SHA-256 fingerprint of the server certificate, as
 * `openssl x509 -fingerprint -sha256` prints it. Also a program, for another network namespace
 * (e.g. `nsenter` into a cluster node), printing `sha256=<fingerprint>`:
 *
 *   deno run -A tests/support/tls_probe.ts HOST PORT CAFILE
 *
 * @module
 */
import { certificateFingerprint } from "../../cli/key_rotation.ts";
import { encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import { MemoryClientContext } from "./tls/memory_client.ts";
import { handshake } from "./tls_wire.ts";
import { WireConn } from "./wire_conn.ts";

/** The fingerprint of the certificate the arbiter at `host`:`port` serves (see the module text). */
export async function probeServerCertificate(
  host: string,
  port: number,
  caFile: string,
): Promise<string> {
  using context = new MemoryClientContext({ caFile });
  using conn = await WireConn.connect(port, host);
  await conn.write(encodePreinit({ seqNumber: 1, clusterName: "tls-probe" }));
  const reply = await conn.readMessage();
  if (reply.kind !== "data") throw new Error(`no PREINIT reply: ${reply.kind}`);
  await conn.write(encodeStartTls({ seqNumber: 2 }));
  const { client, handshake: outcome } = await handshake(conn, context);
  using _client = client;
  const der = client.peerCertificateDer();
  if (der === undefined) throw new Error(`no server certificate (${outcome}: ${client.failed})`);
  return await certificateFingerprint(der);
}

if (import.meta.main) {
  const [host = "", port = "", caFile = ""] = Deno.args;
  console.log(`sha256=${await probeServerCertificate(host, Number(port), caFile)}`);
}
