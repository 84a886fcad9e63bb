/**
 * Starts the real corosync-qnetd in the foreground with `-dd` (TLS off, private port, lock and
 * socket files in a temp dir), reads its startup lines, stops it by its own PID, and checks
 * that formatLogLine() renders each line identically from the same time and message.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { formatLogLine } from "../../cli/logging.ts";
import { Priority, PRIORITY_NAMES } from "../../core/log.ts";
import { needCQnetd, testNeeding } from "../support/mod.ts";

const REAL = "/usr/bin/corosync-qnetd";
const PORT = "16204";
const TIME_LIMIT_MS = 10_000;
const LAST_STARTUP_LINE = "Running QNetd main loop";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LINE = /^([A-Z][a-z]{2}) (\d\d) (\d\d):(\d\d):(\d\d) (\S+) +(.*)$/;

/** Reads stderr lines until `last` appears or the stream ends (a timer kills the child). */
async function readUntil(stream: ReadableStream<Uint8Array>, last: string): Promise<string[]> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes(last)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
  } finally {
    await reader.cancel();
  }
  return text.split("\n").filter((l) => l !== "");
}

testNeeding(needCQnetd(), {
  name: "formatLogLine() renders the real daemon's stderr lines byte for byte",
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "h2-qnetd-log-" });
    const child = new Deno.Command(REAL, {
      args: [
        "-f",
        "-dd",
        "-s",
        "off",
        "-l",
        "127.0.0.1",
        "-p",
        PORT,
        "-S",
        `lock_file=${tmp}/x.pid,local_socket_file=${tmp}/x.sock`,
      ],
      cwd: tmp,
      clearEnv: true,
      env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let lines: string[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
    try {
      lines = await readUntil(child.stderr, LAST_STARTUP_LINE);
    } finally {
      clearTimeout(timer);
      try {
        child.kill("SIGTERM"); // our own child, by its handle
      } catch { /* already gone */ }
      await child.status;
      await Deno.remove(tmp, { recursive: true });
    }
    strictEqual(lines.at(-1)?.endsWith(LAST_STARTUP_LINE), true, lines.join("\n"));
    const names = new Map(Object.entries(PRIORITY_NAMES).map(([p, n]) => [n, Number(p)]));
    for (const line of lines) {
      const m = LINE.exec(line);
      if (m === null) throw new Error(`unexpected line ${JSON.stringify(line)}`);
      const [, mon, day, h, min, s, level, message] = m;
      const date = new Date(
        new Date().getFullYear(),
        MONTHS.indexOf(mon!),
        Number(day),
        Number(h),
        Number(min),
        Number(s),
      );
      const priority = names.get(level!) as Priority;
      deepStrictEqual(formatLogLine(date, priority, message!), `${line}\n`);
    }
  },
});
