import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { formatList, formatStatus, kapTieBreakerActive } from "../../core/status_format.ts";
import { TlsSupported } from "../../core/protocol/constants.ts";
import { client, debian, twoClusters, VECTORS } from "../support/mod.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
const vector = (name: string) => Deno.readTextFile(new URL(name, VECTORS));

Deno.test("formatStatus() matches the recorded tool_status outputs", async () => {
  assertEquals(text(formatStatus(twoClusters, false)), await vector("tool_status.raw.txt"));
  assertEquals(
    text(formatStatus(twoClusters, true)),
    await vector("tool_status_verbose.raw.txt"),
  );
});

Deno.test("formatList() matches the recorded tool_list outputs", async () => {
  assertEquals(
    text(formatList(twoClusters, { verbose: false })),
    await vector("tool_listl.raw.txt"),
  );
  assertEquals(
    text(formatList(twoClusters, { verbose: true })),
    await vector("tool_listlv.raw.txt"),
  );
});

Deno.test("formatList() filters by exact cluster name", () => {
  const onlyDebian = formatList(twoClusters, { verbose: false, cluster: bytes("debian") });
  assertEquals(
    text(onlyDebian),
    text(formatList({ ...twoClusters, clusters: [debian] }, {
      verbose: false,
    })),
  );
  assertEquals(formatList(twoClusters, { verbose: true, cluster: bytes("Debian") }).length, 0);
  assertEquals(formatList(twoClusters, { verbose: true, cluster: bytes("beta") }).length, 0);
  // An empty filter is no filter, as in C.
  assertEquals(
    text(formatList(twoClusters, { verbose: false, cluster: new Uint8Array() })),
    text(formatList(twoClusters, { verbose: false })),
  );
});

Deno.test("formatStatus() shows max clients and the client certificate suffix", () => {
  const snap = { ...twoClusters, maxClients: 3, tlsSupported: TlsSupported.Required };
  assertEquals(
    text(formatStatus(snap, true)),
    "QNetd address:\t\t\t127.0.0.1:25403\nTLS:\t\t\t\tRequired (client certificate required)\n" +
      "Connected clients:\t\t4\nConnected clusters:\t\t2\nMaximum allowed clients:\t3\n" +
      "Maximum send/receive size:\t32768/32768 bytes\n",
  );
  const noCert = { ...snap, tlsSupported: TlsSupported.Supported, tlsClientCertRequired: false };
  assertEquals(text(formatStatus(noCert, false)).split("\n")[1], "TLS:\t\t\t\tSupported");
});

Deno.test("formatList() prints TLS, ring id hex and raw cluster name bytes", () => {
  const name = Uint8Array.of(0x78, 0xff, 0x00, 0x41);
  const snap = {
    ...twoClusters,
    clusters: [{
      ...debian,
      name,
      clients: [client(300, 1, {
        tlsStarted: true,
        tlsPeerCertificateVerified: true,
        ringId: { nodeId: 255, seq: 0xffffffffffffffffn },
      })],
    }],
  };
  const out = formatList(snap, { verbose: true });
  // The name is printed up to its NUL, byte for byte.
  assertEquals(
    Array.from(out.subarray(0, 13)),
    Array.from(bytes('Cluster "x')).concat([0xff, 0x22, 0x3a]),
  );
  const lines = text(out).split("\n");
  assertEquals(lines[1], "    Algorithm:\t\tFifty-Fifty split");
  assertEquals(lines.includes("        Ring ID:\t\tff.ffffffffffffffff"), true);
  assertEquals(lines.includes("        TLS active:\t\tYes (client certificate verified)"), true);
  assertEquals(lines.includes("    Node ID 300:"), true);
});

Deno.test("kapTieBreakerActive() needs ffsplit and KAP on every client", () => {
  assertEquals(kapTieBreakerActive(debian), true);
  const oneOff = { ...debian, clients: [debian.clients[0]!, client(2, 2)] };
  assertEquals(kapTieBreakerActive(oneOff), false);
});
