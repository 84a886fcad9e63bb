/** scripts/compile.ts without a runtime, its helpers, and scripts/install_links.ts. */
import assert from "node:assert/strict";
import { bakedFlags, embeddedBytes, WORKER_FLAG } from "../../scripts/compile.ts";
import { widestSet } from "../../cli/permission_sets.ts";
import { installLinks, LINK_NAMES } from "../../scripts/install_links.ts";
import { ROOT } from "../support/mod.ts";

async function compileWith(denortBin: string): Promise<{ code: number; stderr: string }> {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-compile-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-env=DENORT_BIN",
        "--allow-run",
        `${ROOT}scripts/compile.ts`,
        "--output",
        `${dir}/qnet`,
      ],
      env: { DENORT_BIN: denortBin },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(killer);
    assert.equal([...Deno.readDirSync(dir)].length, 0, "no binary may be left behind");
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("compile.ts with a missing DENORT_BIN exits 1 and says what to do", async () => {
  const { code, stderr } = await compileWith("/nonexistent/denort");
  assert.equal(code, 1);
  assert.match(stderr, /DENORT_BIN=\/nonexistent\/denort does not exist/);
  assert.match(stderr, /dl\.deno\.land\/release\/v[\d.]+\/denort-/);
});

Deno.test("compile.ts with a DENORT_BIN that is no runtime exits 1 and says what to do", async () => {
  const fake = Deno.makeTempFileSync({ prefix: "fake-denort-" });
  try {
    Deno.writeTextFileSync(fake, "#!/bin/sh\n");
    const { code, stderr } = await compileWith(fake);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`DENORT_BIN=${fake} is not a usable denort`));
    assert.match(stderr, /run again with\n\s+DENORT_BIN=/);
    // The embedded files were listed before the runtime was needed: they stay small.
    const size = /embedded files would be ([\d.]+) MB/.exec(stderr);
    assert.ok(size !== null, stderr);
    assert.ok(Number(size[1]) < 20, `embedded ${size[1]} MB`);
  } finally {
    Deno.removeSync(fake);
  }
});

Deno.test("compile.ts --print-flags prints the baked flags: worker options, bounded ffi/env/sys", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", `${ROOT}scripts/compile.ts`, "--print-flags"],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const printed = new TextDecoder().decode(out.stdout).trim().split(" ");
  assert.deepEqual(printed, bakedFlags());
  assert.ok(printed.includes(WORKER_FLAG));
  const widest = widestSet();
  // Open: any path or address a command line may name, and the detached daemon's own path.
  for (const kind of ["read", "write", "net", "run"] as const) assert.equal(widest[kind], true);
  // Bounded: libssl and libc (the fcntl lock) only, uid only, a few variables only.
  assert.ok(
    printed.some((f) => /^--allow-ffi=(\/[^,]*(libssl\.so\.3|libc\.so\.6),?)+$/.test(f)),
    printed.join(" "),
  );
  assert.ok(printed.includes("--allow-sys=uid"));
  assert.ok(printed.some((f) => f.startsWith("--allow-env=") && f.includes("QNETD_CONFIG_FILE")));
  assert.ok(!printed.includes("--allow-env") && !printed.includes("--allow-ffi"));
});

Deno.test("embeddedBytes() reads the Files line of the report", () => {
  assert.equal(embeddedBytes("\x1b[1mFiles:\x1b[0m 4.5MB\nMetadata: 1KB\n"), 4.5 * 1024 ** 2);
  assert.equal(embeddedBytes("no report"), undefined);
});

Deno.test("installLinks() links the C names, replaces links and keeps regular files", () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-links-" });
  try {
    Deno.writeTextFileSync(`${dir}/corosync-qnetd`, "the C daemon");
    Deno.symlinkSync("/old", `${dir}/corosync-cmapctl`);
    const results = installLinks(dir, `${dir}/qnet`);
    assert.deepEqual(results.map((r) => r.name), [...LINK_NAMES]);
    assert.deepEqual(results.map((r) => r.action), ["kept-file", "created", "created", "replaced"]);
    assert.equal(Deno.readTextFileSync(`${dir}/corosync-qnetd`), "the C daemon");
    for (const name of LINK_NAMES.slice(1)) {
      assert.equal(Deno.readLinkSync(`${dir}/${name}`), `${dir}/qnet`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
