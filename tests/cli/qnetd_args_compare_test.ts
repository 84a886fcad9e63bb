/**
 * Runs the real corosync-qnetd with bad command lines and checks that parseQnetdArgs() prints
 * the same stdout and stderr and returns the same exit code.
 *
 * Every case must make the C daemon exit during argument parsing. As a safety net each command
 * line starts with options that keep an accidentally started daemon harmless (foreground, TLS
 * off, a private port, lock and socket files in a temp dir), and a started daemon is killed.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import fc from "fast-check";
import { parseQnetdArgs } from "../../cli/qnetd_args.ts";
import { needCQnetd, QNET_ARGV, testNeeding } from "../support/mod.ts";

const REAL = "/usr/bin/corosync-qnetd";
const PORT = "16203";
const TIME_LIMIT_MS = 10_000;

/** The real daemon every case here is compared with. */
const NEED_C = needCQnetd();

/** Bad command lines, each ending the C daemon during cli_parse(). */
const CASES: string[][] = [
  ["-h"],
  ["-x"],
  ["-:"],
  ["--foo"],
  ["-fx"],
  ["-xv"],
  ["extra", "-x"],
  ["-", "-x"],
  ["a", "b", "-c"],
  ["-p"],
  ["-l"],
  ["-S"],
  ["-p", "0"],
  ["-p", "65536"],
  ["-p", "0x50"],
  ["-p", "80 "],
  ["-p", "--"],
  ["-dfp0"],
  ["-p", " +80", "-x"],
  ["-p", "080", "-x"],
  ["-s", "maybe"],
  ["-s", "REQ", "-x"],
  ["-c", "maybe"],
  ["-c", "OFF", "-x"],
  ["-m", "-1"],
  ["-m", "9223372036854775808"],
  ["-m", "9223372036854775807", "-x"],
  ["-p0", "-v"],
  ["-S", "foo=1"],
  ["-S", "LISTEN_BACKLOG=0"],
  ["-S", "listen_backlog="],
  ["-S", "listen_backlog"],
  ["-S", "listen_backlog=2147483648"],
  ["-S", "dpd_interval=5,foo"],
  ["-S", "DPD_Interval", "-S", "bar="],
  ["-S", "dpd_interval", "-p", "0"],
  ["-S", ",foo=1", "-x"],
  ["-S", "listen_backlog=1,,foo=1", "-x"],
  ["-S", "x=a=b"],
  ["-S", "dpd_enabled=maybe"],
  ["-S", "dpd_interval_coefficient=nan"],
  ["-S", "dpd_interval_coefficient=0x1p1", "-x"],
  ["-S", "dpd_interval_coefficient=1000.1"],
  ["-S", "dpd_interval_coefficient=0.5"],
  ["-S", "dpd_interval_coefficient= 2", "-x"],
  ["-S", "heartbeat_interval_min=4294967296"],
  ["-S", "heartbeat_interval_max=4294967295", "-x"],
  ["-S", "max_client_send_buffers=1"],
  ["-S", "max_client_send_size=15"],
  ["-S", "max_client_receive_size=15"],
  ["-S", "local_socket_backlog=0"],
  ["-S", "ipc_max_clients=-1"],
  ["-S", "ipc_max_receive_size=1023"],
  ["-S", "ipc_max_send_size=1023"],
  ["-S", "keep_active_partition_tie_breaker=2"],
  ["-S", "local_socket_umask=077"],
  ["-S", "nss_db_dir=/x,cert_nickname=y,lock_file=/z", "-x"],
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function runReal(args: string[], tmp: string): Promise<Outcome> {
  const child = new Deno.Command(REAL, {
    args,
    cwd: tmp,
    clearEnv: true,
    env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL"); // only our own child, by its handle
  }, TIME_LIMIT_MS);
  try {
    const out = await child.output();
    if (timedOut) throw new Error(`real daemon did not exit for ${JSON.stringify(args)}`);
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

function ours(args: string[]): Outcome {
  const r = parseQnetdArgs(args, { argv0: REAL });
  return r.ok
    ? { code: 0, stdout: "", stderr: r.stderr }
    : { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

testNeeding(NEED_C, {
  name: "parseQnetdArgs() prints and exits exactly like the real corosync-qnetd on bad input",
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "h2-qnetd-args-" });
    try {
      const safe = [
        "-f",
        "-s",
        "off",
        "-p",
        PORT,
        "-S",
        `lock_file=${tmp}/x.pid,local_socket_file=${tmp}/x.sock`,
      ];
      for (const args of CASES) {
        await t.step(JSON.stringify(args), async () => {
          const full = [...safe, ...args];
          const real = await runReal(full, tmp);
          strictEqual(real.code, 1, `the real daemon must reject ${JSON.stringify(args)}`);
          deepStrictEqual(ours(full), real);
        });
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** Tokens for random command lines. No `--` and no `v` (our version line differs on purpose). */
const TOKENS = [
  "-4",
  "-6",
  "-d",
  "-f",
  "-h",
  "-dd",
  "-fd",
  "-p",
  "-p80",
  "0",
  "80",
  "65536",
  "-dfp",
  "a",
  "-",
  "-S",
  "dpd_interval",
  "listen_backlog=5",
  "Listen_Backlog=0,foo",
  ",x",
  "-s",
  "on",
  "REQ",
  "off",
  "-c",
  "no",
  "maybe",
  "-m",
  "-1",
  "7",
  "-l",
  "::1",
  "--x",
  "-:",
  "-fS",
  "-Sfoo",
  "-x",
];
const CHARS = [..."-46dfhcpSslmx:=,01 "];

testNeeding(NEED_C, {
  name: "parseQnetdArgs() matches the real corosync-qnetd on random bad command lines",
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "h2-qnetd-args-" });
    try {
      const safe = [
        "-f",
        "-s",
        "off",
        "-p",
        PORT,
        "-S",
        `lock_file=${tmp}/x.pid,local_socket_file=${tmp}/x.sock`,
      ];
      const token = fc.oneof(
        fc.constantFrom(...TOKENS),
        fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 6 }).map((c) => c.join("")),
      ).filter((t) => t !== "--");
      // Two trailing -x make sure the C daemon stops in cli_parse() (one may be taken by -l).
      const commandLine = fc.array(token, { maxLength: 8 }).map((a) => [...safe, ...a, "-x", "-x"]);
      await fc.assert(
        fc.asyncProperty(commandLine, async (full) => {
          const real = await runReal(full, tmp);
          deepStrictEqual(ours(full), real);
        }),
        { numRuns: 150 },
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

testNeeding(NEED_C, {
  name: "parseQnetdArgs() prints the real -v block apart from the version line",
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "h2-qnetd-args-" });
    try {
      const real = await runReal(["-v"], tmp);
      const mine = ours(["-v"]);
      strictEqual(mine.code, real.code);
      strictEqual(mine.stderr, real.stderr);
      const [realFirst, ...realRest] = real.stdout.split("\n");
      const [mineFirst, ...mineRest] = mine.stdout.split("\n");
      strictEqual(realFirst, "Corosync Qdevice Network Daemon, version '3.0.3'");
      strictEqual(/, version '[^']+'$/.test(mineFirst ?? ""), true);
      deepStrictEqual(mineRest, realRest);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** A command's stdout and stderr on one pipe, as a terminal shows them, and its exit code. */
async function merged(argv: string[]): Promise<{ code: number; text: string }> {
  const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", `exec ${quoted} 2>&1`],
    env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(TIME_LIMIT_MS * 3),
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

testNeeding(NEED_C, {
  name: "qnet qnetd prints a bad option's error before the usage, on one stream, as corosync-qnetd",
  async fn() {
    for (const bad of [["-x"], ["-p"], ["-p", "0"], ["-S", "dpd_interval=1", "-x"]]) {
      // The C daemon run by name, so that its argv[0] is the name our tool prints.
      const c = await merged(["corosync-qnetd", ...bad]);
      const ours = await merged([...QNET_ARGV, "qnetd", ...bad]);
      deepStrictEqual(ours, c, bad.join(" "));
    }
  },
});
