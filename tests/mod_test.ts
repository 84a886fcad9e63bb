import assert from "node:assert/strict";
import { run } from "../mod.ts";
import { RecordingIo } from "../cli/io.ts";
import { QNET_VERSION } from "../core/version.ts";

Deno.test("run() prints the version with --version", async () => {
  const io = new RecordingIo();
  assert.equal(await run(["--version"], io), 0);
  assert.equal(io.stdout, `qnet ${QNET_VERSION}\n`);
});

Deno.test("run() rejects an unknown subcommand with exit 1", async () => {
  const io = new RecordingIo();
  assert.equal(await run(["frobnicate"], io), 1);
  assert.match(io.stderr, /unknown subcommand 'frobnicate'/);
});

Deno.test("run() without arguments prints help to stderr and exits 1", async () => {
  const io = new RecordingIo();
  assert.equal(await run([], io), 1);
  assert.match(io.stderr, /^usage: qnet <subcommand>/);
});
