/**
 * The launcher: what the `qnet` executable runs first. It holds the widest grants any valid
 * command line may need (cli/permission_sets.ts widestSet(), baked into the binary by
 * scripts/compile.ts) and runs no subcommand code with them. It:
 *
 * 1. finds the subcommand and reads its command line (for the daemon: also its configuration
 *    file and the QNETD_CONFIG_FILE environment variable);
 * 2. computes the least set for exactly that invocation (cli/permission_sets.ts);
 * 3. for the daemon without -f, starts a detached copy of itself first and returns once
 *    that one is ready (cli/daemon_mode.ts);
 * 4. starts the subcommand in a Worker created with exactly that set
 *    (`deno: { permissions }`, needs --unstable-worker-options), lets it load its modules,
 *    revokes every permission it holds itself, and then lets it run;
 * 5. ends the process with the subcommand's exit code.
 *
 * stdin, stdout and stderr are the process's: the worker reads and writes them directly.
 * Signals go to whoever listens in the process: the daemon's handlers in the worker.
 *
 * @module
 */
import { configFilePath, DEFAULT_CONFIG_FILE } from "./config_file.ts";
import { daemonizes, startDetached } from "./daemon_mode.ts";
import { ExitStatus } from "./exit_status.ts";
import {
  commandLinePermissions,
  type ComputedPermissions,
  DETACHED_ENV,
  PERMISSION_KINDS,
  type PermissionSet,
} from "./permission_sets.ts";
import { dispatchOf } from "./subcommands.ts";
import type { FromWorker, ToWorker } from "./sandbox_messages.ts";

/** Every permission name the launcher gives up once the worker has loaded. */
const ALL_PERMISSIONS = [...PERMISSION_KINDS, "import"] as const;

/** Gives up every permission this process holds. */
export async function revokeAll(): Promise<void> {
  for (const name of ALL_PERMISSIONS) {
    await Deno.permissions.revoke({ name } as Deno.PermissionDescriptor);
  }
}

/** The Worker `permissions` option granting exactly `set` and nothing else. */
export function workerPermissions(set: PermissionSet): Deno.PermissionOptionsObject {
  const options: Record<string, string[] | false> = { import: false };
  for (const kind of PERMISSION_KINDS) options[kind] = set[kind] ?? false;
  return options as Deno.PermissionOptionsObject;
}

/** What {@link runInWorker} needs. */
export interface SandboxRun {
  /** The process's arguments and the name it was invoked as. */
  readonly args: string[];
  readonly programName: string;
  /** The name messages carry. */
  readonly program: string;
  readonly computed: ComputedPermissions;
  /** The detached daemon (started without -f): tell the starter when ready. */
  readonly detached: boolean;
  /** The worker's module (default cli/sandbox_worker.ts; tests put a probe there). */
  readonly workerUrl?: URL;
}

/**
 * Runs the command line in a worker holding `run.computed.set`; resolves with its exit
 * code. The launcher's own permissions are revoked once the worker has loaded its modules.
 */
export function runInWorker(run: SandboxRun): Promise<number> {
  const done = Promise.withResolvers<number>();
  let worker: Worker;
  try {
    worker = new Worker(run.workerUrl ?? new URL("./sandbox_worker.ts", import.meta.url), {
      type: "module",
      name: run.program,
      deno: { permissions: workerPermissions(run.computed.set) },
    });
  } catch (error) {
    Deno.stderr.writeSync(new TextEncoder().encode(launchError(run, error)));
    return Promise.resolve(ExitStatus.Failure);
  }
  const send = (message: ToWorker) => worker.postMessage(message);
  worker.onmessage = async (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === "loaded") {
      await revokeAll();
      send({ type: "run" });
    } else if (message.type === "exit") {
      done.resolve(message.code);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    Deno.stderr.writeSync(new TextEncoder().encode(`${run.program}: ${event.message}\n`));
    done.resolve(ExitStatus.Failure);
  };
  send({
    type: "init",
    args: run.args,
    programName: run.programName,
    rows: run.computed.rows,
    detached: run.detached,
    cwd: Deno.cwd(),
  });
  return done.promise;
}

function launchError(run: SandboxRun, error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `${run.program}: cannot start the subcommand with the permissions its command line ` +
    `needs (${JSON.stringify(run.computed.set)}): ${text}\n` +
    `This process must hold them first: run the qnet executable, or under deno run pass the ` +
    `flags printed by scripts/compile.ts --print-flags.\n`;
}

/** Runs the process's command line (see the module text) and ends the process. */
export async function launch(args: string[], programName: string): Promise<never> {
  const dispatch = dispatchOf(args, programName);
  const daemon = dispatch.subcommand === "qnetd";
  const configFile = daemon ? configFilePath() : DEFAULT_CONFIG_FILE;
  const computed = await commandLinePermissions(dispatch.subcommand, dispatch.args, configFile);
  const detaches = daemon && daemonizes(dispatch.args);
  // The copy a starter made (cli/daemon_mode.ts); with -f the mark means nothing.
  const detached = detaches && Deno.env.get(DETACHED_ENV) === "1";
  if (detaches && !detached) Deno.exit(await startDetached(revokeAll));
  Deno.exit(
    await runInWorker({ args, programName, program: dispatch.program, computed, detached }),
  );
}
