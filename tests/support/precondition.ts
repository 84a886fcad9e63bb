/**
 * Preconditions of tests that need something from the machine (root, network namespaces, a
 * binary of a Debian package): the one place that decides between running, skipping and failing.
 *
 * - The precondition holds: the test runs.
 * - It does not, outside CI: the test is registered as an ignored test under its own name (so the
 *   closing "N skipped" counts it) and the reason is written once to stderr.
 * - It does not, under `CI=true`: the test runs and fails at once, naming what is missing. CI is
 *   the machine where everything must be installed; a dropped comparison there is a bug.
 *
 * A precondition is a {@linkcode Missing}: `undefined` when met, else what is missing, in words.
 *
 * @module
 */

/** What a test needs and the machine lacks, in words; `undefined` when nothing is missing. */
export type Missing = string | undefined;

/** True when the suite runs under CI (`CI=true`), where a missing precondition fails. */
export function inCi(): boolean {
  return Deno.env.get("CI") === "true";
}

/** Thrown by a test whose precondition is missing under `CI=true`. */
export class PreconditionError extends Error {
  constructor(readonly missing: string) {
    super(`precondition missing under CI=true: ${missing}`);
    this.name = "PreconditionError";
  }
}

/** `"root"` unless the suite runs as uid 0. */
export function needRoot(): Missing {
  return Deno.uid() === 0 ? undefined : "root (uid 0)";
}

/**
 * An executable: an absolute path, or a name searched on PATH. `pkg` names the Debian package that
 * ships it, for the message.
 */
export function needProgram(program: string, pkg?: string): Missing {
  const dirs = program.includes("/")
    ? [""]
    : (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").map((d) => `${d}/`);
  for (const dir of dirs) {
    try {
      const info = Deno.statSync(`${dir}${program}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return undefined;
    } catch {
      // Not in this directory.
    }
  }
  return pkg === undefined ? program : `${program} (Debian package ${pkg})`;
}

/** The real corosync-qnetd 3.0.3, the peer every daemon test compares with. */
export function needCQnetd(): Missing {
  return needProgram("/usr/bin/corosync-qnetd", "corosync-qnetd");
}

/** Everything in `all`; the missing ones joined with ", ". */
export function needAll(...all: Missing[]): Missing {
  const missing = all.filter((m): m is string => m !== undefined);
  return missing.length === 0 ? undefined : missing.join(", ");
}

const reported = new Set<string>();

function report(name: string, missing: string): void {
  const line = `skipping "${name}": needs ${missing}`;
  if (reported.has(line)) return;
  reported.add(line);
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}

/**
 * `Deno.test(definition)` when `missing` is undefined; otherwise an ignored test of the same name
 * (outside CI) or a test that fails naming `missing` (under `CI=true`). An `ignore` already in
 * `definition` (a known open bug) is kept as it is.
 */
export function testNeeding(missing: Missing, definition: Deno.TestDefinition): void;
/** The same, written like `Deno.test(name, fn)`. */
export function testNeeding(
  missing: Missing,
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void;
export function testNeeding(
  missing: Missing,
  nameOrDefinition: string | Deno.TestDefinition,
  fn?: (t: Deno.TestContext) => void | Promise<void>,
): void {
  const definition = typeof nameOrDefinition === "string"
    ? { name: nameOrDefinition, fn: fn! }
    : nameOrDefinition;
  if (missing === undefined || definition.ignore === true) {
    Deno.test(definition);
    return;
  }
  if (inCi()) {
    Deno.test({
      ...definition,
      fn: () => {
        throw new PreconditionError(missing);
      },
    });
    return;
  }
  report(definition.name, missing);
  Deno.test({ ...definition, ignore: true });
}

/**
 * For a step inside a running test: `true` when the step can run; `false` (reported) when it
 * cannot, outside CI; throws {@linkcode PreconditionError} under `CI=true`. Prefer
 * {@linkcode testNeeding}: a whole test shows as skipped in the summary, a step does not.
 */
export function canRun(missing: Missing, what: string): boolean {
  if (missing === undefined) return true;
  if (inCi()) throw new PreconditionError(missing);
  report(what, missing);
  return false;
}
