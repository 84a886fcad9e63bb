/**
 * The decision-algorithm interface and the services the arbiter gives an algorithm
 * (`struct qnetd_algorithm`). Types only: the algorithms import them from here, and the
 * registry (algorithm.ts) imports the algorithms, so no file imports itself back.
 *
 * @module
 */
import type { Log } from "../log.ts";
import type { Heuristics, Quorate, Vote } from "../protocol/constants.ts";
import type { NodeInfo, RingId } from "../protocol/types.ts";
import type { Client } from "./client.ts";

/**
 * An algorithm's answer: an error code (`ReplyError.NoError` = none) and, without error,
 * the vote to reply.
 */
/**
 * Why a decision went as it did, in words an admin understands (for the decision history):
 * the text, or a function that makes it, so that a reason costs nothing while no history
 * is kept. Read it with `reasonText()` (algo_utils.ts).
 */
export type Reason = string | (() => string);

export interface AlgoOutcome {
  readonly error: number;
  readonly vote: Vote;
  /** Why (for the decision history). */
  readonly reason?: Reason;
}

/** What `timer_callback` returns through its out-parameters. */
export interface TimerOutcome {
  readonly error: number;
  readonly reschedule: boolean;
  readonly sendVote: boolean;
  readonly vote: Vote;
  /** Why, for the decision history. */
  readonly reason?: Reason;
}

/** What an algorithm may do besides computing its answer. */
export interface AlgorithmContext {
  readonly log: Log;
  /**
   * `qnetd_client_send_vote_info()`: records the vote on the client and queues VOTE_INFO;
   * `reason` goes to the decision history.
   */
  sendVoteInfo(client: Client, seq: number, ring: RingId, vote: Vote, reason?: Reason): void;
  /** `qnetd_client_algo_timer_schedule()`: (re)starts the client's timer at heartbeat/4. */
  scheduleAlgoTimer(client: Client): void;
  /** `qnetd_client_algo_timer_abort()`. */
  abortAlgoTimer(client: Client): void;
}

/**
 * One decision algorithm (`struct qnetd_algorithm`). The handlers call it *before* they
 * store the message's data on the client, so `client.last*` still hold the previous values.
 */
export interface Algorithm {
  /** Called once the client joined its cluster after a successful INIT. */
  init(ctx: AlgorithmContext, client: Client): number;
  configNodeListReceived(
    ctx: AlgorithmContext,
    client: Client,
    seq: number,
    configVersion: bigint | undefined,
    nodes: readonly NodeInfo[],
    initial: boolean,
  ): AlgoOutcome;
  membershipNodeListReceived(
    ctx: AlgorithmContext,
    client: Client,
    seq: number,
    ring: RingId,
    nodes: readonly NodeInfo[],
    heuristics: Heuristics,
  ): AlgoOutcome;
  quorumNodeListReceived(
    ctx: AlgorithmContext,
    client: Client,
    seq: number,
    quorate: Quorate,
    nodes: readonly NodeInfo[],
  ): AlgoOutcome;
  /** The client is still in its cluster during the call and removed right after. */
  clientDisconnect(ctx: AlgorithmContext, client: Client, serverGoingDown: boolean): void;
  askForVoteReceived(ctx: AlgorithmContext, client: Client, seq: number): AlgoOutcome;
  voteInfoReplyReceived(ctx: AlgorithmContext, client: Client, seq: number): number;
  heuristicsChangeReceived(
    ctx: AlgorithmContext,
    client: Client,
    seq: number,
    heuristics: Heuristics,
  ): AlgoOutcome;
  timerCallback(ctx: AlgorithmContext, client: Client): TimerOutcome;
}
