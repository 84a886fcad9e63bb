/**
 * The registry of decision algorithms (qdevices/qnetd-algorithm.c); their interface is in
 * algorithm_types.ts.
 *
 * @module
 */
import { type Log, Priority } from "../log.ts";
import type { DecisionAlgorithm } from "../protocol/constants.ts";
import type { Algorithm } from "./algorithm_types.ts";
import type { Client } from "./client.ts";
import { testAlgorithm } from "./algorithm_test_mode.ts";
import { ffsplitAlgorithm } from "./ffsplit.ts";
import { twoNodeLmsAlgorithm } from "./two_node_lms.ts";
import { lmsAlgorithm } from "./lms.ts";

export type {
  AlgoOutcome,
  Algorithm,
  AlgorithmContext,
  Reason,
  TimerOutcome,
} from "./algorithm_types.ts";

/**
 * The algorithms, indexed by DECISION_ALGORITHM number (`qnetd_algorithm_register_all()`):
 * 0 test, 1 ffsplit, 2 2nodelms, 3 lms.
 */
export const ALGORITHMS: readonly Algorithm[] = Object.freeze(
  [
    testAlgorithm,
    ffsplitAlgorithm,
    twoNodeLmsAlgorithm,
    lmsAlgorithm,
  ] satisfies Record<DecisionAlgorithm, Algorithm>,
);

/**
 * The client's algorithm, or undefined after C's LOG_CRIT "<caller> unhandled decision
 * algorithm" (reachable only through a failed second INIT that stored a bad algorithm).
 * `caller` is the C function name the log line carries.
 */
export function algorithmFor(log: Log, client: Client, caller: string): Algorithm | undefined {
  const algorithm = ALGORITHMS[client.decisionAlgorithm];
  if (algorithm === undefined) log(Priority.Crit, `${caller} unhandled decision algorithm`);
  return algorithm;
}
