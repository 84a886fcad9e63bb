/**
 * The arbiter core: per-client state machine, clusters, timers and the four decision
 * algorithms, as a pure event API (`Arbiter`) for the network edge.
 *
 * @module
 */
export { type Action, Arbiter } from "./arbiter.ts";
export { type ArbiterSettings, defaultArbiterSettings } from "./settings.ts";
export type { AlgoOutcome, Algorithm, AlgorithmContext, TimerOutcome } from "./algorithm.ts";
export { ALGORITHMS } from "./algorithm.ts";
export { certNameMatches } from "./cert_name.ts";
export { TIMER_LIST_MAX_INTERVAL, TimerEntry, TimerList } from "./timer_list.ts";
export type { ClientSnapshot, ClusterSnapshot, ServerSnapshot } from "./snapshot.ts";
