/**
 * Renders the corosync.conf of a test cluster: knet transport on the namespace addresses, short
 * totem and qdevice timeouts so that transitions take seconds, votequorum with a `net` quorum
 * device (TLS off unless asked) pointing at the arbiter. Pure: no I/O.
 *
 * @module
 */

/** Values of `quorum.device.net.algorithm`. */
export type QdeviceAlgorithm = "ffsplit" | "lms" | "2nodelms" | "test";

/** Values of `quorum.device.net.tie_breaker`: a mode or a node id. */
export type TieBreakerSetting = "lowest" | "highest" | number;

/** One `nodelist.node` entry. */
export interface ConfNode {
  nodeId: number;
  name: string;
  address: string;
}

/** Everything that varies between test clusters. */
export interface CorosyncConfSpec {
  clusterName: string;
  nodes: readonly ConfNode[];
  arbiterHost: string;
  arbiterPort: number;
  algorithm: QdeviceAlgorithm;
  tieBreaker: TieBreakerSetting;
  /** `quorum.device.net.tls`; omitted means `off`. */
  tls?: "on" | "off" | "required";
  /** `quorum.device.votes`; omitted means the qdevice default for the algorithm. */
  qdeviceVotes?: number;
  /** `totem.token` in ms. */
  tokenMs: number;
  /** `quorum.device.timeout` in ms: qdevice heartbeat is 0.8 of it (qnetd needs >= 1000). */
  qdeviceTimeoutMs: number;
  /** `quorum.device.sync_timeout` in ms. */
  qdeviceSyncTimeoutMs: number;
}

/** Sensible fast defaults for the timing fields of {@linkcode CorosyncConfSpec}. */
export const FAST_TIMINGS = {
  tokenMs: 1000,
  qdeviceTimeoutMs: 2000,
  qdeviceSyncTimeoutMs: 3000,
} as const;

/** A `name { ... }` block; nested blocks are indented once more by their parent. */
function section(name: string, lines: readonly string[]): string[] {
  return [`${name} {`, ...lines.map((l) => `\t${l}`), "}"];
}

function entries(pairs: ReadonlyArray<readonly [string, string | number]>): string[] {
  return pairs.map(([key, value]) => `${key}: ${value}`);
}

/** Returns the text of corosync.conf for `spec` (the same on every node). */
export function renderCorosyncConf(spec: CorosyncConfSpec): string {
  const totem = entries([
    ["version", 2],
    ["cluster_name", spec.clusterName],
    ["transport", "knet"],
    ["token", spec.tokenMs],
    ["crypto_cipher", "aes256"],
    ["crypto_hash", "sha256"],
  ]);
  const nodes = spec.nodes.flatMap((n) =>
    section("node", entries([["nodeid", n.nodeId], ["name", n.name], ["ring0_addr", n.address]]))
  );
  const net = entries([
    ["host", spec.arbiterHost],
    ["port", spec.arbiterPort],
    ["algorithm", spec.algorithm],
    ["tie_breaker", spec.tieBreaker],
    ["tls", spec.tls ?? "off"],
  ]);
  const device = [
    ...(spec.qdeviceVotes === undefined ? [] : entries([["votes", spec.qdeviceVotes]])),
    ...entries([
      ["model", "net"],
      ["timeout", spec.qdeviceTimeoutMs],
      ["sync_timeout", spec.qdeviceSyncTimeoutMs],
    ]),
    ...section("net", net),
  ];
  const quorum = [...entries([["provider", "corosync_votequorum"]]), ...section("device", device)];
  const logging = entries([
    ["to_logfile", "yes"],
    ["logfile", "/var/log/corosync/corosync.log"],
    ["to_stderr", "no"],
    ["to_syslog", "no"],
    ["timestamp", "on"],
  ]);
  return [
    ...section("totem", totem),
    ...section("nodelist", nodes),
    ...section("quorum", quorum),
    ...section("logging", logging),
    "",
  ].join("\n");
}
