/**
 * The decision-history events of one client, in words an admin reads: what the arbiter
 * received, what it decided and why (the reason comes from the algorithm), and how the
 * client went. The arbiter adds the cluster, node id and address (history.ts keeps them).
 *
 * @module
 */
import {
  DECISION_ALGORITHM_NAMES,
  type DecisionAlgorithm,
  type Heuristics,
  Quorate,
  ReplyError,
  TieBreakerMode,
  Vote,
  voteName,
} from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import { nodeSetText, reasonText, tieBreakerText } from "./algo_utils.ts";
import type { Reason } from "./algorithm_types.ts";
import type { StoredTieBreaker } from "./client.ts";
import { type HistoryEventKind, HistoryEventKind as Kind } from "./history.ts";
import { heuristicsName, ringIdText } from "./log_debug.ts";

/** An event before the arbiter says whose it is. */
export interface ClientEvent {
  readonly kind: HistoryEventKind;
  readonly text: string;
  readonly vote?: string;
  readonly reason?: string;
}

function nodesText(nodes: readonly NodeInfo[]): string {
  return nodeSetText(nodes.map((node) => node.nodeId));
}

function heuristicsText(h: Heuristics): string {
  return heuristicsName(h).toLowerCase();
}

/** The lowerCamelCase key of a constant (`{ AskLater: 3 }`, 3 -> "askLater"), as --json uses. */
function key(table: Readonly<Record<string, number>>, value: number): string {
  const name = Object.keys(table).find((k) => table[k] === value);
  return name === undefined ? `unknown(${value})` : name[0]!.toLowerCase() + name.slice(1);
}

/** INIT accepted: the client joined its cluster. */
export function connectedEvent(
  address: string,
  algorithm: number,
  tieBreaker: StoredTieBreaker,
): ClientEvent {
  const name = DECISION_ALGORITHM_NAMES[algorithm as DecisionAlgorithm] ?? `${algorithm}`;
  const tb = tieBreakerText(tieBreaker.mode) +
    (tieBreaker.mode === TieBreakerMode.NodeId ? ` ${tieBreaker.nodeId >>> 0}` : "");
  return {
    kind: Kind.Connected,
    text: `connected from ${address} (algorithm ${name}, tie-breaker ${tb})`,
  };
}

/** INIT refused with `error`. */
export function refusedEvent(address: string, error: number): ClientEvent {
  return {
    kind: Kind.Connected,
    text: `init from ${address} refused: ${key(ReplyError, error)} (${error})`,
  };
}

/** The client is gone; `reason` says how. */
export function disconnectedEvent(reason: string): ClientEvent {
  return { kind: Kind.Disconnected, text: "disconnected", reason };
}

/** DPD: silent for `ms`. */
export function dpdEvent(ms: number): ClientEvent {
  return {
    kind: Kind.DpdExpired,
    text: `dead peer detection: no message for ${ms} ms`,
  };
}

export function configListEvent(
  initial: boolean,
  nodes: readonly NodeInfo[],
  version: bigint | undefined,
): ClientEvent {
  return {
    kind: Kind.ConfigList,
    text: `${initial ? "initial" : "changed"} config list: nodes ${nodesText(nodes)}${
      version === undefined ? "" : `, version ${version}`
    }`,
  };
}

export function membershipListEvent(
  ring: RingId,
  nodes: readonly NodeInfo[],
  heuristics: Heuristics,
): ClientEvent {
  return {
    kind: Kind.MembershipList,
    text: `membership list: ring ${ringIdText(ring)}, nodes ${nodesText(nodes)}, heuristics ${
      heuristicsText(heuristics)
    }`,
  };
}

export function quorumListEvent(quorate: number, nodes: readonly NodeInfo[]): ClientEvent {
  return {
    kind: Kind.QuorumList,
    text: `quorum list: ${quorate === Quorate.Quorate ? "quorate" : "inquorate"}, nodes ${
      nodesText(nodes)
    }`,
  };
}

export function heuristicsEvent(from: Heuristics, to: Heuristics): ClientEvent {
  return {
    kind: Kind.Heuristics,
    text: `heuristics change: ${heuristicsText(from)} -> ${heuristicsText(to)}`,
  };
}

/** A vote sent to the client: in a reply (`how` = "reply") or a VOTE_INFO. */
export function voteEvent(vote: Vote, how: "reply" | "vote info", reason?: Reason): ClientEvent {
  const event = { kind: Kind.Vote, text: `${voteName(vote)} (${how})`, vote: key(Vote, vote) };
  const text = reasonText(reason);
  return text === undefined ? event : { ...event, reason: text };
}

/** The algorithm answered with an error code (sent as SERVER_ERROR). */
export function algorithmErrorEvent(error: number, reason?: Reason): ClientEvent {
  const event = {
    kind: Kind.Vote,
    text: `error reply ${key(ReplyError, error)} (${error})`,
    vote: "error",
  };
  const text = reasonText(reason);
  return text === undefined ? event : { ...event, reason: text };
}

/** Votes worth an event: a decision, not "no change". */
export function isDecision(vote: Vote): boolean {
  return vote !== Vote.NoChange && vote !== Vote.Undefined;
}
