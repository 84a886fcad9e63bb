/**
 * The arbiter with per-message-type counters for cmap's `runtime.services.qnetd.*` keys (in
 * the spirit of corosync's `runtime.services.<service>.<call>.rx/tx`): every message received
 * and every message the arbiter asks the edge to send is counted by type. The cost on the hot
 * path is one array increment per message; the cmap keys are computed only when asked for.
 *
 * @module
 */
import { type Action, Arbiter } from "../core/arbiter/arbiter.ts";
import type { MessageCounters } from "../core/cmap/qnetd_keys.ts";
import { isValidMsgType } from "../core/protocol/constants.ts";
import type { DecodeResult } from "../core/protocol/types.ts";

function count(counters: number[], type: number): void {
  counters[type] = (counters[type] ?? 0) + 1;
}

/** An {@link Arbiter} that counts messages by type and accepted connections. */
export class CountingArbiter extends Arbiter {
  /** Counters by message type number. */
  readonly messages: MessageCounters;
  /** Connections accepted since start. */
  accepted = 0;

  constructor(opts: ConstructorParameters<typeof Arbiter>[0], messages: MessageCounters) {
    super(opts);
    this.messages = messages;
  }

  #sent(actions: Action[]): Action[] {
    for (const action of actions) {
      if (action.kind === "send") count(this.messages.tx, action.msg.type);
    }
    return actions;
  }

  override accept(address: string): { clientId: number; actions: Action[] } | undefined {
    const result = super.accept(address);
    if (result !== undefined) {
      this.accepted++;
      this.#sent(result.actions);
    }
    return result;
  }

  override received(clientId: number, raw: Uint8Array, decoded: DecodeResult): Action[] {
    const type = raw.length >= 2 ? (raw[0]! << 8) | raw[1]! : -1;
    if (isValidMsgType(type)) count(this.messages.rx, type);
    return this.#sent(super.received(clientId, raw, decoded));
  }

  override skipped(clientId: number, reason: number): Action[] {
    return this.#sent(super.skipped(clientId, reason));
  }

  override closed(clientId: number): Action[] {
    return this.#sent(super.closed(clientId));
  }

  override expireTimers(): Action[] {
    return this.#sent(super.expireTimers());
  }

  override shutdown(): Action[] {
    return this.#sent(super.shutdown());
  }
}
