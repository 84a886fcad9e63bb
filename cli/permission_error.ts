/**
 * Turns a `Deno.errors.NotCapable` (an access outside the permissions the launcher computed
 * for this command line, cli/permission_sets.ts) into one line a user of the binary can act
 * on: which access, to which path or address, and the option that led to the nearest grant,
 * instead of an uncaught error and its stack trace. Never a `--allow-*` flag: those mean
 * something under `deno run` only. cli/subcommands.ts applies it to every subcommand; the
 * exit code is then 1.
 *
 * @module
 */
import { basename, dirname } from "../core/path.ts";
import type { AppliedRule, PermissionKind } from "./permission_sets.ts";

/** A permission Deno refused, as read from its error message. */
export interface MissingPermission {
  /** `read`, `write`, `net`, `ffi`, `run`, `sys`, `env`, ... */
  readonly kind: string;
  /** The path, `host:port`, `unix:/path`, program or variable; undefined when unscoped. */
  readonly target: string | undefined;
}

/** The NotCapable error in `error` or its chain of causes, if any. */
export function findNotCapable(error: unknown): Deno.errors.NotCapable | undefined {
  for (let e = error, depth = 0; e !== undefined && depth < 8; depth++) {
    if (e instanceof Deno.errors.NotCapable) return e;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

// Deno 2.9: `Requires net access to "[::]:5404", run again with the --allow-net flag`.
const REQUIRES = /^Requires (\w+) access(?: to "(.*)")?, run again with the --allow-\w+ flag/;

/** What a NotCapable message asks for; undefined for a message of another shape. */
export function parseNotCapable(message: string): MissingPermission | undefined {
  const match = REQUIRES.exec(message);
  if (match === null) return undefined;
  const [, kind = "", target] = match;
  return { kind, target };
}

/**
 * How near a granted value is to the refused one: 3 the same, 2 one inside the other, 1 the
 * same directory or host (for libraries: another path of the same library), 0 unrelated.
 */
function nearness(kind: string, granted: string, refused: string): number {
  if (granted === refused) return 3;
  // Libraries share a directory: only the same library (another path of it) is near.
  if (kind === "ffi") return basename(granted) === basename(refused) ? 1 : 0;
  if (kind === "net") {
    const unix = (v: string) => v.startsWith("unix:");
    if (unix(granted) && unix(refused)) {
      return nearness("read", granted.slice("unix:".length), refused.slice("unix:".length));
    }
    const host = (v: string) => unix(v) ? v : v.slice(0, v.lastIndexOf(":"));
    return host(granted) === host(refused) ? 1 : 0;
  }
  if (refused.startsWith(`${granted}/`) || granted.startsWith(`${refused}/`)) return 2;
  return dirname(granted) === dirname(refused) ? 1 : 0;
}

/**
 * The row whose grant is nearest to the refused access: the same value first, then a path
 * inside the other, then the same directory or host; the same kind before another kind.
 */
export function nearestRule(
  missing: MissingPermission,
  rows: readonly AppliedRule[],
): AppliedRule | undefined {
  if (missing.target === undefined) {
    return rows.find((row) => row.grant[missing.kind as PermissionKind] !== undefined);
  }
  const target = missing.target;
  const pathOf = (v: string) => v.startsWith("unix:") ? v.slice("unix:".length) : v;
  let best: { row: AppliedRule; score: number } | undefined;
  for (const row of rows) {
    for (const [kind, values] of Object.entries(row.grant) as [string, string[] | undefined][]) {
      for (const value of values ?? []) {
        const same = kind === missing.kind;
        const near = same
          ? nearness(kind, value, target)
          : value.includes("/")
          ? nearness("read", pathOf(value), pathOf(target))
          : 0;
        // The same kind counts before another kind at equal nearness.
        const score = near === 0 ? 0 : near * 2 + (same ? 1 : 0);
        if (score > (best?.score ?? 0)) best = { row, score };
      }
    }
  }
  return best?.row;
}

/**
 * The line to print for a refused access, e.g.
 * `corosync-qnetd: access refused: read of "/etc/q/nssdb/x" (-S nss_db_dir: the server key
 * and certificates are loaded at start (TLS on); only what start-up needs is granted)`.
 */
export function formatMissingPermission(
  program: string,
  error: Deno.errors.NotCapable,
  rows: readonly AppliedRule[],
): string {
  const missing = parseNotCapable(error.message);
  if (missing === undefined) {
    return `${program}: access refused: ${firstLine(error.message)}\n`;
  }
  const what = missing.target === undefined
    ? `${missing.kind} access`
    : `${missing.kind} access to "${missing.target}"`;
  const row = nearestRule(missing, rows);
  const why = row === undefined
    ? "no option of this command line needs it"
    : `nearest grant: ${describeGrant(row)}, from ${row.option}: ${row.why}`;
  return `${program}: access refused: ${what} (${why})\n`;
}

function describeGrant(row: AppliedRule): string {
  return Object.entries(row.grant)
    .map(([kind, values]: [string, string[] | undefined]) =>
      `${kind} ${(values ?? []).map((v) => `"${v}"`).join(", ")}`
    )
    .join("; ");
}

/**
 * The line for `error` when it is (or was caused by) a refused permission, else undefined:
 * the caller then lets the error go on.
 */
export function permissionErrorLine(
  error: unknown,
  program: string,
  rows: readonly AppliedRule[],
): string | undefined {
  const notCapable = findNotCapable(error);
  return notCapable === undefined ? undefined : formatMissingPermission(program, notCapable, rows);
}

function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? text : text.slice(0, newline);
}
