/**
 * What the arbiter needs to know about the daemon's configuration: the `-s`, `-c`, `-m`
 * options and the `-S` advanced settings it reads (qnetd-advanced-settings.h).
 *
 * @module
 */
import { TlsSupported } from "../protocol/constants.ts";
import { DEFAULT_HISTORY_LIMITS, type HistoryLimits } from "./history.ts";

/**
 * The arbiter's settings. The object is read on every use, never copied, so a caller
 * may change fields at run time (cmap does for some of them) and the next message sees it.
 */
export interface ArbiterSettings extends HistoryLimits {
  /** `-s`: off / on / req. */
  tlsSupported: TlsSupported;
  /** `-c`: request and require a client certificate, and check its name. */
  tlsClientCertRequired: boolean;
  /** `max_client_receive_size`: advertised in INIT_REPLY (the edge enforces it). */
  maxClientReceiveSize: number;
  /** `max_client_send_size`: advertised in INIT_REPLY. */
  maxClientSendSize: number;
  /** `heartbeat_interval_min` (ms), inclusive. */
  heartbeatIntervalMin: number;
  /** `heartbeat_interval_max` (ms), inclusive. */
  heartbeatIntervalMax: number;
  /** `dpd_enabled`: dead-peer detection timer per client. */
  dpdEnabled: boolean;
  /** `dpd_interval_coefficient`: DPD fires after coefficient x heartbeat ms of silence. */
  dpdIntervalCoefficient: number;
  /** `keep_active_partition_tie_breaker`: the default for clients that never set it. */
  keepActivePartitionTieBreaker: boolean;
  /** `-m`: maximum connected clients, 0 = unlimited. */
  maxClients: number;
}

/** The C daemon's defaults (qnet-config.h, corosync-qnetd.c). */
export function defaultArbiterSettings(): ArbiterSettings {
  return {
    tlsSupported: TlsSupported.Supported,
    tlsClientCertRequired: true,
    maxClientReceiveSize: 32768,
    maxClientSendSize: 32768,
    heartbeatIntervalMin: 1000,
    heartbeatIntervalMax: 120000,
    dpdEnabled: true,
    dpdIntervalCoefficient: 1.5,
    keepActivePartitionTieBreaker: false,
    maxClients: 0,
    ...DEFAULT_HISTORY_LIMITS,
  };
}

/** `QNETD_DEFAULT_HEARTBEAT_INTERVAL_MAX`: a client's heartbeat before INIT (compile-time). */
export const HEARTBEAT_INTERVAL_BEFORE_INIT = 120000;
