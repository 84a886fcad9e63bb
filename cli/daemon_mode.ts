/**
 * The daemon without -f, as the C daemon: the process that was started returns once the
 * daemon is ready (lock held, keys loaded, both sockets bound) with exit code 0, or with
 * the start-up error on stderr and the daemon's exit code (1) if it fails; the daemon runs
 * on. Deno has no fork(): the starter runs its own command line again as a detached process
 * (a new session, stdin and stdout on /dev/null, stderr a pipe to the starter) with
 * QNET_DETACHED=1. That copy is a launcher like any other (its worker gets the same computed
 * permissions), writes its pid into the lock file as the daemon, and writes
 * {@link READY_MARKER} last on stderr when it serves (cli/sandbox_worker.ts), after which it
 * writes nothing more there.
 *
 * The copy is started through the path and name this process was started as (argv[0]):
 * `start-stop-daemon --name corosync-qnetd --exec /usr/bin/corosync-qnetd` then finds it,
 * as Debian's init script expects.
 *
 * @module
 */
import process from "node:process";
import { bakedFlags } from "./baked_flags.ts";
import { ExitStatus } from "./exit_status.ts";
import { parseQnetdArgs } from "./qnetd_args.ts";
import { DETACHED_ENV } from "./permission_sets.ts";
import { READY_MARKER } from "./readiness.ts";

/** True when `args` (valid daemon options) start a daemon that detaches (no -f). */
export function daemonizes(args: readonly string[]): boolean {
  const parsed = parseQnetdArgs(args);
  return parsed.ok && !parsed.options.foreground;
}

/**
 * The command line that runs this process again: the name it was started as (so that the
 * copy has the same name and executable), and under `deno run` the baked flags and the
 * main module (cli/baked_flags.ts).
 */
export function ownCommandLine(): string[] {
  if (Deno.build.standalone) return [process.argv0, ...Deno.args];
  return [
    process.argv0,
    "run",
    "--quiet",
    "--no-prompt",
    ...bakedFlags(),
    new URL(Deno.mainModule).pathname,
    ...Deno.args,
  ];
}

/**
 * Starts the detached daemon and relays its stderr until it is ready or has ended;
 * `dropPermissions` runs once it is started (the starter needs nothing more). Resolves with
 * the exit code for the starter: 0 once the daemon is ready, else the daemon's.
 */
export async function startDetached(dropPermissions: () => Promise<void>): Promise<number> {
  const [command, ...args] = ownCommandLine();
  const child = new Deno.Command(command!, {
    args,
    env: { [DETACHED_ENV]: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  await dropPermissions();
  const ready = await relayUntilReady(child.stderr, (bytes) => writeAll(Deno.stderr, bytes));
  if (ready) return ExitStatus.Success;
  const status = await child.status;
  if (status.success) return ExitStatus.Success;
  return status.code === 0 ? ExitStatus.Failure : status.code;
}

/**
 * Copies `stream` to `write` up to {@link READY_MARKER}; true when the marker came, false
 * when the stream ended first.
 */
export async function relayUntilReady(
  stream: ReadableStream<Uint8Array>,
  write: (bytes: Uint8Array) => void,
): Promise<boolean> {
  const marker = new TextEncoder().encode(READY_MARKER);
  const reader = stream.getReader();
  let pending = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      if (pending.length > 0) write(pending);
      return false;
    }
    const joined = new Uint8Array(pending.length + value.length);
    joined.set(pending);
    joined.set(value, pending.length);
    const at = indexOf(joined, marker);
    if (at >= 0) {
      if (at > 0) write(joined.subarray(0, at));
      reader.releaseLock();
      return true;
    }
    // Keep what could be the start of a marker split across reads.
    const keep = Math.min(joined.length, marker.length - 1);
    write(joined.subarray(0, joined.length - keep));
    pending = joined.slice(joined.length - keep);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}
