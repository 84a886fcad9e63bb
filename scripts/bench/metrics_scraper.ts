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
}

/** Scrapes `url` every `intervalMs` until {@link stop}. */
export class MetricsScraper {
  readonly #url: string;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #times: number[] = [];
  #failures = 0;
  #bytes = 0;
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
    };
  }
}
