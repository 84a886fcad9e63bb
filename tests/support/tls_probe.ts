// deno-lint-ignore-file no-console -- a command-line probe: stdout is its interface
/**
 * A probe run inside another network namespace (e.g. `nsenter` into a cluster node): connects to
 * an arbiter, sends PREINIT and STARTTLS as corosync-qdevice does, runs the TLS handshake
 * trusting `CAFILE` (no client certificate), and prints the SHA-256 fingerprint of the server
 * certificate it was given, as `openssl x509 -fingerprint -sha256` prints it.
 *
 *   deno run -A tests/support/tls_probe.ts HOST PORT CAFILE
 *
 * @module
 */
import { certificateFingerprint } from "../../cli/key_rotation.ts";
import { encodePreinit, encodeStartTls } from "../../core/protocol/encode_client.ts";
import { MemoryClientContext } from "../net/_tls_memory_client.ts";
import { handshake } from "./tls_wire.ts";
import { WireConn } from "./wire_conn.ts";

if (import.meta.main) {
  const [host = "", port = "", caFile = ""] = Deno.args;
  using context = new MemoryClientContext({ caFile });
  using conn = await WireConn.connect(Number(port), host);
  await conn.write(encodePreinit({ seqNumber: 1, clusterName: "tls-probe" }));
  const reply = await conn.readMessage();
  if (reply.kind !== "data") throw new Error(`no PREINIT reply: ${reply.kind}`);
  await conn.write(encodeStartTls({ seqNumber: 2 }));
  const { client, handshake: outcome } = await handshake(conn, context);
  using _client = client;
  const der = client.peerCertificateDer();
  if (der === undefined) throw new Error(`no server certificate (${outcome}: ${client.failed})`);
  console.log(`sha256=${await certificateFingerprint(der)}`);
}
