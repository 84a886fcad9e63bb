/**
 * Runs a `LoadGroup` in a Worker, so that the generator can use several cores, and the
 * main-thread proxy for it (`WorkerGroup`). The protocol is one request at a time:
 * `{ op, args }` in, `{ result }` or `{ error }` out.
 *
 * @module
 */
import {
  type GroupHandle,
  type GroupOptions,
  LoadGroup,
  type SteadyResult,
  type StormResult,
} from "./load_group.ts";

type Request =
  | { op: "init"; options: GroupOptions }
  | { op: "storm"; timeoutMs: number; fraction: number }
  | { op: "steady"; durationMs: number; graceMs: number }
  | { op: "close" };

/** True when this module runs as a Worker (not when imported by the main thread). */
const IN_WORKER = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";

if (IN_WORKER) {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<Request>) => void) | null;
    postMessage(m: unknown): void;
    close(): void;
  };
  let group: LoadGroup | null = null;
  scope.onmessage = async (e) => {
    const req = e.data;
    try {
      switch (req.op) {
        case "init":
          group = new LoadGroup(req.options);
          scope.postMessage({ result: null });
          return;
        case "storm":
          scope.postMessage({ result: await group!.storm(req.timeoutMs, req.fraction) });
          return;
        case "steady":
          scope.postMessage({ result: await group!.steady(req.durationMs, req.graceMs) });
          return;
        case "close":
          await group?.close();
          scope.postMessage({ result: null });
          return;
      }
    } catch (err) {
      scope.postMessage({ error: String((err as Error)?.stack ?? err) });
    }
  };
}

/** A `LoadGroup` running in its own Worker. */
export class WorkerGroup implements GroupHandle {
  readonly #worker: Worker;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the Worker and builds its group. */
  static async start(options: GroupOptions): Promise<WorkerGroup> {
    const worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
    const group = new WorkerGroup(worker);
    await group.#call({ op: "init", options });
    return group;
  }

  storm(timeoutMs: number, fraction = 1): Promise<StormResult> {
    return this.#call({ op: "storm", timeoutMs, fraction }) as Promise<StormResult>;
  }

  steady(durationMs: number, graceMs: number): Promise<SteadyResult> {
    return this.#call({ op: "steady", durationMs, graceMs }) as Promise<SteadyResult>;
  }

  async close(): Promise<void> {
    try {
      await this.#call({ op: "close" });
    } finally {
      this.#worker.terminate();
    }
  }

  #call(req: Request): Promise<unknown> {
    const next = this.#queue.then(() =>
      new Promise((resolve, reject) => {
        this.#worker.onmessage = (e: MessageEvent<{ result?: unknown; error?: string }>) => {
          if (e.data.error !== undefined) reject(new Error(`Worker failed: ${e.data.error}`));
          else resolve(e.data.result);
        };
        this.#worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`Worker failed: ${e.message}`));
        };
        this.#worker.postMessage(req);
      })
    );
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
