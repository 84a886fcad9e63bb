/**
 * A `LoadGroup` somewhere else, and the proxy that drives it: in a Worker (`WorkerGroup`), so
 * that the generator can use several cores, or in a child process (`ProcessGroup`), because
 * Workers share their process's RLIMIT_NOFILE, whose hard limit may be below the number of
 * clients (20,000 on the benchmark host), so large runs spread the clients over processes.
 *
 * Both speak one protocol, one request at a time: a {@link GroupRequest} in, a
 * {@link GroupReply} (`{ result }` or `{ error }`) out; a Worker by messages, a child process
 * by one JSON line each way on its stdin and stdout (stderr is passed through). This module is
 * also the Worker's script and the child's (`deno run -A scripts/bench/remote_group.ts`).
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
import { pinSelf } from "./arbiter_process.ts";

/** One request to a remote group. */
export type GroupRequest =
  | { op: "init"; options: GroupOptions }
  | { op: "storm"; timeoutMs: number; fraction: number }
  | { op: "steady"; durationMs: number; graceMs: number }
  | { op: "close" };

/** The answer to one request. */
export interface GroupReply {
  readonly result?: unknown;
  /** The failure's stack (or text) on the serving side. */
  readonly error?: string;
}

/** The serving side: the group, built by `init`, and what each request does to it. */
class GroupServer {
  #group: LoadGroup | null = null;

  async handle(req: GroupRequest): Promise<GroupReply> {
    try {
      switch (req.op) {
        case "init":
          this.#group = new LoadGroup(req.options);
          return { result: null };
        case "storm":
          return { result: await this.#group!.storm(req.timeoutMs, req.fraction) };
        case "steady":
          return { result: await this.#group!.steady(req.durationMs, req.graceMs) };
        case "close":
          await this.#group?.close();
          return { result: null };
      }
    } catch (err) {
      return { error: String((err as Error)?.stack ?? err) };
    }
  }
}

/**
 * The proxy side: a `GroupHandle` whose calls go one after the other through `exchange`;
 * `what` names the other side in errors ("Worker", "Generator process").
 */
abstract class RemoteGroup implements GroupHandle {
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * `what` names the other side in errors; `goneOnClose`: a failed `close` request means the
   * other side is gone already, which is no error.
   */
  protected constructor(readonly what: string, readonly goneOnClose: boolean) {}

  /** Sends one request and resolves with its reply. */
  protected abstract exchange(req: GroupRequest): Promise<GroupReply>;

  /** Ends the other side, after the `close` request. */
  protected abstract end(): Promise<void>;

  /** Builds the group on the other side. */
  protected async init(options: GroupOptions): Promise<this> {
    await this.call({ op: "init", options });
    return this;
  }

  /** Closes the group's clients, then ends the other side. */
  async close(): Promise<void> {
    try {
      await this.call({ op: "close" });
    } catch (error) {
      if (!this.goneOnClose) throw error;
    } finally {
      await this.end();
    }
  }

  storm(timeoutMs: number, fraction = 1): Promise<StormResult> {
    return this.call({ op: "storm", timeoutMs, fraction }) as Promise<StormResult>;
  }

  steady(durationMs: number, graceMs: number): Promise<SteadyResult> {
    return this.call({ op: "steady", durationMs, graceMs }) as Promise<SteadyResult>;
  }

  protected call(req: GroupRequest): Promise<unknown> {
    const next = this.#queue.then(async () => {
      const reply = await this.exchange(req);
      if (reply.error !== undefined) throw new Error(`${this.what} failed: ${reply.error}`);
      return reply.result;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** A `LoadGroup` running in its own Worker. */
export class WorkerGroup extends RemoteGroup {
  readonly #worker: Worker;

  private constructor(worker: Worker) {
    super("Worker", false);
    this.#worker = worker;
  }

  /** Starts the Worker and builds its group. */
  static async start(options: GroupOptions): Promise<WorkerGroup> {
    const worker = new Worker(new URL("./remote_group.ts", import.meta.url), { type: "module" });
    return await new WorkerGroup(worker).init(options);
  }

  protected end(): Promise<void> {
    this.#worker.terminate();
    return Promise.resolve();
  }

  protected exchange(req: GroupRequest): Promise<GroupReply> {
    return new Promise((resolve, reject) => {
      this.#worker.onmessage = (e: MessageEvent<GroupReply>) => resolve(e.data);
      this.#worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`Worker failed: ${e.message}`));
      };
      this.#worker.postMessage(req);
    });
  }
}

/** Reads newline-separated JSON values from a byte stream. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  // Parts of the line being read: a steady-phase result can be megabytes long, so only
  // each new chunk is searched for the end of the line.
  let parts: string[] = [];
  for await (const chunk of stream) {
    let text = decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      parts.push(text.slice(0, nl));
      text = text.slice(nl + 1);
      const line = parts.join("");
      parts = [];
      if (line.trim() !== "") yield JSON.parse(line);
    }
    if (text !== "") parts.push(text);
  }
}

const encoder = new TextEncoder();

/** A `LoadGroup` running in a child Deno process. */
export class ProcessGroup extends RemoteGroup {
  /** The child's PID (for its CPU time). */
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncGenerator<unknown>;

  private constructor(child: Deno.ChildProcess) {
    super("Generator process", true);
    this.#child = child;
    this.pid = child.pid;
    this.#writer = child.stdin.getWriter();
    this.#replies = jsonLines(child.stdout);
  }

  /**
   * Starts the child with RLIMIT_NOFILE `openFiles` (capped by the hard limit), pinned to
   * `cpus` if given, and builds its group.
   */
  static async start(
    options: GroupOptions,
    openFiles: number,
    cpus?: string,
  ): Promise<ProcessGroup> {
    const script = new URL("./remote_group.ts", import.meta.url).pathname;
    const deno = Deno.execPath();
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        `ulimit -n ${openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" run --quiet -A "$1"`,
        deno,
        script,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { QNET_BENCH_CPUS: cpus ?? "" },
    }).spawn();
    return await new ProcessGroup(child).init(options);
  }

  /** Ends the child: its stdin closes, and it is killed if it does not exit within 5 s. */
  protected async end(): Promise<void> {
    await this.#writer.close().catch(() => undefined);
    const kill = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }, 5000);
    await this.#child.status;
    clearTimeout(kill);
    await this.#child.stdout.cancel().catch(() => undefined);
  }

  protected async exchange(req: GroupRequest): Promise<GroupReply> {
    await this.#writer.write(encoder.encode(JSON.stringify(req) + "\n"));
    const { value, done } = await this.#replies.next();
    if (done) throw new Error(`Generator process ended before answering ${req.op}`);
    return value as GroupReply;
  }
}

/** True when this module runs as a Worker (not when imported by the main thread). */
const IN_WORKER = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";

/** The Worker's loop: one reply message per request message. */
function serveWorker(): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<GroupRequest>) => void) | null;
    postMessage(m: unknown): void;
  };
  const server = new GroupServer();
  scope.onmessage = async (e) => scope.postMessage(await server.handle(e.data));
}

/**
 * The child's loop: serves requests one after the other. Stdin is read all the time, so
 * that its end (the parent exited, e.g. at its hard deadline) ends this process at once
 * instead of leaving its clients running.
 */
async function serveChild(): Promise<void> {
  const cpus = Deno.env.get("QNET_BENCH_CPUS");
  if (cpus !== undefined && cpus !== "") await pinSelf(cpus);
  const server = new GroupServer();
  const writeAll = (m: unknown) => {
    let bytes = encoder.encode(JSON.stringify(m) + "\n");
    while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
  };
  let queue = Promise.resolve();
  for await (const value of jsonLines(Deno.stdin.readable)) {
    const req = value as GroupRequest;
    queue = queue.then(async () => {
      const reply = await server.handle(req);
      writeAll(reply);
      if (req.op === "close" && reply.error === undefined) Deno.exit(0);
    });
  }
  Deno.exit(0);
}

if (IN_WORKER) serveWorker();
else if (import.meta.main) await serveChild();
