/**
 * The flags the `qnet` executable is built with (scripts/compile.ts bakes them in, its
 * `--print-flags` prints them): the widest grants (cli/permission_sets.ts widestFlags()),
 * worker permissions, and V8's flags. The same flags under `deno run` run what the binary
 * runs; the daemon started without -f passes them to its detached copy under `deno run`.
 *
 * @module
 */
import { widestFlags } from "./permission_sets.ts";

/** Worker permissions (`new Worker(url, { deno: { permissions } })`) are behind this flag. */
export const WORKER_FLAG = "--unstable-worker-options";

/**
 * V8 flags baked into the binary; the same as the `qnetd` task of deno.json and
 * scripts/start (tests/permissions/permission_sets_test.ts keeps them equal). A 2 MiB young
 * generation: V8's default grows it to ~40 MB during a reconnect storm and keeps it. Memory
 * saver mode: V8 collects and compacts the old generation sooner, which holds the resident
 * memory per client near what the clients really use (about 4 KiB instead of 11 KiB at
 * 4,000 plain clients) for a storm about twice as slow (still a tenth of the C daemon's).
 * See README, "Performance".
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=2,--memory-saver-mode";

/** Everything the binary is built with besides its modules. */
export function bakedFlags(): string[] {
  return [WORKER_FLAG, V8_FLAGS, ...widestFlags()];
}
