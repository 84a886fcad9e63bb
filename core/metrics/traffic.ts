/**
 * What the metrics read of the network edge's traffic counters (net/edge_counters.ts owns
 * and increments them), and the reasons a connection is closed for.
 *
 * @module
 */

/** Why a TCP connection was closed. */
export const CloseReason = {
  /** The client closed its end (EOF, reset, broken pipe). */
  PeerClosed: 0,
  /** No message within the dead-peer-detection interval. */
  Dpd: 1,
  /** The arbiter disconnected the client for a protocol violation. */
  ProtocolError: 2,
  /** Refused at accept: `max_clients` reached (or no DPD timer could be made). */
  MaxClients: 3,
  /** A reply did not fit `max_client_send_buffers` / `max_client_send_size`. */
  SendQueueFull: 4,
  /** The TLS handshake or a TLS record failed. */
  TlsError: 5,
  /** A read or write failed for another reason. */
  IoError: 6,
  /** The daemon is shutting down. */
  Shutdown: 7,
  /** It sent nothing, and its place was needed (silent-connection budget, `max_clients`). */
  Silent: 8,
} as const;
export type CloseReason = typeof CloseReason[keyof typeof CloseReason];

/** Label value of each {@link CloseReason}, by number. */
export const CLOSE_REASON_NAMES: Readonly<Record<CloseReason, string>> = {
  [CloseReason.PeerClosed]: "peer_closed",
  [CloseReason.Dpd]: "dpd",
  [CloseReason.ProtocolError]: "protocol_error",
  [CloseReason.MaxClients]: "max_clients",
  [CloseReason.SendQueueFull]: "send_queue_full",
  [CloseReason.TlsError]: "tls_error",
  [CloseReason.IoError]: "io_error",
  [CloseReason.Shutdown]: "shutdown",
  [CloseReason.Silent]: "silent",
};

/** The edge's counters, read-only. Arrays are indexed by number (reason, type, code). */
export interface TrafficCounters {
  /** TCP connections accepted (refused ones included: they count as closed too). */
  readonly accepted: number;
  /** Closed connections by {@link CloseReason}. */
  readonly closed: readonly number[];
  /** Messages received by type number; the slot after the last type: skipped messages. */
  readonly rx: readonly number[];
  /** Messages queued to clients, by type number. */
  readonly tx: readonly number[];
  /** Replies with a non-zero error code, by code. */
  readonly errorReplies: readonly number[];
  /** Error replies with a code outside the known range. */
  readonly errorRepliesOther: number;
  readonly tlsHandshakesOk: number;
  /** Failed TLS handshakes by reason label. */
  readonly tlsHandshakesFailed: ReadonlyMap<string, number>;
}
