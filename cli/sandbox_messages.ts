/**
 * The messages between the launcher (cli/sandbox.ts) and the sandbox worker
 * (cli/sandbox_worker.ts).
 *
 * @module
 */
import type { AppliedRule } from "./permission_sets.ts";

/** Launcher to worker: what to run; then, once the launcher holds nothing, run it. */
export type ToWorker =
  | {
    readonly type: "init";
    readonly args: string[];
    readonly programName: string;
    readonly rows: readonly AppliedRule[];
    readonly detached: boolean;
    /** The launcher's working directory, against which relative paths were granted. */
    readonly cwd: string;
  }
  | { readonly type: "run" };

/** Worker to launcher: modules loaded; the process's exit code. */
export type FromWorker =
  | { readonly type: "loaded" }
  | { readonly type: "exit"; readonly code: number };
