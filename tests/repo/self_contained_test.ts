/**
 * The suite and the scripts read nothing outside the repository: a clone on its own runs them
 * (tests/fixtures/README.md). Guards against a path into the shared material next to the
 * checkout (`../shared`, where the fixtures were first captured) coming back.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
/** A relative path (starting with two dots and a slash) in a string literal. */
const RELATIVE = /["'`](\.\.\/[^"'`$]*)/g;

function* sources(dir: URL): Generator<URL> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name === "fixtures" || entry.name.startsWith(".")) continue;
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* sources(url);
    else if (/\.(ts|sh)$/.test(entry.name) || !entry.name.includes(".")) yield url;
  }
}

Deno.test("no test or script reads a path outside the repository", () => {
  const offenders: string[] = [];
  for (const top of ["tests/", "scripts/", ".ci/"]) {
    for (const url of sources(new URL(top, ROOT))) {
      const text = Deno.readTextFileSync(url);
      text.split("\n").forEach((line, i) => {
        for (const [, path] of line.matchAll(RELATIVE)) {
          // Resolved against the file itself, as new URL(path, import.meta.url) does.
          if (!new URL(path!, url).href.startsWith(ROOT.href) || /\bshared\//.test(path!)) {
            offenders.push(`${url.pathname}:${i + 1}: ${line.trim()}`);
          }
        }
      });
    }
  }
  assert.deepEqual(offenders, []);
});
