/**
 * The sandbox worker: runs one `qnet` command line with exactly the permissions the launcher
 * (cli/sandbox.ts) computed for it. It first loads every module the subcommand may need
 * (Deno checks module loads against the launcher's permissions, which are revoked next),
 * says so, and runs the command line when told. Its exit code, or an exit requested by
 * the subcommand (a closed stdout, cli/io.ts), goes back to the launcher, which ends the
 * process: `Deno.exit` in a worker would end the worker only.
 *
 * @module
 */
import { ExitStatus } from "./exit_status.ts";
import { closeStderr, closeStderrWhenBroken, processIo, setProcessExit } from "./io.ts";
import { setWorkingDirectory } from "./privilege_drop.ts";
import { onDaemonReady, READY_MARKER } from "./readiness.ts";
import { dispatchOf, LATE_MODULES, run, SUBCOMMANDS } from "./subcommands.ts";
import type { FromWorker, ToWorker } from "./sandbox_messages.ts";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
let init: Extract<ToWorker, { type: "init" }> | undefined;

/** Ends the process through the launcher; this thread waits for the end. */
function exitThroughLauncher(code: number): never {
  scope.postMessage({ type: "exit", code });
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function start(message: Extract<ToWorker, { type: "init" }>): Promise<void> {
  init = message;
  setProcessExit(exitThroughLauncher);
  setWorkingDirectory(message.cwd);
  const { subcommand } = dispatchOf(message.args, message.programName);
  if (subcommand !== undefined) {
    await SUBCOMMANDS[subcommand]!();
    await LATE_MODULES[subcommand]?.();
  }
  if (message.detached) {
    closeStderrWhenBroken();
    onDaemonReady(() => {
      processIo.err(READY_MARKER);
      closeStderr();
    });
  }
  scope.postMessage({ type: "loaded" });
}

async function runCommandLine(): Promise<void> {
  const { args, programName, rows } = init!;
  let code: number;
  try {
    code = await run(args, processIo, programName, rows);
  } catch (error) {
    const text = error instanceof Error ? error.stack ?? error.message : String(error);
    processIo.err(`error: Uncaught ${text}\n`);
    code = ExitStatus.Failure;
  }
  scope.postMessage({ type: "exit", code });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") void start(message);
  else void runCommandLine();
};
