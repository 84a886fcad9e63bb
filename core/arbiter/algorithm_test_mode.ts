/**
 * Decision algorithm 0, "test": every membership list and every ask gets ACK, so several
 * partitions can be quorate at once. Port of qdevices/qnetd-algo-test.c.
 *
 * (Named algorithm_test_mode.ts because `deno test` would run a file called algo_test.ts.)
 *
 * @module
 */
import { Priority } from "../log.ts";
import { Vote } from "../protocol/constants.ts";
import type { Algorithm } from "./algorithm_types.ts";
import { NO_ERROR, voted } from "./algo_utils.ts";
import { clusterNameText } from "./log_debug.ts";

const TEST_REASON = "test algorithm: every partition gets ACK";

/** The test algorithm (`qnetd_algo_test`). */
export const testAlgorithm: Algorithm = {
  init(ctx, client) {
    ctx.log(
      Priority.Warning,
      `algo-test: Client ${client.addrStr} (cluster = '${
        clusterNameText(client.clusterName)
      }', node_id = ${
        client.nodeId >>> 0
      }) initiated test algorithm. It's not recommended to use test algorithm because it can create multiple quorate partitions!`,
    );
    ctx.log(Priority.Info, "algo-test: client_init");
    if (client.cluster?.size === 1) {
      ctx.log(Priority.Info, "algo-test: Initializing cluster->algorithm data");
    }
    return NO_ERROR;
  },
  configNodeListReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: node_list_received");
    return voted(Vote.NoChange);
  },
  membershipNodeListReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: membership_node_list_received");
    return voted(Vote.Ack, TEST_REASON);
  },
  quorumNodeListReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: quorum_node_list_received");
    return voted(Vote.NoChange);
  },
  clientDisconnect(ctx, client) {
    ctx.log(Priority.Info, "algo-test: client_disconnect");
    if (client.cluster?.size === 1) {
      ctx.log(Priority.Info, "algo-test: Finalizing cluster->algorithm data");
    }
  },
  askForVoteReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: ask_for_vote_received");
    return voted(Vote.Ack, TEST_REASON);
  },
  voteInfoReplyReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: vote_info_reply_received");
    return NO_ERROR;
  },
  heuristicsChangeReceived(ctx) {
    ctx.log(Priority.Info, "algo-test: heuristics_change_received");
    return voted(Vote.NoChange);
  },
  timerCallback() {
    return { error: NO_ERROR, reschedule: false, sendVote: false, vote: Vote.WaitForReply };
  },
};
