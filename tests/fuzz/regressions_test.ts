/**
 * Replays every input that a fuzzer once failed on (tests/fuzz/regressions/<target>/*.bin,
 * written by scripts/fuzz.ts or by hand), so that what was found stays fixed.
 */
import { TARGETS } from "../support/mod.ts";

const DIR = new URL("./regressions/", import.meta.url);

/**
 * Inputs of bugs that are not fixed yet, with what is wrong; their tests are ignored.
 * Remove the entry with the fix.
 */
const OPEN_BUGS: ReadonlyMap<string, string> = new Map([]);

function listInputs(): { target: string; file: string }[] {
  const inputs: { target: string; file: string }[] = [];
  for (const dir of Deno.readDirSync(DIR)) {
    if (!dir.isDirectory) continue;
    for (const entry of Deno.readDirSync(new URL(`${dir.name}/`, DIR))) {
      if (entry.isFile && entry.name.endsWith(".bin")) {
        inputs.push({ target: dir.name, file: entry.name });
      }
    }
  }
  return inputs.sort((a, b) => `${a.target}/${a.file}`.localeCompare(`${b.target}/${b.file}`));
}

Deno.test("regressions directory names only known targets", () => {
  for (const { target, file } of listInputs()) {
    if (!TARGETS.has(target)) throw new Error(`${target}/${file}: no fuzz target ${target}`);
  }
});

for (const { target, file } of listInputs()) {
  const key = `${target}/${file}`;
  Deno.test({
    name: `${target} fuzzer: regression input ${file} keeps every property`,
    ignore: OPEN_BUGS.has(key),
    async fn() {
      const input = await Deno.readFile(new URL(key, DIR));
      await TARGETS.get(target)?.run(input);
    },
  });
}
