/**
 * The commands a new user types first: `scripts/deno task start` keeps its lock file and socket
 * in a per-user directory and stops without a warning; the README's and docs' `-P=` commands
 * and tasks print no "experimental feature" warning. Port 18530.
 */
import assert from "node:assert/strict";
import { pathExists } from "../support/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PORT = 18530;

/**
 * Runs scripts/start with `env` until the daemon says it is ready (its SIGINT handler is
 * installed then, as corosync-qnetd installs its own after both sockets: a SIGINT before
 * that ends either daemon by the signal), then stops it with SIGINT.
 */
async function startAndStop(env: Record<string, string>, dir: string) {
  const child = new Deno.Command(`${ROOT}scripts/start`, {
    args: ["-p", String(PORT)],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const collected = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const socket = `${dir}/qnetd.sock`;
  let up = false;
  for (let i = 0; i < 400 && !up; i++) {
    up = /QNetd ready to provide service/.test(stderr) && pathExists(socket);
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  const mode = up ? Deno.statSync(dir).mode! & 0o777 : undefined;
  child.kill("SIGINT");
  const status = await child.status;
  await collected;
  assert.ok(up, `the daemon did not come up in 20 s:\n${stderr}`);
  return { code: status.code, stderr, mode, socketLeft: pathExists(socket) };
}

Deno.test({
  name: "scripts/deno task start: lock and socket in $XDG_RUNTIME_DIR/qnet-dev, a clean stop",
  sanitizeResources: false,
  async fn() {
    const runtime = await Deno.makeTempDir({ prefix: "qnet-xdg-" });
    try {
      const dir = `${runtime}/qnet-dev`;
      const r = await startAndStop({ XDG_RUNTIME_DIR: runtime }, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.mode, 0o700);
      assert.match(r.stderr, new RegExp(`lock file and local socket in ${dir} `));
      assert.doesNotMatch(r.stderr, /warning|Warning/, "a warning on start or stop");
      assert.equal(r.socketLeft, false, "the socket is left behind");
    } finally {
      await Deno.remove(runtime, { recursive: true });
    }
  },
});

Deno.test({
  name: "scripts/deno task start: without $XDG_RUNTIME_DIR, in run/qnet-dev inside the checkout",
  sanitizeResources: false,
  async fn() {
    const env = { XDG_RUNTIME_DIR: "" };
    const dir = `${ROOT}run/qnet-dev`;
    const r = await startAndStop(env, dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.mode, 0o700);
    assert.equal(r.socketLeft, false);
  },
});

Deno.test("the README's and docs' `scripts/deno run -P=` commands and tasks are --quiet", () => {
  const loud: string[] = [];
  for (
    const file of [
      "README.md",
      ...[...Deno.readDirSync(`${ROOT}docs`)].map((e) => `docs/${e.name}`),
    ]
  ) {
    if (!file.endsWith(".md")) continue;
    for (
      const [command] of Deno.readTextFileSync(`${ROOT}${file}`).matchAll(
        /scripts\/deno run [^`\n]*-P=\S+/g,
      )
    ) {
      if (!command.includes("--quiet")) loud.push(`${file}: ${command}`);
    }
  }
  const tasks: Record<string, string> = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks;
  for (const [name, task] of Object.entries(tasks)) {
    if (task.includes("-P=") && !task.includes("--quiet")) loud.push(`task ${name}: ${task}`);
  }
  assert.deepEqual(loud, []);
});

Deno.test("scripts/deno run --quiet -P=... prints no experimental-feature warning", async () => {
  const out = await new Deno.Command(`${ROOT}scripts/deno`, {
    args: ["run", "--quiet", "--unstable-worker-options", "-P=qnet", "mod.ts", "qnetd-tool", "-h"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.match(text, /^usage: corosync-qnetd-tool/m);
  assert.doesNotMatch(text, /experimental/);
});
