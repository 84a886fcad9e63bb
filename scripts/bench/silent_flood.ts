/**
 * The silent-connection flood of issue 17 (finding 1) and the probe that measures what a real
 * client sees meanwhile: TCP connections opened at a fixed rate, each held open a fixed time
 * without sending a byte, for a bounded duration; and a probe that connects, sends PREINIT and
 * times the reply. Used by `scripts/bench/main.ts --flood` and tests/daemon/flood_test.ts.
 *
 * The flood runs in a process of its own ({@linkcode floodProcess}), so that its connects do not
 * delay the probe's timers, and a whole run goes into a network namespace of its own
 * ({@linkcode runScenarioIsolated}). As a program: `silent_flood.ts flood|scenario '<JSON>'`
 * prints the {@linkcode FloodResult} or {@linkcode ScenarioResult} as JSON.
 *
 * @module
 */
import { encodePreinit } from "../../core/protocol/encode_client.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import { ArbiterProcess } from "./arbiter_process.ts";
import { processIo } from "../../cli/io.ts";

/** What the flood does: `ratePerSec` connections a second, each held `holdMs`, for `durationMs`. */
export interface FloodOptions {
  readonly hostname?: string;
  readonly port: number;
  readonly ratePerSec: number;
  readonly holdMs: number;
  readonly durationMs: number;
}

/** What the flood managed: connections established, and connects that failed or timed out. */
export interface FloodResult {
  readonly opened: number;
  readonly failed: number;
}

/** The flood's rates of issue 17: about what the admission window drained before the fix. */
export const FLOOD_RATE = { tls: 100, plain: 800 } as const;
/** How long each silent connection is held open. */
export const FLOOD_HOLD_MS = 3000;
/** A connect that takes longer than this counts as failed (and is closed if it completes). */
const CONNECT_TIMEOUT_MS = 3000;
/** The flood's clock: connections due are opened every tick. */
const TICK_MS = 10;

/** Runs the flood; resolves once every connection it opened is closed again. */
export async function silentFlood(o: FloodOptions): Promise<FloodResult> {
  const hostname = o.hostname ?? "127.0.0.1";
  let started = 0;
  let opened = 0;
  let failed = 0;
  const pending: Promise<void>[] = [];
  const open = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = Deno.connect({ hostname, port: o.port });
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), CONNECT_TIMEOUT_MS);
    });
    const conn = await Promise.race([connecting, timeout]).catch(() => "failed" as const);
    clearTimeout(timer);
    if (typeof conn === "string") {
      failed++;
      // A connect that completes after its timeout is closed at once.
      connecting.then((c) => c.close(), () => {});
      return;
    }
    opened++;
    await new Promise((r) => setTimeout(r, o.holdMs));
    try {
      conn.close();
    } catch {
      // Closed by the daemon and already released.
    }
  };
  const begin = performance.now();
  // Bounded: the loop ends after durationMs, with at most rate × duration connections.
  const total = Math.ceil((o.ratePerSec * o.durationMs) / 1000);
  while (started < total) {
    const elapsed = performance.now() - begin;
    if (elapsed >= o.durationMs) break;
    const due = Math.min(total, Math.floor((elapsed * o.ratePerSec) / 1000) + 1);
    for (; started < due; started++) pending.push(open());
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(pending);
  return { opened, failed };
}

/** One probe: PREINIT → PREINIT_REPLY on a fresh connection. Times in ms. */
export type ProbeResult =
  | { readonly ok: true; readonly connectMs: number; readonly replyMs: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Connects, sends PREINIT and waits for the reply (at most `timeoutMs` in all). `replyMs`
 * is from the PREINIT write to the whole reply, `connectMs` the TCP connect before it.
 */
export async function probePreinit(
  port: number,
  timeoutMs: number,
  hostname = "127.0.0.1",
): Promise<ProbeResult> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  let conn: Deno.TcpConn | undefined;
  const connecting = Deno.connect({ hostname, port });
  try {
    const c = await Promise.race([connecting, timeout]);
    if (c === "timeout") {
      connecting.then((late) => late.close(), () => {});
      return { ok: false, reason: "connect timeout" };
    }
    conn = c;
    conn.setNoDelay(true);
    const t1 = performance.now();
    await conn.write(encodePreinit({ seqNumber: 1, clusterName: "flood-probe" }));
    const header = new Uint8Array(6);
    let got = 0;
    let need = header.length;
    const body = new Uint8Array(4096);
    while (got < need) {
      const into = got < header.length ? header.subarray(got) : body.subarray(got - 6, need - 6);
      const n = await Promise.race([conn.read(into), timeout]);
      if (n === "timeout") return { ok: false, reason: "reply timeout" };
      if (n === null) return { ok: false, reason: "closed" };
      got += n;
      if (got === header.length) {
        const view = new DataView(header.buffer);
        if (view.getUint16(0) !== MsgType.PreinitReply) {
          return { ok: false, reason: `reply type ${view.getUint16(0)}` };
        }
        need = header.length + Math.min(view.getUint32(2), body.length);
      }
    }
    return { ok: true, connectMs: t1 - t0, replyMs: performance.now() - t1 };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed already.
    }
  }
}

/**
 * Probes every `intervalMs` until `durationMs` has passed (bounded by both), one probe at a
 * time, and returns every result in order.
 */
export async function probeDuring(
  port: number,
  o: { readonly intervalMs: number; readonly durationMs: number; readonly timeoutMs: number },
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const end = performance.now() + o.durationMs;
  const max = Math.ceil(o.durationMs / o.intervalMs);
  while (results.length < max && performance.now() < end) {
    const next = performance.now() + o.intervalMs;
    results.push(await probePreinit(port, o.timeoutMs));
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return results;
}

/** The flood in a child process (same network namespace); resolves with its result. */
export async function floodProcess(o: FloodOptions): Promise<FloodResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      import.meta.filename!,
      "flood",
      JSON.stringify(o),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`flood process failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as FloodResult;
}

/** One run: an arbiter, the flood against it, and the probes meanwhile. */
export interface ScenarioOptions {
  /** The arbiter's command line, with {port} and {dir} as in scripts/bench (arbiter_process.ts). */
  readonly command: string;
  readonly port: number;
  readonly ratePerSec: number;
  readonly holdMs: number;
  readonly floodMs: number;
  /** Probing starts this long after the flood (once the holds have piled up). */
  readonly probeAfterMs: number;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
}

/** What one run measured. */
export interface ScenarioResult {
  readonly flood: FloodResult;
  readonly probes: ProbeResult[];
  /** A probe after the flood: the arbiter still serves. */
  readonly after: ProbeResult;
  /** The tail of the arbiter's log. */
  readonly log: string;
}

/** Runs one scenario in this process's network namespace. */
export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using arbiter = await ArbiterProcess.start({
    command: o.command,
    port: o.port,
    openFiles: Math.ceil((o.ratePerSec * o.holdMs) / 1000) * 2 + 1024,
    readyTimeoutMs: 20_000,
  });
  // The arbiter answers PREINIT before the flood starts (the TLS daemons load keys first).
  for (let i = 0; i < 100 && !(await probePreinit(o.port, 1000)).ok; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const flood = floodProcess({
    port: o.port,
    ratePerSec: o.ratePerSec,
    holdMs: o.holdMs,
    durationMs: o.floodMs,
  });
  await new Promise((r) => setTimeout(r, o.probeAfterMs));
  const probes = await probeDuring(o.port, {
    intervalMs: o.probeIntervalMs,
    durationMs: o.floodMs - o.probeAfterMs,
    timeoutMs: o.probeTimeoutMs,
  });
  const floodResult = await flood;
  const after = await probePreinit(o.port, o.probeTimeoutMs);
  return { flood: floodResult, probes, after, log: arbiter.log };
}

/**
 * Runs one scenario in a network namespace of its own (`unshare --net`, loopback up): the
 * flood's thousands of ephemeral ports then cannot collide with ports other programs on the
 * machine bind, and the namespace disappears with the run. Needs root or user namespaces.
 */
export async function runScenarioIsolated(o: ScenarioOptions): Promise<ScenarioResult> {
  const userns = Deno.uid() === 0 ? [] : ["--map-root-user"];
  const out = await new Deno.Command("unshare", {
    args: [
      "--net",
      ...userns,
      "--",
      "sh",
      "-c",
      'ip link set lo up && exec "$0" "$@"',
      Deno.execPath(),
      "run",
      "--quiet",
      "-A",
      import.meta.filename!,
      "scenario",
      JSON.stringify(o),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `flood scenario failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ScenarioResult;
}

if (import.meta.main) {
  const [mode, json] = Deno.args;
  if (mode === "flood" && json !== undefined) {
    processIo.out(`${JSON.stringify(await silentFlood(JSON.parse(json) as FloodOptions))}\n`);
  } else if (mode === "scenario" && json !== undefined) {
    processIo.out(`${JSON.stringify(await runScenario(JSON.parse(json) as ScenarioOptions))}\n`);
  } else {
    processIo.err("usage: silent_flood.ts flood|scenario '<JSON options>'\n");
    Deno.exit(2);
  }
  Deno.exit(0);
}
