/**
 * Starts an arbiter for a test: ours (`qnet qnetd`, run with the same permission set as the
 * shipped binary) or the real corosync-qnetd, with the same flags, on a loopback port, with its
 * lock file and local socket in a temporary directory. Both are driven by the same tests, so
 * every expectation is checked against the real thing where it is installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodePreinit } from "../../core/protocol/encode_client.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import { type Missing, needCQnetd } from "./precondition.ts";
import { WireConn } from "./wire_conn.ts";
import { QNET_RUN_ARGS } from "./qnet_command.ts";

/** Which arbiter to run. */
export type ArbiterKind = "qnet" | "c";

/** Both arbiters, ours first: a test matrix registers both, see {@linkcode needKind}. */
export const ARBITER_KINDS: readonly ArbiterKind[] = ["qnet", "c"];

/** Path of the real daemon from Debian's corosync-qnetd package. */
export const C_QNETD = "/usr/bin/corosync-qnetd";

/** What running `kind` needs from the machine: the C daemon needs its Debian package. */
export function needKind(kind: ArbiterKind): Missing {
  return kind === "c" ? needCQnetd() : undefined;
}

/** A running arbiter. Dispose it to stop it (SIGTERM, then SIGKILL) and remove its files. */
export interface RunningArbiter extends AsyncDisposable {
  readonly kind: ArbiterKind;
  readonly port: number;
  readonly socketPath: string;
  readonly dir: string;
  readonly process: Deno.ChildProcess;
  /** Everything the daemon wrote to stderr so far (its log with -f). */
  stderr(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /**
   * Asserts that the daemon is still running and serving: a fresh TCP connection gets a
   * PREINIT reply (allowed in plain text under every -s mode). A refusal check ends with it, so
   * that a daemon that hung or crashed on the refused input cannot pass as "refused".
   */
  assertServing(): Promise<void>;
}

/** How long a serving daemon may take to answer one PREINIT: a hang, not a slow reply. */
const SERVING_TIMEOUT_MS = 5000;

/** Options beyond the port: extra qnetd flags (e.g. ["-s", "off"]) and -S settings. */
export interface StartOptions {
  readonly port: number;
  readonly args?: readonly string[];
  readonly settings?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** Where the daemon is reached over TCP once it runs (default 127.0.0.1). */
  readonly hostname?: string;
}

/** The command line that starts `kind` with `options` (without the -S lock/socket part). */
function command(kind: ArbiterKind): { cmd: string; args: string[] } {
  if (kind === "c") return { cmd: C_QNETD, args: [] };
  return {
    cmd: Deno.execPath(),
    args: [...QNET_RUN_ARGS, "qnetd"],
  };
}

/** Starts an arbiter and waits until its local socket answers. */
export async function startArbiter(
  kind: ArbiterKind,
  options: StartOptions,
): Promise<RunningArbiter> {
  const dir = Deno.makeTempDirSync({ prefix: `qnet-${kind}-` });
  const socketPath = `${dir}/qnetd.sock`;
  const settings = {
    "lock_file": `${dir}/qnetd.pid`,
    "local_socket_file": socketPath,
    ...options.settings,
  };
  const s = Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(",");
  const { cmd, args } = command(kind);
  const child = new Deno.Command(cmd, {
    args: [...args, "-f", "-p", String(options.port), ...(options.args ?? []), "-S", s],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { LC_ALL: "C", ...options.env },
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  let status: Deno.CommandStatus | undefined;
  const exited = child.status.then((s) => (status = s));
  const arbiter: RunningArbiter = {
    kind,
    port: options.port,
    socketPath,
    dir,
    process: child,
    stderr: () => log,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (status === undefined) {
        try {
          child.kill(signal);
        } catch {
          // Exited meanwhile.
        }
      }
      const deadline = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }, 5000);
      try {
        await exited;
      } finally {
        clearTimeout(deadline);
      }
      await pump;
      return status!;
    },
    async assertServing() {
      assert.equal(status, undefined, `the ${kind} daemon exited (${status?.code}):\n${log}`);
      using conn = await WireConn.connect(options.port);
      await conn.write(encodePreinit({ seqNumber: 1, clusterName: "serving-probe" }));
      const r = await conn.readMessage(SERVING_TIMEOUT_MS);
      assert.equal(r.kind, "data", `the ${kind} daemon does not answer PREINIT:\n${log}`);
      const d = decodeMsg(r.kind === "data" ? r.bytes : new Uint8Array());
      assert.ok(d.ok && d.msg.type === MsgType.PreinitReply, `not a PREINIT reply:\n${log}`);
    },
    async [Symbol.asyncDispose]() {
      await this.stop();
      Deno.removeSync(dir, { recursive: true });
    },
  };
  // Ready when both the local socket and the TCP port accept; give up after 20 s.
  const until = Date.now() + 20_000;
  for (;;) {
    if (status !== undefined) {
      await pump;
      Deno.removeSync(dir, { recursive: true });
      throw new Error(`${kind} arbiter exited with ${status.code} at start:\n${log}`);
    }
    try {
      (await Deno.connect({ transport: "unix", path: socketPath })).close();
      (await Deno.connect({ hostname: options.hostname ?? "127.0.0.1", port: options.port }))
        .close();
      return arbiter;
    } catch {
      if (Date.now() > until) {
        await arbiter[Symbol.asyncDispose]();
        throw new Error(`${kind} arbiter did not start within 20 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
