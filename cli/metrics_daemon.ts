/**
 * The daemon's metrics glue: gathers what core/metrics/qnetd_metrics.ts renders (the
 * arbiter's clusters as they are, the edge's counters and per-connection timing, memory,
 * event-loop lag, certificate expiry, reloads) when a scrape asks for it, serves it on the
 * IPC `metrics` command (`qnetd-tool --metrics`) and, with `-S metrics_listen=ADDR:PORT`,
 * over HTTP.
 *
 * Cost: the vote path only increments the edge's counters and stores a vote and two
 * timestamps per connection; everything else is done per scrape, without allocating per
 * client, into a buffer kept from one scrape to the next, in steps between which the event
 * loop runs (the vote path waits for one step at most, well under a millisecond). A
 * rendering is reused for {@link RENDER_CACHE_MS}, so that several scrapers at once cost one.
 *
 * @module
 */
import type { Cluster } from "../core/arbiter/cluster_list.ts";
import { type Log, Priority } from "../core/log.ts";
import { certificateNotAfter, CertificateParseError } from "../core/certs/not_after.ts";
import { type NodeTimes, renderMetricsInSteps } from "../core/metrics/qnetd_metrics.ts";
import type { TrafficCounters } from "../core/metrics/traffic.ts";
import { QNET_VERSION } from "../core/version.ts";
import process from "node:process";
import type { IpcHandler } from "../ipc/server.ts";
import type { MetricsSource } from "../net/metrics_http.ts";
import type { ServerKeyMaterial } from "../net/tls_server.ts";

/** A rendered exposition is served again to scrapes within this long. */
export const RENDER_CACHE_MS = 250;
/** How often the event-loop lag probe runs. */
export const LAG_PROBE_MS = 250;
/** The IPC command of `qnetd-tool --metrics`. */
export const METRICS_IPC_COMMAND = "metrics";
/**
 * Buffers kept besides the current rendering's: a new rendering reuses the previous one's
 * buffer when no scraper is still sending it, else a spare (more exist only while slow
 * scrapers hold them).
 */
const SPARE_BUFFERS = 1;

/** Configuration reloads as the metrics count them. */
export interface ReloadStats {
  succeeded: number;
  failed: number;
  /** ms since the epoch. */
  lastAt?: number;
}

/** What the daemon hands the metrics. */
export interface DaemonMetricsOptions {
  /** The arbiter's clusters as they are (`Arbiter.liveClusters()`). */
  readonly clusters: () => readonly Cluster[];
  readonly connectedClients: () => number;
  readonly tlsSupported: number;
  readonly counters: TrafficCounters;
  /** The edge's view of an open connection, by id (the arbiter's client id). */
  readonly nodeTimes: (clientId: number) => NodeTimes | undefined;
  readonly admissionQueueLength: () => number;
  readonly reloads: ReloadStats;
  readonly log: Log;
}

/** One rendering and the writers still sending it. */
interface Rendering {
  readonly bytes: Uint8Array;
  readonly at: number;
  users: number;
}

/** The metrics of one daemon. Dispose it to stop the lag probe. */
export class DaemonMetrics implements MetricsSource, Disposable {
  readonly #options: DaemonMetricsOptions;
  readonly #startedAt = Date.now();
  readonly #certificates: { server?: number | undefined; ca?: number | undefined } = {};
  #lagTimer: ReturnType<typeof setInterval> | undefined;
  #lagExpected = 0;
  #maxLagMs = 0;
  /** Renderings done and their CPU time (µs), for qnetd_metrics_render_cpu_seconds_total. */
  #renders = 0;
  #renderCpuMicros = 0;
  #current: Rendering | undefined;
  /** The rendering under way, which concurrent scrapes wait for. */
  #rendering: Promise<Rendering> | undefined;
  /** Renderings handed out and not released yet, by their bytes. */
  readonly #leased = new Map<Uint8Array, Rendering>();
  readonly #spare: Uint8Array[] = [];

  constructor(options: DaemonMetricsOptions) {
    this.#options = options;
    this.#lagExpected = performance.now() + LAG_PROBE_MS;
    const timer = setInterval(() => {
      const now = performance.now();
      this.#maxLagMs = Math.max(this.#maxLagMs, now - this.#lagExpected);
      this.#lagExpected = now + LAG_PROBE_MS;
    }, LAG_PROBE_MS);
    Deno.unrefTimer(timer);
    this.#lagTimer = timer;
  }

  /**
   * The key material the TLS context was made from (at start, and after each SIGHUP
   * rotation): the expiry of its server certificate and of the earliest-expiring trusted CA.
   */
  useKeys(keys: Pick<ServerKeyMaterial, "certChainDer" | "caCertsDer" | "origin">): void {
    this.#certificates.server = this.#notAfter(keys.certChainDer[0], keys.origin.cert);
    const cas = keys.caCertsDer.map((der) => this.#notAfter(der, keys.origin.ca))
      .filter((at) => at !== undefined);
    this.#certificates.ca = cas.length === 0 ? undefined : Math.min(...cas);
  }

  #notAfter(der: Uint8Array | undefined, origin: string): number | undefined {
    if (der === undefined) return undefined;
    try {
      return certificateNotAfter(der) / 1000;
    } catch (error) {
      if (!(error instanceof CertificateParseError)) throw error;
      this.#options.log(Priority.Warning, `Metrics: can't read the expiry of ${origin}: ${error}`);
      return undefined;
    }
  }

  /**
   * The exposition now (or from a scrape less than {@link RENDER_CACHE_MS} ago). The bytes
   * stay valid until given back with {@link release}.
   */
  async acquire(): Promise<Uint8Array> {
    let current = this.#current;
    if (current === undefined || performance.now() - current.at >= RENDER_CACHE_MS) {
      this.#rendering ??= this.#renderNew().finally(() => (this.#rendering = undefined));
      current = await this.#rendering;
    }
    current.users++;
    this.#leased.set(current.bytes, current);
    return current.bytes;
  }

  async #renderNew(): Promise<Rendering> {
    // The previous rendering has expired: no scrape can acquire it any more, and if none is
    // still sending it, its buffer is the one to write into.
    const previous = this.#current;
    this.#current = undefined;
    const reuse = previous !== undefined && previous.users === 0
      ? new Uint8Array(previous.bytes.buffer)
      : this.#spare.pop();
    const bytes = await this.#render(performance.now(), reuse);
    const rendering = { bytes, at: performance.now(), users: 0 };
    this.#current = rendering;
    return rendering;
  }

  /** Gives back bytes from {@link acquire} once they are written out. */
  release(bytes: Uint8Array): void {
    const rendering = this.#leased.get(bytes);
    if (rendering === undefined) return;
    if (--rendering.users > 0) return;
    this.#leased.delete(bytes);
    if (rendering !== this.#current) this.#recycle(rendering);
  }

  #recycle(rendering: Rendering): void {
    if (this.#spare.length < SPARE_BUFFERS) {
      this.#spare.push(new Uint8Array(rendering.bytes.buffer));
    }
  }

  async #render(now: number, buffer: Uint8Array | undefined): Promise<Uint8Array> {
    const o = this.#options;
    const clusters = o.clusters();
    const steps = renderMetricsInSteps({
      clusters,
      connectedClients: o.connectedClients(),
      tlsSupported: o.tlsSupported,
      nodeTimes: o.nodeTimes,
      monotonicNow: now,
      counters: o.counters,
      admissionQueueLength: o.admissionQueueLength(),
      eventLoopLagSeconds: Math.max(0, this.#maxLagMs) / 1000,
      memory: Deno.memoryUsage(),
      certificates: this.#certificates,
      reloads: o.reloads,
      startedAt: this.#startedAt,
      version: QNET_VERSION,
      renders: { count: this.#renders, cpuSeconds: this.#renderCpuMicros / 1e6 },
    }, buffer);
    this.#maxLagMs = 0;
    this.#renders++;
    for (;;) {
      // CPU time of the step (the whole process's, so GC work it causes counts too).
      const before = process.cpuUsage();
      const step = steps.next();
      const used = process.cpuUsage(before);
      this.#renderCpuMicros += used.user + used.system;
      if (step.done) return step.value;
      await nextTurn();
    }
  }

  /** The IPC `metrics` command: the exposition as the reply body (a copy). */
  ipcHandler(): IpcHandler {
    return async () => {
      const bytes = await this.acquire();
      try {
        return { ok: true, body: bytes.slice(), tooLargeError: "Can't get QNetd metrics" };
      } finally {
        this.release(bytes);
      }
    };
  }

  [Symbol.dispose](): void {
    if (this.#lagTimer !== undefined) clearInterval(this.#lagTimer);
    this.#lagTimer = undefined;
  }
}

/** Resolves after the event loop has run its pending I/O callbacks and timers. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
