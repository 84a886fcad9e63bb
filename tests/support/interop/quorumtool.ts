/**
 * Parses the output of `corosync-quorumtool -s` (or `-s -p`) into a typed quorum status.
 * The format follows display_quorum_data() and display_nodes_data() in corosync's
 * tools/corosync-quorumtool.c (3.1). Pure: text in, object out.
 *
 * @module
 */

/** The per-node qdevice flags column: `A`/`NA`, `V`/`NV`, `MW`/`NMW`. */
export interface QdeviceFlags {
  alive: boolean;
  castVote: boolean;
  masterWins: boolean;
}

/** One row of the membership table. */
export interface QuorumMember {
  nodeId: number;
  votes: number;
  /** `undefined` when no qdevice column is shown, `"NR"` when the node registered none. */
  qdevice: QdeviceFlags | "NR" | undefined;
  name: string;
  local: boolean;
}

/** The quorum device row (node id 0). */
export interface QdeviceRow {
  /** Votes shown: the device's votes while the local node casts them, else 0. */
  votes: number;
  /** The configured votes, shown as "(votes N)" only while the local node does not cast them. */
  configuredVotes: number | undefined;
  name: string;
}

/** What `corosync-quorumtool -s` reports on one node. */
export interface QuorumStatus {
  nodes: number;
  nodeId: number;
  ringId: string;
  quorate: boolean;
  expectedVotes: number;
  highestExpected: number;
  totalVotes: number;
  quorum: number;
  /** Words of the "Flags:" line, e.g. `Quorate`, `Qdevice`. */
  flags: string[];
  members: QuorumMember[];
  qdevice: QdeviceRow | undefined;
}

/** Output that does not look like `corosync-quorumtool -s`. */
export class QuorumtoolParseError extends SyntaxError {
  constructor(message: string, readonly text: string) {
    super(message);
    this.name = "QuorumtoolParseError";
  }
}

function field(fields: ReadonlyMap<string, string>, key: string, text: string): string {
  const value = fields.get(key);
  if (value === undefined) throw new QuorumtoolParseError(`Cannot find "${key}:"`, text);
  return value;
}

function int(value: string, key: string, text: string): number {
  const match = /^\d+/.exec(value);
  if (match === null) {
    throw new QuorumtoolParseError(`Cannot parse "${key}" value "${value}"`, text);
  }
  return Number(match[0]);
}

function parseFlags(column: string): QdeviceFlags | "NR" {
  if (column === "NR") return "NR";
  const [alive, vote, master] = column.split(",");
  return { alive: alive === "A", castVote: vote === "V", masterWins: master === "MW" };
}

const MEMBER_ROW = /^\s*(\d+)\s+(\d+)\s+(?:((?:N?A,N?V,N?MW)|NR)\s+)?(.*?)( \(local\))?$/;
const QDEVICE_ROW = /^\s*0\s+(\d+)\s+(.*?)(?: \(votes (\d+)\))?$/;

/** Parses `corosync-quorumtool -s` output with decimal node ids. */
export function parseQuorumStatus(text: string): QuorumStatus {
  const fields = new Map<string, string>();
  const members: QuorumMember[] = [];
  let qdevice: QdeviceRow | undefined;
  let inTable = false;
  for (const line of text.split("\n")) {
    if (/^\s*Nodeid\s+/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) {
      const kv = /^([A-Za-z ]+):\s*(.*)$/.exec(line);
      if (kv?.[1] !== undefined && kv[2] !== undefined) fields.set(kv[1], kv[2].trim());
      continue;
    }
    if (line.trim() === "") continue;
    const q = QDEVICE_ROW.exec(line);
    if (q?.[1] !== undefined && q[2] !== undefined) {
      qdevice = {
        votes: Number(q[1]),
        configuredVotes: q[3] === undefined ? undefined : Number(q[3]),
        name: q[2].trim(),
      };
      continue;
    }
    const m = MEMBER_ROW.exec(line);
    if (m?.[1] === undefined || m[2] === undefined || m[4] === undefined) {
      throw new QuorumtoolParseError(`Cannot parse membership row "${line}"`, text);
    }
    members.push({
      nodeId: Number(m[1]),
      votes: Number(m[2]),
      qdevice: m[3] === undefined ? undefined : parseFlags(m[3]),
      name: m[4],
      local: m[5] !== undefined,
    });
  }
  const num = (key: string) => int(field(fields, key, text), key, text);
  return {
    nodes: num("Nodes"),
    nodeId: num("Node ID"),
    ringId: field(fields, "Ring ID", text),
    quorate: field(fields, "Quorate", text) === "Yes",
    expectedVotes: num("Expected votes"),
    highestExpected: num("Highest expected"),
    totalVotes: num("Total votes"),
    quorum: num("Quorum"),
    flags: field(fields, "Flags", text).split(/\s+/).filter((w) => w !== ""),
    members,
    qdevice,
  };
}

/**
 * Whether the local node currently casts the quorum device's vote: its own row has the `V`
 * flag and the qdevice row counts the votes (quorumtool shows 0 otherwise).
 */
export function castsQdeviceVote(status: QuorumStatus): boolean {
  const self = status.members.find((m) => m.local);
  const flags = self?.qdevice;
  return typeof flags === "object" && flags.castVote && (status.qdevice?.votes ?? 0) > 0;
}

/** One line for wait messages, e.g. `node 1: quorate votes 3/3 qdevice-vote members 1,2`. */
export function summarizeQuorum(status: QuorumStatus): string {
  return `node ${status.nodeId}: ${status.quorate ? "quorate" : "NOT quorate"} votes ` +
    `${status.totalVotes}/${status.expectedVotes} ` +
    `${castsQdeviceVote(status) ? "qdevice-vote" : "no-qdevice-vote"} ` +
    `members ${status.members.map((m) => m.nodeId).join(",")}`;
}
