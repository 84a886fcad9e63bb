/**
 * packaging/qnetd.service: `systemd-analyze security` rates it as docs/deployment.md says.
 */
import assert from "node:assert/strict";
import { needProgram, testNeeding } from "../support/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

testNeeding(needProgram("systemd-analyze", "systemd"), {
  name: "systemd-analyze security rates packaging/qnetd.service as docs/deployment.md claims",
  async fn() {
    const docs = await Deno.readTextFile(`${ROOT}docs/deployment.md`);
    const claim = /`systemd-analyze security` rates it (\d+\.\d), "(\w+)"/.exec(docs);
    assert.ok(claim !== null, "docs/deployment.md names no score");
    const out = await new Deno.Command("systemd-analyze", {
      args: ["security", "--offline=true", "--no-pager", `${ROOT}packaging/qnetd.service`],
      env: { SYSTEMD_COLORS: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const rated = /Overall exposure level for qnetd\.service: (\d+\.\d) (\w+)/.exec(text);
    assert.ok(rated !== null, text + new TextDecoder().decode(out.stderr));
    assert.deepEqual([rated[1], rated[2]], [claim[1], claim[2]]);
  },
});
