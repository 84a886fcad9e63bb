/**
 * Builds one QNet message: the 6-byte header, then TLV options appended in call order.
 *
 * Port of the `tlv_add_*()` helpers in qdevices/tlv.c and of `msg_add_type()`,
 * `msg_add_len()` and `msg_set_len()` in qdevices/msg.c: the body length is patched into
 * the header when the message is finished.
 *
 * @module
 */
import { MSG_HEADER_LENGTH, TieBreakerMode, TlvType } from "./constants.ts";
import type { NodeInfo, RingId, TieBreaker } from "./types.ts";

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

/** A value cannot be written in the field it was meant for (out of range, too long). */
export class EncodeError extends RangeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EncodeError";
  }
}

function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new EncodeError(`Cannot encode ${what} ${value}: not an integer in 0..${max}`);
  }
  return value;
}

/** Appends big-endian fields to a growing buffer. */
class ByteSink {
  #buf = new Uint8Array(64);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  /** Makes room for `n` more bytes; returns where they start. Read #view/#buf after it. */
  #reserve(n: number): number {
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      bigger.set(this.#buf.subarray(0, at));
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.#len += n;
    return at;
  }

  u8(value: number): void {
    checkUint(value, 0xff, "u8");
    const at = this.#reserve(1);
    this.#view.setUint8(at, value);
  }
  u16(value: number): void {
    checkUint(value, U16_MAX, "u16");
    const at = this.#reserve(2);
    this.#view.setUint16(at, value);
  }
  u32(value: number): void {
    checkUint(value, U32_MAX, "u32");
    const at = this.#reserve(4);
    this.#view.setUint32(at, value);
  }
  u64(value: bigint): void {
    if (value < 0n || value > U64_MAX) {
      throw new EncodeError(`Cannot encode u64 ${value}: not in 0..${U64_MAX}`);
    }
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, value);
  }
  bytes(value: Uint8Array): void {
    const at = this.#reserve(value.length);
    this.#buf.set(value, at);
  }
  /** Overwrites a u32 already written at `offset` (the message length). */
  patchU32(offset: number, value: number): void {
    this.#view.setUint32(offset, checkUint(value, U32_MAX, "message length"));
  }
  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * Writes one message. Call the option methods in the order the C builder uses, then
 * `finish()`. Every method checks its range and throws `EncodeError` rather than
 * truncating a value.
 */
export class MsgWriter {
  #sink = new ByteSink();

  /** Starts a message of `type` (any u16: tests build unknown types too). */
  constructor(type: number) {
    this.#sink.u16(type);
    this.#sink.u32(0);
  }

  #header(type: number, length: number): ByteSink {
    if (length > U16_MAX) {
      throw new EncodeError(`Cannot encode option ${type}: value of ${length} bytes exceeds 65535`);
    }
    this.#sink.u16(type);
    this.#sink.u16(length);
    return this.#sink;
  }

  /** Raw option: any type and value; `declaredLength` overrides the length field. */
  raw(type: number, value: Uint8Array, declaredLength?: number): this {
    this.#header(type, declaredLength ?? value.length).bytes(value);
    return this;
  }

  /** Raw bytes after the options (e.g. garbage for decoder tests). */
  trailing(bytes: Uint8Array): this {
    this.#sink.bytes(bytes);
    return this;
  }

  /** `tlv_add_u8()`. */
  u8(type: number, value: number): this {
    this.#header(type, 1).u8(value);
    return this;
  }
  /** `tlv_add_u16()`. */
  u16(type: number, value: number): this {
    this.#header(type, 2).u16(value);
    return this;
  }
  /** `tlv_add_u32()`. */
  u32(type: number, value: number): this {
    this.#header(type, 4).u32(value);
    return this;
  }
  /** `tlv_add_u64()`. */
  u64(type: number, value: bigint): this {
    this.#header(type, 8).u64(value);
    return this;
  }
  /** `tlv_add_u16_array()`. */
  u16Array(type: number, values: readonly number[]): this {
    const sink = this.#header(type, 2 * values.length);
    for (const v of values) sink.u16(v);
    return this;
  }
  /** `tlv_add_ring_id()`: node id u32 then seq u64. */
  ringId(ringId: RingId): this {
    const sink = this.#header(TlvType.RingId, 12);
    sink.u32(ringId.nodeId);
    sink.u64(ringId.seq);
    return this;
  }
  /** `tlv_add_tie_breaker()`: mode u8 then node id u32, written as 0 unless mode is NodeId. */
  tieBreaker(tb: TieBreaker): this {
    const sink = this.#header(TlvType.TieBreaker, 5);
    sink.u8(tb.mode);
    sink.u32(tb.mode === TieBreakerMode.NodeId ? tb.nodeId : 0);
    return this;
  }
  /**
   * `tlv_add_node_info()`: a nested NODE_ID, then DATA_CENTER_ID only if not 0, then
   * NODE_STATE only if set (not 0).
   */
  nodeInfo(node: NodeInfo): this {
    const withDc = node.dataCenterId !== 0;
    const withState = node.nodeState !== 0;
    const sink = this.#header(TlvType.NodeInfo, 8 + (withDc ? 8 : 0) + (withState ? 5 : 0));
    sink.u16(TlvType.NodeId);
    sink.u16(4);
    sink.u32(node.nodeId);
    if (withDc) {
      sink.u16(TlvType.DataCenterId);
      sink.u16(4);
      sink.u32(node.dataCenterId);
    }
    if (withState) {
      sink.u16(TlvType.NodeState);
      sink.u16(1);
      sink.u8(node.nodeState);
    }
    return this;
  }

  /**
   * Patches the body length into the header (or writes `bodyLength` there instead, to
   * build inconsistent messages) and returns the message bytes.
   */
  finish(bodyLength?: number): Uint8Array {
    this.#sink.patchU32(2, bodyLength ?? this.#sink.length - MSG_HEADER_LENGTH);
    return this.#sink.toBytes();
  }
}
