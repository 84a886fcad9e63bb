/**
 * The daemon's traffic counters, owned by the network edge that sees the traffic: connections
 * accepted and closed (by reason), messages received and sent (by type), error replies (by
 * code) and TLS handshakes (by result and failure reason). The server counts at the points
 * where it already handles each event; the cmap runtime keys and the metrics exposition read
 * the counters when asked. Counting is an array increment: nothing is allocated per message.
 *
 * @module
 */
import { MSG_TYPE_MAX, MsgType, ReplyError, Vote } from "../core/protocol/constants.ts";
import type { ServerMsg } from "../core/protocol/types.ts";
import { CLOSE_REASON_NAMES, CloseReason, type TrafficCounters } from "../core/metrics/traffic.ts";

/** Index of the "skipped" slot of {@link EdgeCounters.rx}: unknown type or too long. */
export const SKIPPED_MSG_SLOT = MSG_TYPE_MAX + 1;

/** Highest reply error code the protocol defines. */
const REPLY_ERROR_MAX = ReplyError.InvalidMembershipNodeList;

/** The counters of one daemon. Read them, never write them outside net/. */
export class EdgeCounters implements TrafficCounters {
  /** TCP connections accepted (refused ones included: they count as closed too). */
  accepted = 0;
  /** Closed connections by {@link CloseReason}. */
  readonly closed: number[] = new Array(Object.keys(CLOSE_REASON_NAMES).length).fill(0);
  /**
   * Messages received by type number (0..MSG_TYPE_MAX, counted from the header as the C
   * message handlers see them), plus skipped ones at {@link SKIPPED_MSG_SLOT}.
   */
  readonly rx: number[] = new Array(SKIPPED_MSG_SLOT + 1).fill(0);
  /** Messages queued to clients, by type number. */
  readonly tx: number[] = new Array(MSG_TYPE_MAX + 1).fill(0);
  /** Replies carrying a non-zero error code (SERVER_ERROR, INIT_REPLY), by code. */
  readonly errorReplies: number[] = new Array(REPLY_ERROR_MAX + 1).fill(0);
  /** Error replies with a code outside the known range. */
  errorRepliesOther = 0;
  /** TLS handshakes that completed. */
  tlsHandshakesOk = 0;
  /** TLS handshakes that failed, by reason (see net/tls_failure_reason.ts). */
  readonly tlsHandshakesFailed = new Map<string, number>();

  /** Connections closed for any reason but a refusal at accept (cmap's `closed`). */
  get closedAfterAccept(): number {
    let sum = 0;
    for (let reason = 0; reason < this.closed.length; reason++) {
      if (reason !== CloseReason.MaxClients) sum += this.closed[reason]!;
    }
    return sum;
  }

  /** A complete message of `type` (from its header) arrived. */
  received(type: number): void {
    if (type >= 0 && type <= MSG_TYPE_MAX) this.rx[type]!++;
  }

  /** A message was skipped (unsupported type or too long). */
  skipped(): void {
    this.rx[SKIPPED_MSG_SLOT]!++;
  }

  /** `msg` was queued to a client. */
  sent(msg: ServerMsg): void {
    this.tx[msg.type]!++;
    if (msg.type === MsgType.ServerError || msg.type === MsgType.InitReply) {
      const code = msg.replyErrorCode;
      if (code === ReplyError.NoError) return;
      if (code > 0 && code <= REPLY_ERROR_MAX) this.errorReplies[code]!++;
      else this.errorRepliesOther++;
    }
  }

  /** A TLS handshake failed for `reason`. */
  tlsFailed(reason: string): void {
    this.tlsHandshakesFailed.set(reason, (this.tlsHandshakesFailed.get(reason) ?? 0) + 1);
  }
}

/** The vote `msg` carries when the arbiter decided one (not NO_CHANGE), else undefined. */
export function decidedVote(msg: ServerMsg): Vote | undefined {
  if (!("vote" in msg) || msg.vote === Vote.Undefined || msg.vote === Vote.NoChange) {
    return undefined;
  }
  return msg.vote;
}
