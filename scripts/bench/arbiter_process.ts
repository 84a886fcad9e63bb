/**
 * Starts the arbiter under test from a command line, optionally pinned to CPUs with
 * `taskset` and always with RLIMIT_NOFILE raised for the run (`ulimit -n` in a `sh`
 * wrapper that then `exec`s, so the PID we hold is the arbiter's own), waits until its
 * port accepts, samples its CPU time and memory from /proc/PID, and stops it.
 *
 * Placeholders in the command: `{port}` (the TCP port), `{mport}` (the metrics port,
 * {@link METRICS_PORT_OFFSET} above it), `{dir}` (a fresh temporary
 * directory for the lock file and local socket, removed afterwards).
 *
 * @module
 */

/** CPU time and memory of a process, from /proc/PID/stat and /proc/PID/status. */
export interface ProcSample {
  /** utime + stime of every thread, in ms. */
  readonly cpuMs: number;
  /** Resident set size now, in KiB. */
  readonly rssKiB: number;
  /** Peak resident set size (VmHWM), in KiB. */
  readonly peakRssKiB: number;
}

/** The metrics port of an arbiter (`{mport}`) is this far above its TCP port. */
export const METRICS_PORT_OFFSET = 500;

let clockTicks: number | undefined;

/** `sysconf(_SC_CLK_TCK)`, asked once from `getconf`; 100 if that fails. */
function ticksPerSecond(): number {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).outputSync();
    clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/**
 * Reads a file under /proc. Deno grants /proc/<pid> only with --allow-all, so under the test
 * suite's explicit flags the read goes through `cat` (run is granted there).
 */
function readProcFile(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    const out = new Deno.Command("cat", { args: [path], stderr: "null" }).outputSync();
    if (!out.success) throw new Deno.errors.NotFound(path);
    return new TextDecoder().decode(out.stdout);
  }
}

/** Reads CPU time and memory of `pid`; null if the process is gone. */
export function readProcStats(pid: number): ProcSample | null {
  try {
    const stat = readProcFile(`/proc/${pid}/stat`);
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    const status = readProcFile(`/proc/${pid}/status`);
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return {
      cpuMs: (ticks * 1000) / ticksPerSecond(),
      rssKiB: kib("VmRSS"),
      peakRssKiB: kib("VmHWM"),
    };
  } catch {
    return null;
  }
}

/** The soft RLIMIT_NOFILE of `pid` (from /proc/PID/limits), or null. */
export function openFilesLimit(pid: number | "self"): { soft: number; hard: number } | null {
  try {
    const text = readProcFile(`/proc/${pid}/limits`);
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (m === null) return null;
    const num = (s: string | undefined) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    return null;
  }
}

/**
 * Raises this process's soft RLIMIT_NOFILE to `wanted` (capped at the hard limit) with
 * `prlimit --pid`. Returns the limit in force afterwards.
 */
export async function raiseOwnOpenFiles(wanted: number): Promise<number> {
  const now = openFilesLimit("self");
  if (now === null) return wanted;
  if (now.soft >= wanted) return now.soft;
  const target = Math.min(wanted, now.hard);
  const out = await new Deno.Command("prlimit", {
    args: ["--pid", String(Deno.pid), `--nofile=${target}:${now.hard}`],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ? target : now.soft;
}

/** Pins every thread of this process to `cpus` (a taskset CPU list such as "1" or "2-3"). */
export async function pinSelf(cpus: string): Promise<boolean> {
  const out = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", cpus, String(Deno.pid)],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ?? false;
}

/** How to start one arbiter. */
export interface ArbiterStart {
  readonly command: string;
  readonly port: number;
  /** taskset CPU list, or undefined for no pinning. */
  readonly cpus?: string;
  /** RLIMIT_NOFILE for the arbiter (capped by the hard limit). */
  readonly openFiles: number;
  readonly readyTimeoutMs: number;
}

/** Single-quotes a string for sh. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A running arbiter. */
export class ArbiterProcess implements AsyncDisposable {
  readonly pid: number;
  readonly dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #exited: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | null = null;
  #log = "";
  #pump: Promise<void>;
  #peakRssKiB = 0;
  #sampler: ReturnType<typeof setInterval> | undefined;

  private constructor(child: Deno.ChildProcess, dir: string) {
    this.#child = child;
    this.pid = child.pid;
    this.dir = dir;
    this.#exited = child.status.then((s) => (this.#status = s));
    const decoder = new TextDecoder();
    this.#pump = (async () => {
      for await (const chunk of child.stderr) {
        // Keep the tail only: with -f the daemon logs to stderr.
        this.#log = (this.#log + decoder.decode(chunk, { stream: true })).slice(-8192);
      }
    })().catch(() => undefined);
  }

  /** Starts the command and waits until `port` accepts connections. */
  static async start(s: ArbiterStart): Promise<ArbiterProcess> {
    const dir = Deno.makeTempDirSync({ prefix: "qnet-bench-" });
    const command = s.command.replaceAll("{port}", String(s.port)).replaceAll("{dir}", dir)
      .replaceAll("{mport}", String(s.port + METRICS_PORT_OFFSET));
    const pin = s.cpus === undefined ? "" : `taskset -c ${shQuote(s.cpus)} `;
    // `ulimit -n` above the hard limit fails: fall back to the hard limit.
    const script = `ulimit -n ${s.openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ` +
      `exec ${pin}${command}`;
    const child = new Deno.Command("sh", {
      args: ["-c", script],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
    const arbiter = new ArbiterProcess(child, dir);
    const until = performance.now() + s.readyTimeoutMs;
    for (;;) {
      if (arbiter.#status !== null) {
        await arbiter.#cleanup();
        throw new Error(`Arbiter exited with ${arbiter.#status.code} at start: ${arbiter.log}`);
      }
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: s.port })).close();
        break;
      } catch {
        if (performance.now() > until) {
          await arbiter.stop();
          throw new Error(`Arbiter did not accept on port ${s.port} in time: ${arbiter.log}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    arbiter.#sampler = setInterval(() => arbiter.sample(), 250);
    return arbiter;
  }

  /** The tail of what the arbiter wrote to stderr. */
  get log(): string {
    return this.#log;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#status === null;
  }

  /** CPU and memory now; the peak is the larger of VmHWM and what sampling saw. */
  sample(): ProcSample | null {
    const s = readProcStats(this.pid);
    if (s === null) return null;
    this.#peakRssKiB = Math.max(this.#peakRssKiB, s.rssKiB, s.peakRssKiB);
    return { ...s, peakRssKiB: this.#peakRssKiB };
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the temporary directory. */
  async stop(): Promise<Deno.CommandStatus> {
    clearInterval(this.#sampler);
    if (this.#status === null) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Exited meanwhile.
      }
    }
    const kill = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }, 5000);
    try {
      await this.#exited;
    } finally {
      clearTimeout(kill);
    }
    await this.#cleanup();
    return this.#status!;
  }

  async #cleanup(): Promise<void> {
    clearInterval(this.#sampler);
    await this.#exited;
    await this.#pump;
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // Already gone.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
