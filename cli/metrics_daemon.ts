/**
 * The daemon's metrics glue: gathers what core/metrics/qnetd_metrics.ts renders (the
 * arbiter's snapshot, the edge's counters and connection timings, memory, event-loop lag,
 * certificate expiry, reloads) when a scrape asks for it, serves it on the IPC `metrics`
 * command (`qnetd-tool --metrics`) and, with `-S metrics_listen=ADDR:PORT`, over HTTP.
 *
 * Cost: the vote path only increments the edge's counters and stores two timestamps per
 * connection; everything else is computed per scrape, and a rendered exposition is reused
 * for {@link RENDER_CACHE_MS} so that several scrapers at once cost one rendering.
 *
 * @module
 */
import type { ServerSnapshot } from "../core/arbiter/snapshot.ts";
import { type Log, Priority } from "../core/log.ts";
import { certificateNotAfter } from "../core/certs/not_after.ts";
import { type NodeTimes, renderMetrics } from "../core/metrics/qnetd_metrics.ts";
import type { TrafficCounters } from "../core/metrics/traffic.ts";
import { QNET_VERSION } from "../core/version.ts";
import type { IpcHandler } from "../ipc/server.ts";
import type { ClientConnection } from "../net/client_connection.ts";

/** A rendered exposition is served again to scrapes within this long. */
export const RENDER_CACHE_MS = 250;
/** How often the event-loop lag probe runs. */
export const LAG_PROBE_MS = 250;
/** The IPC command of `qnetd-tool --metrics`. */
export const METRICS_IPC_COMMAND = "metrics";

/** Configuration reloads as the metrics count them. */
export interface ReloadStats {
  succeeded: number;
  failed: number;
  /** ms since the epoch. */
  lastAt?: number;
}

/** What the daemon hands the metrics. */
export interface DaemonMetricsOptions {
  readonly snapshot: () => ServerSnapshot;
  readonly counters: TrafficCounters;
  /** The open TCP connections (with their timing), once the server runs. */
  readonly connections: () => Iterable<ClientConnection>;
  readonly admissionQueueLength: () => number;
  readonly reloads: ReloadStats;
  /** PEM files of the server and CA certificates, read once at start (TLS on only). */
  readonly certificateFiles?: { readonly server: string; readonly ca: string };
  readonly log: Log;
}

/** The metrics of one daemon. Dispose it to stop the lag probe. */
export class DaemonMetrics implements Disposable {
  readonly #options: DaemonMetricsOptions;
  readonly #startedAt = Date.now();
  readonly #certificates: { server?: number | undefined; ca?: number | undefined } = {};
  #lagTimer: ReturnType<typeof setInterval> | undefined;
  #lagExpected = 0;
  #maxLagMs = 0;
  #cached: { text: string; at: number } | undefined;

  constructor(options: DaemonMetricsOptions) {
    this.#options = options;
    if (options.certificateFiles !== undefined) {
      this.#certificates.server = this.#notAfter(options.certificateFiles.server);
      this.#certificates.ca = this.#notAfter(options.certificateFiles.ca);
    }
    this.#lagExpected = performance.now() + LAG_PROBE_MS;
    const timer = setInterval(() => {
      const now = performance.now();
      this.#maxLagMs = Math.max(this.#maxLagMs, now - this.#lagExpected);
      this.#lagExpected = now + LAG_PROBE_MS;
    }, LAG_PROBE_MS);
    Deno.unrefTimer(timer);
    this.#lagTimer = timer;
  }

  #notAfter(path: string): number | undefined {
    try {
      return certificateNotAfter(Deno.readFileSync(path)) / 1000;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      this.#options.log(Priority.Warning, `Metrics: can't read the expiry of ${path}: ${error}`);
      return undefined;
    }
  }

  /** The exposition now (or from a scrape less than {@link RENDER_CACHE_MS} ago). */
  render(): string {
    const now = performance.now();
    if (this.#cached !== undefined && now - this.#cached.at < RENDER_CACHE_MS) {
      return this.#cached.text;
    }
    const o = this.#options;
    const byAddress = new Map<string, NodeTimes>();
    for (const conn of o.connections()) byAddress.set(conn.address, conn.stats);
    const memory = Deno.memoryUsage();
    const text = renderMetrics({
      snapshot: o.snapshot(),
      nodeTimes: (address) => byAddress.get(address),
      monotonicNow: now,
      counters: o.counters,
      admissionQueueLength: o.admissionQueueLength(),
      eventLoopLagSeconds: Math.max(0, this.#maxLagMs) / 1000,
      memory,
      certificates: this.#certificates,
      reloads: o.reloads,
      startedAt: this.#startedAt,
      version: QNET_VERSION,
    });
    this.#maxLagMs = 0;
    this.#cached = { text, at: now };
    return text;
  }

  /** The IPC `metrics` command: the exposition as the reply body. */
  ipcHandler(): IpcHandler {
    const encoder = new TextEncoder();
    return () => ({
      ok: true,
      body: encoder.encode(this.render()),
      tooLargeError: "Can't get QNetd metrics",
    });
  }

  [Symbol.dispose](): void {
    if (this.#lagTimer !== undefined) clearInterval(this.#lagTimer);
    this.#lagTimer = undefined;
  }
}
