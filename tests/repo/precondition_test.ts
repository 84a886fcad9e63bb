/**
 * The precondition helper decides between running, skipping and failing: a test file using it
 * is run in a child `deno test`, once as on a developer's machine and once under `CI=true`.
 */
import assert from "node:assert/strict";
import { needAll, needProgram } from "../support/mod.ts";

const HELPER = new URL("../support/precondition.ts", import.meta.url).href;
const PROBE = `
import { needProgram, testNeeding } from "${HELPER}";
testNeeding(needProgram("/nonexistent/qnet-probe", "qnet-probe-pkg"), {
  name: "needs the probe",
  fn: () => {},
});
testNeeding(undefined, { name: "needs nothing", fn: () => {} });
`;

async function runProbe(ci: boolean): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "qnet-precondition-" });
  try {
    await Deno.writeTextFile(`${dir}/probe_test.ts`, PROBE);
    const env: Record<string, string> = { NO_COLOR: "1", CI: ci ? "true" : "false" };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--allow-read", "--allow-env", `${dir}/probe_test.ts`],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, out: text };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a missing precondition is a named skip outside CI", async () => {
  const r = await runProbe(false);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /needs the probe \.\.\. ignored/);
  assert.match(r.out, /needs nothing \.\.\. ok/);
  assert.match(
    r.out,
    /skipping "needs the probe": needs \/nonexistent\/qnet-probe \(Debian package qnet-probe-pkg\)/,
  );
  assert.match(r.out, /\| 1 passed \| 0 failed \| 1 ignored/);
});

Deno.test("a missing precondition fails under CI=true, naming what is missing", async () => {
  const r = await runProbe(true);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /needs the probe \.\.\. FAILED/);
  assert.match(
    r.out,
    /precondition missing under CI=true: \/nonexistent\/qnet-probe \(Debian package qnet-probe-pkg\)/,
  );
  assert.match(r.out, /\| 1 passed \| 1 failed/);
});

Deno.test("needProgram() finds programs on PATH and by path; needAll() joins what is missing", () => {
  assert.equal(needProgram("sh"), undefined);
  assert.equal(needProgram("/bin/sh"), undefined);
  assert.equal(needProgram("qnet-no-such-program"), "qnet-no-such-program");
  assert.equal(
    needAll(undefined, "a", undefined, "b (Debian package c)"),
    "a, b (Debian package c)",
  );
  assert.equal(needAll(undefined, undefined), undefined);
});
