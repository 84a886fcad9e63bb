/**
 * Runs a `LoadGroup` in a child process, and the parent-side proxy for it
 * (`ProcessGroup`). Workers share their process's RLIMIT_NOFILE, whose hard limit may be
 * below the number of clients (20,000 on the benchmark host), so large runs spread the
 * clients over processes. Protocol: one JSON request per line on the child's stdin, one JSON
 * line `{ result }` or `{ error }` back on its stdout; stderr is passed through.
 *
 * Run as a child: `deno run -A scripts/bench/load_process.ts` (started by `ProcessGroup`).
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

type Request =
  | { op: "init"; options: GroupOptions }
  | { op: "storm"; timeoutMs: number; fraction: number }
  | { op: "steady"; durationMs: number; graceMs: number }
  | { op: "close" };

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

/**
 * The child's loop: serves requests one after the other. Stdin is read all the time, so
 * that its end (the parent exited, e.g. at its hard deadline) ends this process at once
 * instead of leaving its clients running.
 */
async function serveChild(): Promise<void> {
  const cpus = Deno.env.get("QNET_BENCH_CPUS");
  if (cpus !== undefined && cpus !== "") await pinSelf(cpus);
  let group: LoadGroup | null = null;
  const writeAll = (m: unknown) => {
    let bytes = encoder.encode(JSON.stringify(m) + "\n");
    while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
  };
  const serve = async (req: Request): Promise<void> => {
    try {
      switch (req.op) {
        case "init":
          group = new LoadGroup(req.options);
          writeAll({ result: null });
          return;
        case "storm":
          writeAll({ result: await group!.storm(req.timeoutMs, req.fraction) });
          return;
        case "steady":
          writeAll({ result: await group!.steady(req.durationMs, req.graceMs) });
          return;
        case "close":
          await group?.close();
          writeAll({ result: null });
          Deno.exit(0);
      }
    } catch (err) {
      writeAll({ error: String((err as Error)?.stack ?? err) });
    }
  };
  let queue = Promise.resolve();
  for await (const value of jsonLines(Deno.stdin.readable)) {
    queue = queue.then(() => serve(value as Request));
  }
  Deno.exit(0);
}

/** A `LoadGroup` running in a child Deno process. */
export class ProcessGroup implements GroupHandle {
  /** The child's PID (for its CPU time). */
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncGenerator<unknown>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: Deno.ChildProcess) {
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
    const script = new URL("./load_process.ts", import.meta.url).pathname;
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
    const group = new ProcessGroup(child);
    await group.#call({ op: "init", options });
    return group;
  }

  storm(timeoutMs: number, fraction = 1): Promise<StormResult> {
    return this.#call({ op: "storm", timeoutMs, fraction }) as Promise<StormResult>;
  }

  steady(durationMs: number, graceMs: number): Promise<SteadyResult> {
    return this.#call({ op: "steady", durationMs, graceMs }) as Promise<SteadyResult>;
  }

  /** Closes the clients, then ends the child (killed if it does not exit within 5 s). */
  async close(): Promise<void> {
    try {
      await this.#call({ op: "close" });
    } catch {
      // The child is gone already: nothing to close.
    } finally {
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
  }

  #call(req: Request): Promise<unknown> {
    const next = this.#queue.then(async () => {
      await this.#writer.write(encoder.encode(JSON.stringify(req) + "\n"));
      const { value, done } = await this.#replies.next();
      if (done) throw new Error(`Generator process ended before answering ${req.op}`);
      const reply = value as { result?: unknown; error?: string };
      if (reply.error !== undefined) throw new Error(`Generator process failed: ${reply.error}`);
      return reply.result;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

if (import.meta.main) await serveChild();
