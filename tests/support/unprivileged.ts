/**
 * Runs `qnet qnetd` as an unprivileged user (uid/gid 65534, `nobody` on Debian) the way the
 * compiled binary runs: the launcher with the baked flags (scripts/compile.ts --print-flags),
 * the daemon in its worker with the set computed for its command line, for tests that start the
 * daemon themselves (tests/permissions/unprivileged_test.ts, and the interop harness through
 * {@link unprivilegedQnetdArgv}).
 *
 * The test runner is root; the daemon is not. Three things must be reachable by the daemon
 * user:
 * - the test's directory (lock file, socket, key directory, log): {@link prepareUnprivileged}
 *   gives it to that user;
 * - the Deno binary and the source tree: they must be world-readable where they are (the
 *   checkout normally is; /root is not, hence the check in {@link prepareUnprivileged});
 * - the npm packages Deno loads `mod.ts` with. Deno keeps them in DENO_DIR, by default
 *   `$HOME/.cache/deno`, which for root is under /root (mode 0700). Without a readable
 *   DENO_DIR, Deno downloads every package again at each start (from inside a network
 *   namespace it cannot). So {@link prepareUnprivileged} builds a private DENO_DIR in the
 *   test's directory: a copy of root's npm cache plus `deno cache mod.ts`, owned by root and
 *   world-readable. Deno 2.9.6 runs from a DENO_DIR it cannot write to: its SQLite caches
 *   fall back to memory ("Folder readonly" in DENO_LOG=debug), transpiled code is not saved,
 *   and nothing fails; `--cached-only` makes a missing package an error instead of a download.
 *
 * @module
 */
import { DEFAULT_CONFIG_FILE } from "../../cli/config_file.ts";
import { bakedFlags } from "../../cli/baked_flags.ts";

/** The daemon user's uid: 65534, `nobody`, present on every Debian system. */
export const UNPRIVILEGED_UID = 65534;

/** The daemon user's gid: 65534, `nogroup`. */
export const UNPRIVILEGED_GID = 65534;

const ROOT = new URL("../../", import.meta.url).pathname;

/** Where {@link prepareUnprivileged} puts the daemon's read-only Deno cache inside `dir`. */
export function denoDirOf(dir: string): string {
  return `${dir}/deno-dir`;
}

/** How the daemon is run, beyond its command line. */
export interface UnprivilegedOptions {
  /**
   * The configuration file, passed as QNETD_CONFIG_FILE and used to compute the permission
   * set; default the daemon's own default (/etc/corosync/qnetd/qnetd.toml).
   */
  readonly configFile?: string;
  /** More environment for the daemon, e.g. DENO_AUDIT_PERMISSIONS. */
  readonly env?: Readonly<Record<string, string>>;
}

function run(cmd: string, args: string[], env?: Record<string, string>): string {
  const out = new Deno.Command(cmd, {
    args,
    stdin: "null",
    ...(env === undefined ? {} : { env }),
  }).outputSync();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${text(out.stderr)}`);
  }
  return text(out.stdout);
}

/** Gives `path` and everything under it but `keep` to the daemon user (modes are kept). */
function chownTree(path: string, keep: string): void {
  if (path === keep) return;
  Deno.chownSync(path, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
  if (!Deno.lstatSync(path).isDirectory) return;
  for (const entry of Deno.readDirSync(path)) {
    if (!entry.isSymlink) chownTree(`${path}/${entry.name}`, keep);
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Throws unless every directory above `path` lets other users through. */
function assertTraversable(path: string): void {
  const parts = path.split("/").filter((p) => p !== "");
  for (let i = 0; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    const mode = Deno.statSync(dir).mode ?? 0;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `${dir} (mode ${(mode & 0o777).toString(8)}) keeps uid ${UNPRIVILEGED_UID} out of ` +
          `${path}: move it, or make ${dir} searchable by others`,
      );
    }
  }
}

/**
 * The argv (for `Deno.Command`, or after `ip netns exec NS`) that runs `deno <denoArgs>` as
 * uid/gid 65534 with no supplementary groups, no capabilities, no_new_privs, and an
 * environment of only what Deno and the daemon need. Every step execs, so the process's pid
 * is Deno's own.
 */
export function unprivilegedDenoArgv(
  dir: string,
  denoArgs: readonly string[],
  env: Readonly<Record<string, string>> = {},
): string[] {
  return [
    "setpriv",
    `--reuid=${UNPRIVILEGED_UID}`,
    `--regid=${UNPRIVILEGED_GID}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
    "env",
    "-i",
    `DENO_DIR=${denoDirOf(dir)}`,
    "DENO_NO_UPDATE_CHECK=1",
    "LC_ALL=C",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Deno.execPath(),
    ...denoArgs,
  ];
}

/**
 * The argv that runs `qnet qnetd <qnetdArgs>` as uid/gid 65534 as the binary runs: the
 * launcher with the baked flags (cli/baked_flags.ts), which runs the daemon in a worker with
 * the set computed for `qnetdArgs` and `configFile`: no -A, no prompt, cached packages only. `dir` must have been prepared
 * with {@link prepareUnprivileged}; the paths in `qnetdArgs` (lock file, socket, key
 * directory) must be inside it or otherwise reachable by that user.
 */
export function unprivilegedQnetdArgv(
  dir: string,
  qnetdArgs: readonly string[],
  options: UnprivilegedOptions = {},
): string[] {
  const configFile = options.configFile ?? DEFAULT_CONFIG_FILE;
  return unprivilegedDenoArgv(dir, [
    "run",
    "--quiet",
    "--no-prompt",
    "--cached-only",
    `--config=${ROOT}deno.json`,
    ...bakedFlags(),
    `${ROOT}mod.ts`,
    "qnetd",
    ...qnetdArgs,
  ], { QNETD_CONFIG_FILE: configFile, ...options.env });
}

/**
 * Prepares `dir` (an existing directory, typically from `Deno.makeTempDir`) for a daemon
 * started with {@link unprivilegedQnetdArgv}: gives `dir`, everything already in it and the
 * paths in `also` (e.g. a key directory elsewhere) to uid/gid 65534, so that the daemon can
 * create its lock file and socket and read a key directory made by `qnet certutil -i`, whose
 * key files keep their modes. Then builds the daemon's read-only DENO_DIR in
 * {@link denoDirOf}(dir), unless an earlier call did, and checks that the daemon user can
 * start `mod.ts` with it. Synchronous (about a second the first time), so a harness can call
 * it right before it spawns. Must run as root. Removing `dir` removes everything.
 *
 * @throws {Error} saying what the daemon user cannot reach.
 */
export function prepareUnprivileged(dir: string, also: readonly string[] = []): void {
  for (const path of [dir, ...also, `${ROOT}mod.ts`, Deno.execPath()]) assertTraversable(path);
  const denoDir = denoDirOf(dir);
  for (const path of [dir, ...also]) chownTree(path, denoDir);

  if (!isDirectory(denoDir)) {
    // Built under another name and renamed, so an interrupted build is never taken as ready.
    const building = Deno.makeTempDirSync({ dir, prefix: "deno-dir-" });
    const { npmCache } = JSON.parse(run(Deno.execPath(), ["info", "--json"])) as {
      npmCache: string;
    };
    // Root's npm cache, so that `deno cache` below needs no network.
    if (isDirectory(npmCache)) run("cp", ["-R", npmCache, `${building}/npm`]);
    run(Deno.execPath(), ["cache", "--quiet", `--config=${ROOT}deno.json`, `${ROOT}mod.ts`], {
      DENO_DIR: building,
      NO_COLOR: "1",
    });
    run("chmod", ["-R", "u=rwX,go=rX", building]);
    Deno.renameSync(building, denoDir);
  }

  const version = unprivilegedDenoArgv(dir, [
    "run",
    "--quiet",
    "--no-prompt",
    "--cached-only",
    `--config=${ROOT}deno.json`,
    ...bakedFlags(),
    `${ROOT}mod.ts`,
    "--version",
  ]);
  run(version[0]!, version.slice(1));
}
