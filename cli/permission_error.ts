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

/** True when `granted` and `refused` name the same thing or neighbours (same file tree). */
function related(kind: string, granted: string, refused: string): boolean {
  if (granted === refused) return true;
  // Libraries share a directory: only the same library (another path of it) is near.
  if (kind === "ffi") return basename(granted) === basename(refused);
  if (kind === "net") {
    const host = (v: string) => v.startsWith("unix:") ? v : v.slice(0, v.lastIndexOf(":"));
    if (!granted.startsWith("unix:") || !refused.startsWith("unix:")) {
      return host(granted) === host(refused);
    }
    return related("read", granted.slice("unix:".length), refused.slice("unix:".length));
  }
  return refused.startsWith(`${granted}/`) || granted.startsWith(`${refused}/`) ||
    dirname(granted) === dirname(refused);
}

/** The row whose grant is nearest to the refused access: the same kind first. */
export function nearestRule(
  missing: MissingPermission,
  rows: readonly AppliedRule[],
): AppliedRule | undefined {
  if (missing.target === undefined) {
    return rows.find((row) => row.grant[missing.kind as PermissionKind] !== undefined);
  }
  const target = missing.target;
  const values = (row: AppliedRule, kind: string) => row.grant[kind as PermissionKind] ?? [];
  const sameKind = rows.find((row) =>
    values(row, missing.kind).some((v) => related(missing.kind, v, target))
  );
  if (sameKind !== undefined) return sameKind;
  const pathLike = (v: string) => v.startsWith("unix:") ? v.slice("unix:".length) : v;
  return rows.find((row) =>
    Object.values(row.grant).some((vs: string[] | undefined) =>
      (vs ?? []).some((v) => v.includes("/") && related("read", pathLike(v), pathLike(target)))
    )
  );
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
