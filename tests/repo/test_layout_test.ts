/**
 * One helper folder behind one module: every file under tests/ that is not a test (`*_test.ts`)
 * or a fixture is a helper in tests/support/, tests reach helpers only through
 * tests/support/mod.ts, and mod.ts re-exports every helper module (but the subprocess program
 * drop_probe.ts). So no helper hides in a test folder under a private `_` name again.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const SUPPORT = "tests/support/";
const MOD = `${SUPPORT}mod.ts`;
/** Helper programs run as subprocesses, not imported. */
const PROGRAMS = new Set([
  `${SUPPORT}drop_probe.ts`,
  `${SUPPORT}history_churn.ts`,
  `${SUPPORT}launch_with.ts`,
  `${SUPPORT}query_probe.ts`,
  `${SUPPORT}query_probe_worker.ts`,
]);

/** Every .ts file under `dir` (relative to the repository), fixtures left out. */
function tsFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory && path !== "tests/fixtures") found.push(...tsFiles(`${path}/`));
    else if (entry.isFile && entry.name.endsWith(".ts")) found.push(path);
  }
  return found.sort();
}

/** The relative module specifiers a file imports or re-exports, resolved against the root. */
function importsOf(path: string): string[] {
  const text = Deno.readTextFileSync(new URL(path, ROOT));
  // Statements at the start of a line: the examples inside string literals of other tests
  // (tests/repo/layering_test.ts) do not count.
  const specifiers = [
    ...text.matchAll(/^(?:import|export)\b[^;"]*?(?:from\s*)?"(\.{1,2}\/[^"]+)"/gm),
    ...text.matchAll(/^[^'"`\n]*\bimport\(\s*"(\.{1,2}\/[^"]+)"/gm),
  ];
  return specifiers.map((m) => new URL(m[1]!, new URL(path, ROOT)).href.slice(ROOT.href.length));
}

const files = tsFiles("tests/");

Deno.test("test layout: every file under tests/ is a test or a helper in tests/support/", () => {
  const stray = files.filter((f) => !f.endsWith("_test.ts") && !f.startsWith(SUPPORT));
  assert.deepEqual(stray, []);
  const tests = files.filter((f) => f.startsWith(SUPPORT) && f.endsWith("_test.ts"));
  assert.deepEqual(tests, [], "tests belong next to what they test, not in tests/support/");
  const underscored = files.filter((f) => f.startsWith(SUPPORT) && /\/_[^/]*$/.test(f));
  assert.deepEqual(underscored, [], "no private _ names: tests/support/ is shared by design");
});

Deno.test("test layout: tests import helpers only through tests/support/mod.ts", () => {
  const direct: string[] = [];
  for (const file of files.filter((f) => !f.startsWith(SUPPORT))) {
    for (const target of importsOf(file)) {
      if (target.startsWith("tests/") && target !== MOD) direct.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(direct, []);
});

Deno.test("test layout: tests/support/mod.ts re-exports every helper module", () => {
  const exported = new Set(importsOf(MOD));
  const missing = files.filter((f) =>
    f.startsWith(SUPPORT) && f !== MOD && !PROGRAMS.has(f) && !exported.has(f)
  );
  assert.deepEqual(missing, []);
  for (const program of PROGRAMS) assert.ok(!exported.has(program), `${program} is a program`);
});
