/**
 * Nothing runs `mod.ts` with -A: the tests run `qnet` as the compiled binary runs (the baked
 * flags, tests/support/qnet_command.ts), so that the launcher holds what the binary holds, not
 * every permission.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

function tsFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory && path !== "tests/fixtures") found.push(...tsFiles(`${path}/`));
    else if (entry.isFile && entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

Deno.test("no test or script runs mod.ts with -A (use QNET_ARGV or bakedFlags())", () => {
  const offenders: string[] = [];
  for (const file of [...tsFiles("tests/"), ...tsFiles("scripts/")]) {
    if (file === "tests/repo/qnet_command_test.ts") continue;
    const lines = Deno.readTextFileSync(new URL(file, ROOT)).split("\n");
    lines.forEach((line, i) => {
      if (/(["'`\s])-A\1?[,\s].*mod\.ts/.test(line) || /--allow-all.*mod\.ts/.test(line)) {
        offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});
