/**
 * Scrapes an arbiter's metrics endpoint at a fixed interval during a bench run, as a
 * Prometheus server would (one GET at a time, a timeout per scrape), and keeps what it cost
 * from the outside: scrapes done and failed, time per scrape, size of the exposition.
 *
 * @module
 */
import { percentile } from "./stats.ts";

/** What the scraper saw. */
export interface ScrapeFigures {
  readonly scrapes: number;
  readonly failures: number;
  /** Median time of a scrape (request to last byte), ms. */
  readonly p50Ms: number | null;
  /** Size of the last exposition, bytes. */
  readonly bytes: number;
  /**
   * CPU time the daemon spent per rendering (ms), from its own
   * `qnetd_metrics_render_cpu_seconds_total` / `qnetd_metrics_renders_total` in the last
   * exposition: the direct cost of a scrape, which a busy machine does not blur.
   */
  readonly renderCpuMs: number | null;
}

/** Tail of the exposition holding the daemon's own cost counters (written last). */
const TAIL_BYTES = 4096;

/** The value of the sample `name` (no labels) in `text`, if present. */
function sampleValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Scrapes `url` every `intervalMs` until {@link stop}. */
export class MetricsScraper {
  readonly #url: string;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #times: number[] = [];
  #failures = 0;
  #bytes = 0;
  #tail = "";
  #busy = false;

  constructor(url: string, intervalMs: number) {
    this.#url = url;
    this.#timer = setInterval(() => void this.#scrape(intervalMs), intervalMs);
  }

  async #scrape(timeoutMs: number): Promise<void> {
    if (this.#busy) return; // the previous scrape is still running: Prometheus skips too
    this.#busy = true;
    const t0 = performance.now();
    try {
      const response = await fetch(this.#url, { signal: AbortSignal.timeout(timeoutMs) });
      const body = await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.#bytes = body.byteLength;
      this.#tail = new TextDecoder().decode(
        new Uint8Array(body, Math.max(0, body.byteLength - TAIL_BYTES)),
      );
      this.#times.push(performance.now() - t0);
    } catch {
      this.#failures++;
    } finally {
      this.#busy = false;
    }
  }

  /** Stops scraping and returns the figures. */
  stop(): ScrapeFigures {
    clearInterval(this.#timer);
    return {
      scrapes: this.#times.length,
      failures: this.#failures,
      p50Ms: percentile([...this.#times].sort((a, b) => a - b), 0.5),
      bytes: this.#bytes,
      renderCpuMs: this.#renderCpuMs(),
    };
  }

  #renderCpuMs(): number | null {
    const renders = sampleValue(this.#tail, "qnetd_metrics_renders_total");
    const cpu = sampleValue(this.#tail, "qnetd_metrics_render_cpu_seconds_total");
    if (renders === undefined || cpu === undefined || renders === 0) return null;
    return (cpu * 1000) / renders;
  }
}
