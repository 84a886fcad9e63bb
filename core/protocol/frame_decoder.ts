/**
 * Cuts a client's byte stream into whole messages, one at a time.
 *
 * Port of `msgio_read()` in qdevices/msgio.c together with the skip handling of
 * `qnetd_client_net_read()` in qdevices/qnetd-client-net.c.
 *
 * @module
 */
import { isValidMsgType, MSG_HEADER_LENGTH, ReplyError } from "./constants.ts";

/** What `FrameDecoder.feed()` reports. */
export type FrameEvent =
  /** One whole message, header included, ready for `decodeMsg()`. */
  | { kind: "message"; bytes: Uint8Array }
  /**
   * At header time, a message is going to be skipped: unknown type (reason 4,
   * "Client sent unsupported msg type %u. Skipping message") or longer than the receive
   * limit (reason 5, "Client wants to send too long message %u bytes. Skipping
   * message"). `length` is the body length from the header.
   */
  | { kind: "skipStarted"; reason: 4 | 5; msgType: number; length: number }
  /**
   * A skipped message was consumed to its end: the daemon answers SERVER_ERROR(reason)
   * without a seq number. Reason 0 is the C quirk for an unknown type with an empty body,
   * which completes before the reason is recorded (reference §1.3.5).
   */
  | { kind: "skipped"; reason: number };

/**
 * Incremental frame reader with bounded memory: it holds at most one message of at most
 * `maxReceiveSize` bytes, and discards the bodies of skipped messages as they arrive.
 */
export class FrameDecoder {
  #maxReceiveSize: number;
  /**
   * The header bytes seen so far, as numbers: a per-connection 6-byte array would cost a
   * few hundred bytes of heap on each of thousands of idle connections.
   */
  #msgType = 0;
  #length = 0;
  /** Bytes of the current message seen so far (C `msg_already_received_bytes`). */
  #received = 0;
  /** Header + body length of the current message, known once the header is in. */
  #total = 0;
  /** The current message when it is being kept (null while in the header or skipping). */
  #buffer: Uint8Array | null = null;
  #skipping = false;
  /** C `skipping_msg_reason`: still NO_ERROR (0) until a skip is announced. */
  #skipReason: number = ReplyError.NoError;

  /** @param maxReceiveSize largest accepted message, header included (C `max_client_receive_size`). */
  constructor(maxReceiveSize: number) {
    this.#maxReceiveSize = maxReceiveSize;
  }

  /** The receive limit. A new value applies from the next message header on. */
  get maxReceiveSize(): number {
    return this.#maxReceiveSize;
  }
  set maxReceiveSize(value: number) {
    this.#maxReceiveSize = value;
  }

  /** Bytes currently held for the message being received (never above the limit). */
  get bufferedBytes(): number {
    return this.#buffer?.length ?? Math.min(this.#received, MSG_HEADER_LENGTH);
  }

  /** True between messages: nothing of a next message has been received yet. */
  get idle(): boolean {
    return this.#received === 0;
  }

  /**
   * Consumes bytes of `chunk` up to the end of at most ONE message and returns how many it
   * took and the events for that message. The caller loops over the rest; after a
   * StartTLS message it stops and hands the remaining bytes to TLS, so this never
   * consumes past a message's end.
   */
  feed(chunk: Uint8Array): { consumed: number; events: FrameEvent[] } {
    const events: FrameEvent[] = [];
    let consumed = 0;
    while (consumed < chunk.length) {
      if (this.#received < MSG_HEADER_LENGTH) {
        const byte = chunk[consumed++]!;
        // Type: 2 bytes, then length: 4 bytes, both big-endian (multiplied: stays unsigned).
        if (this.#received < 2) this.#msgType = this.#msgType * 256 + byte;
        else this.#length = this.#length * 256 + byte;
        if (++this.#received === MSG_HEADER_LENGTH) this.#headerComplete(events);
      } else {
        const take = Math.min(this.#total - this.#received, chunk.length - consumed);
        this.#buffer?.set(chunk.subarray(consumed, consumed + take), this.#received);
        this.#received += take;
        consumed += take;
      }
      if (this.#received >= MSG_HEADER_LENGTH && this.#received === this.#total) {
        events.push(this.#messageComplete());
        break;
      }
    }
    return { consumed, events };
  }

  /** The checks `msgio_read()` makes once the sixth header byte is in: type first, then size. */
  #headerComplete(events: FrameEvent[]): void {
    const msgType = this.#msgType;
    const length = this.#length;
    this.#total = MSG_HEADER_LENGTH + length;
    if (!isValidMsgType(msgType)) {
      this.#skipping = true;
      // With an empty body the message is complete in this same read, and C reports the
      // completion instead of the bad type: the reason stays NO_ERROR and nothing is logged.
      if (length !== 0) this.#announceSkip(events, ReplyError.UnsupportedMessage, msgType, length);
    } else if (this.#total > this.#maxReceiveSize) {
      this.#skipping = true;
      this.#announceSkip(events, ReplyError.MessageTooLong, msgType, length);
    } else {
      this.#buffer = new Uint8Array(this.#total);
      const view = new DataView(this.#buffer.buffer);
      view.setUint16(0, msgType);
      view.setUint32(2, length);
    }
  }

  #announceSkip(events: FrameEvent[], reason: 4 | 5, msgType: number, length: number): void {
    this.#skipReason = reason;
    events.push({ kind: "skipStarted", reason, msgType, length });
  }

  /** End of a message: hand it over or report the skip, and reset for the next one. */
  #messageComplete(): FrameEvent {
    const event: FrameEvent = this.#skipping || this.#buffer === null
      ? { kind: "skipped", reason: this.#skipReason }
      : { kind: "message", bytes: this.#buffer };
    this.#received = 0;
    this.#total = 0;
    this.#msgType = 0;
    this.#length = 0;
    this.#buffer = null;
    this.#skipping = false;
    this.#skipReason = ReplyError.NoError;
    return event;
  }
}
