/**
 * Turns a `Deno.errors.NotCapable` (an access outside the granted permissions) into one line
 * an operator can act on: which permission, for which path or address, and how to widen the
 * permission set, instead of an uncaught error and its stack trace. `mod.ts` applies it to
 * every subcommand; the exit code is then 1.
 *
 * @module
 */

/** A permission Deno refused, as read from its error message. */
export interface MissingPermission {
  /** `read`, `write`, `net`, `ffi`, `run`, `sys`, `env`, ... */
  readonly kind: string;
  /** The path, `host:port`, `unix:/path`, program or variable; undefined when unscoped. */
  readonly target: string | undefined;
  /** The flag that grants exactly this, e.g. `--allow-net=[::]:5404`. */
  readonly flag: string;
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
const REQUIRES = /^Requires (\w+) access(?: to "(.*)")?, run again with the (--allow-\w+) flag/;

/** What a NotCapable message asks for; undefined for a message of another shape. */
export function parseNotCapable(message: string): MissingPermission | undefined {
  const match = REQUIRES.exec(message);
  if (match === null) return undefined;
  const [, kind = "", target, flag = `--allow-${kind}`] = match;
  return { kind, target, flag: target === undefined ? flag : `${flag}=${target}` };
}

/**
 * The line to print for a refused permission, e.g.
 * `corosync-qnetd: missing permission: net access to "[::]:5404"; grant it with
 * --allow-net=[::]:5404 (widen the "qnetd" permission set, see docs/deployment.md)`.
 */
export function formatMissingPermission(
  program: string,
  error: Deno.errors.NotCapable,
  setName: string,
): string {
  const missing = parseNotCapable(error.message);
  const widen = `widen the "${setName}" permission set, see docs/deployment.md`;
  if (missing === undefined) {
    return `${program}: missing permission: ${firstLine(error.message)} (${widen})\n`;
  }
  const what = missing.target === undefined ? "" : ` to "${missing.target}"`;
  return `${program}: missing permission: ${missing.kind} access${what}; ` +
    `grant it with ${missing.flag} (${widen})\n`;
}

/**
 * The line for `error` when it is (or was caused by) a refused permission, else undefined:
 * the caller then lets the error go on.
 */
export function permissionErrorLine(
  error: unknown,
  program: string,
  setName: string,
): string | undefined {
  const notCapable = findNotCapable(error);
  return notCapable === undefined
    ? undefined
    : formatMissingPermission(program, notCapable, setName);
}

function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? text : text.slice(0, newline);
}
