/**
 * Daemon states that reproduce the recorded IPC outputs in tests/fixtures/vectors: `fourClusters`
 * is the state behind ipc_raw_exchanges.txt (7 TCP clients, clusters debian, alpha, beta,
 * gamma), `twoClusters` the later state behind qnetd_tool_outputs.cat-A.txt and tool_*.raw.txt
 * (4 TCP clients, debian and gamma). Fields the recordings never show (the verbose lines of
 * alpha and beta) hold plausible values.
 *
 * @module
 */
import {
  DecisionAlgorithm,
  Heuristics,
  NodeState,
  TieBreakerMode,
  TlsSupported,
  Vote,
} from "../../core/protocol/constants.ts";
import type { NodeInfo } from "../../core/protocol/types.ts";
import { VECTORS_DIR } from "./vectors.ts";
import type {
  ClientSnapshot,
  ClusterSnapshot,
  ServerSnapshot,
} from "../../core/arbiter/snapshot.ts";

/** The vectors' directory in tests/fixtures. */
export const VECTORS = VECTORS_DIR;

function nodes(...ids: (number | [number, number])[]): NodeInfo[] {
  return ids.map((id) =>
    typeof id === "number"
      ? { nodeId: id, dataCenterId: 0, nodeState: NodeState.NotSet }
      : { nodeId: id[0], dataCenterId: id[1], nodeState: NodeState.NotSet }
  );
}

/** A client with every optional fact absent; `over` sets the rest. */
export function client(nodeId: number, port: number, over: Partial<ClientSnapshot> = {}) {
  const base: ClientSnapshot = {
    address: `127.0.0.1:${port}`,
    nodeId,
    heartbeatInterval: 8000,
    configNodeList: [],
    ringId: { nodeId, seq: 1n },
    membershipNodeList: [],
    quorumNodeList: [],
    lastHeuristics: Heuristics.Undefined,
    lastMembershipHeuristics: Heuristics.Undefined,
    lastRegularHeuristics: Heuristics.Undefined,
    tlsStarted: false,
    tlsPeerCertificateVerified: false,
    lastSentVote: Vote.Undefined,
    lastSentAckNackVote: Vote.Undefined,
    keepActivePartitionTieBreaker: false,
  };
  return { ...base, ...over } as ClientSnapshot;
}

const name = (text: string) => new TextEncoder().encode(text);

export const debian: ClusterSnapshot = {
  name: name("debian"),
  decisionAlgorithm: DecisionAlgorithm.Ffsplit,
  tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
  clients: [
    client(1, 34564, {
      configVersion: 5n,
      configNodeList: nodes(1, [2, 3]),
      ringId: { nodeId: 1, seq: 4n },
      membershipNodeList: nodes(1, 2),
      lastHeuristics: Heuristics.Pass,
      lastMembershipHeuristics: Heuristics.Pass,
      lastSentVote: Vote.Ack,
      lastSentAckNackVote: Vote.Ack,
      keepActivePartitionTieBreaker: true,
    }),
    client(2, 34570, {
      heartbeatInterval: 10000,
      configNodeList: nodes(1, [2, 3]),
      ringId: { nodeId: 1, seq: 4n },
      membershipNodeList: nodes(1, 2),
      lastHeuristics: Heuristics.Fail,
      lastRegularHeuristics: Heuristics.Fail,
      lastSentVote: Vote.NoChange,
      lastSentAckNackVote: Vote.Ack,
      keepActivePartitionTieBreaker: true,
    }),
  ],
};

const alpha: ClusterSnapshot = {
  name: name("alpha"),
  decisionAlgorithm: DecisionAlgorithm.Lms,
  tieBreaker: { mode: TieBreakerMode.Highest, nodeId: 0 },
  clients: [
    client(5, 52016, {
      configNodeList: nodes(5, 6),
      membershipNodeList: nodes(5),
      lastSentVote: Vote.Ack,
      lastSentAckNackVote: Vote.Ack,
    }),
  ],
};

const beta: ClusterSnapshot = {
  name: name("beta"),
  decisionAlgorithm: DecisionAlgorithm.TwoNodeLms,
  tieBreaker: { mode: TieBreakerMode.NodeId, nodeId: 7 },
  clients: [
    client(3, 52040, { heartbeatInterval: 3000, ringId: { nodeId: 3, seq: 0xabn } }),
    client(7, 52030, {
      configVersion: 12n,
      configNodeList: nodes(3, 7),
      membershipNodeList: nodes(3, 7),
      lastSentVote: Vote.Ack,
      lastSentAckNackVote: Vote.Ack,
    }),
  ].map((c, i) => i === 0 ? { ...c, lastSentVote: Vote.AskLater } : c),
};

const gamma: ClusterSnapshot = {
  name: name("gamma"),
  decisionAlgorithm: DecisionAlgorithm.Test,
  tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
  clients: [client(9, 52054, { heartbeatInterval: 120000, ringId: { nodeId: 9, seq: 1n } })],
};

const server = {
  listenAddress: "127.0.0.1",
  listenPort: 25403,
  tlsSupported: TlsSupported.Unsupported,
  tlsClientCertRequired: true,
  maxClients: 0,
  maxClientSendSize: 32768,
  maxClientReceiveSize: 32768,
} as const;

/** The state behind ipc_raw_exchanges.txt. */
export const fourClusters: ServerSnapshot = {
  ...server,
  connectedClients: 7,
  clusters: [debian, alpha, beta, gamma],
};

/** The state behind qnetd_tool_outputs.cat-A.txt and tool_*.raw.txt. */
export const twoClusters: ServerSnapshot = {
  ...server,
  connectedClients: 4,
  clusters: [debian, gamma],
};

/** A freshly started `corosync-qnetd -s off -p <port>` with no clients. */
export function emptyServer(port: number): ServerSnapshot {
  return { ...server, listenAddress: "*", listenPort: port, connectedClients: 0, clusters: [] };
}

/** Parses ipc_raw_exchanges.txt: Python bytes literals `b'..' -> b'..'`, one pair a line. */
export async function ipcRawExchanges(): Promise<{ request: Uint8Array; reply: Uint8Array }[]> {
  const text = await Deno.readTextFile(new URL("ipc_raw_exchanges.txt", VECTORS));
  return text.split("\n").filter((line) => line.startsWith("b")).map((line) => {
    const [request, reply] = parsePyBytesPair(line);
    return { request, reply };
  });
}

function parsePyBytesPair(line: string): [Uint8Array, Uint8Array] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (out.length < 2) {
    while (line[i] !== "b") i++;
    const quote = line[i + 1]!;
    i += 2;
    const bytes: number[] = [];
    while (line[i] !== quote) {
      const ch = line[i]!;
      if (ch !== "\\") {
        bytes.push(ch.charCodeAt(0));
        i++;
        continue;
      }
      const esc = line[i + 1]!;
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, "\\": 92, "'": 39, '"': 34 };
      if (esc === "x") {
        bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        bytes.push(simple[esc] ?? esc.charCodeAt(0));
        i += 2;
      }
    }
    i++;
    out.push(Uint8Array.from(bytes));
  }
  return [out[0]!, out[1]!];
}
