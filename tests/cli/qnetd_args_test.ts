import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  parseQnetdArgs,
  type QnetdArgsResult,
  type QnetdOptions,
  qnetdUsage,
  qnetdVersionText,
} from "../../cli/qnetd_args.ts";
import { TlsSupported } from "../../core/protocol/constants.ts";
import { defaultQnetdSettings } from "../../core/settings.ts";
import { QNET_VERSION } from "../../core/version.ts";

function options(args: string[]): QnetdOptions {
  const r = parseQnetdArgs(args);
  if (!r.ok) throw new Error(`parse failed: ${r.stderr}${r.stdout}`);
  return r.options;
}

function failure(args: string[], argv0?: string): Extract<QnetdArgsResult, { ok: false }> {
  const r = parseQnetdArgs(args, argv0 === undefined ? {} : { argv0 });
  if (r.ok) throw new Error(`parse of ${JSON.stringify(args)} unexpectedly succeeded`);
  return r;
}

const USAGE = "usage: corosync-qnetd [-46dfhv] [-l listen_addr] [-p listen_port] [-s tls]\n" +
  "              [-c client_cert_required] [-m max_clients] [-S option=value[,option2=value2,...]]\n";

Deno.test("parseQnetdArgs() gives the C defaults without arguments", () => {
  const r = parseQnetdArgs([]);
  deepStrictEqual(r, {
    ok: true,
    stderr: "",
    options: {
      addressFamily: "any",
      debugLevel: 0,
      foreground: false,
      listenAddr: undefined,
      port: 5403,
      tls: TlsSupported.Supported,
      clientCertRequired: true,
      maxClients: 0,
      settings: defaultQnetdSettings(),
      operands: [],
    },
    operands: [],
  });
});

Deno.test("parseQnetdArgs() handles -4 and -6, last one wins", () => {
  strictEqual(options(["-4"]).addressFamily, "ipv4");
  strictEqual(options(["-6"]).addressFamily, "ipv6");
  strictEqual(options(["-6", "-4"]).addressFamily, "ipv4");
});

Deno.test("parseQnetdArgs() counts -d up to 2", () => {
  strictEqual(options(["-d"]).debugLevel, 1);
  strictEqual(options(["-dd"]).debugLevel, 2);
  strictEqual(options(["-d", "-f", "-d"]).debugLevel, 2);
  strictEqual(options(["-ddd"]).debugLevel, 2);
});

Deno.test("parseQnetdArgs() sets foreground with -f", () => {
  strictEqual(options(["-f"]).foreground, true);
});

Deno.test("parseQnetdArgs() takes -l verbatim", () => {
  strictEqual(options(["-l", "::1"]).listenAddr, "::1");
  strictEqual(options(["-l127.0.0.1"]).listenAddr, "127.0.0.1");
  strictEqual(options(["-l", ""]).listenAddr, "");
});

Deno.test("parseQnetdArgs() parses -p in 1..65535 like strtoll", () => {
  strictEqual(options(["-p", "1"]).port, 1);
  strictEqual(options(["-p65535"]).port, 65535);
  strictEqual(options(["-p", " +080"]).port, 80);
  for (const bad of ["0", "65536", "-1", "0x50", "80 ", "", "abc"]) {
    deepStrictEqual(failure(["-p", bad]), {
      ok: false,
      exitCode: 1,
      stdout: "",
      stderr: "corosync-qnetd: host port must be in range 1-65535\n",
    });
  }
});

Deno.test("parseQnetdArgs() parses -s on/off/req and also required, in any case", () => {
  strictEqual(options(["-s", "off"]).tls, TlsSupported.Unsupported);
  strictEqual(options(["-s", "OFF", "-s", "On"]).tls, TlsSupported.Supported);
  strictEqual(options(["-s", "req"]).tls, TlsSupported.Required);
  strictEqual(options(["-s", "ReQuIrEd"]).tls, TlsSupported.Required);
  for (const bad of ["", "yes", "require", "on "]) {
    strictEqual(failure(["-s", bad]).stderr, "corosync-qnetd: tls must be one of on, off, req\n");
  }
});

Deno.test("parseQnetdArgs() parses -c as a C boolean", () => {
  strictEqual(options(["-c", "off"]).clientCertRequired, false);
  strictEqual(options(["-c", "NO"]).clientCertRequired, false);
  strictEqual(options(["-c", "0", "-c", "yes"]).clientCertRequired, true);
  strictEqual(
    failure(["-c", "maybe"]).stderr,
    "corosync-qnetd: client_cert_required should be on/yes/1, off/no/0\n",
  );
});

Deno.test("parseQnetdArgs() parses -m in 0..LLONG_MAX and quotes a bad value", () => {
  strictEqual(options(["-m", "0"]).maxClients, 0);
  strictEqual(options(["-m", "7"]).maxClients, 7);
  strictEqual(options(["-m", "9223372036854775807"]).maxClients, 2 ** 63);
  for (const bad of ["-1", "9223372036854775808", "x", ""]) {
    strictEqual(
      failure(["-m", bad]).stderr,
      `corosync-qnetd: max clients value ${bad} is invalid\n`,
    );
  }
});

Deno.test("parseQnetdArgs() applies every -S setting", () => {
  const s = options([
    "-S",
    "listen_backlog=1,max_client_send_buffers=2,max_client_send_size=16",
    "-S",
    "MAX_CLIENT_RECEIVE_SIZE=65536,nss_db_dir=/tmp/n,cert_nickname=My Cert",
    "-S",
    "heartbeat_interval_min=5,heartbeat_interval_max=6,dpd_enabled=off",
    "-S",
    "dpd_interval_coefficient=2.5,lock_file=/tmp/l.pid,local_socket_file=/tmp/l.sock",
    "-S",
    "local_socket_backlog=3,ipc_max_clients=0,ipc_max_receive_size=1024",
    "-S",
    "ipc_max_send_size=2048,keep_active_partition_tie_breaker=on",
    "-S",
    "metrics_listen=[::1]:9404",
    "-S",
    "history_events_per_cluster=5,history_max_memory=4096,log_format=JSON",
  ]).settings;
  deepStrictEqual(s, {
    listenBacklog: 1,
    maxClientSendBuffers: 2,
    maxClientSendSize: 16,
    maxClientReceiveSize: 65536,
    nssDbDir: "/tmp/n",
    certNickname: "My Cert",
    heartbeatIntervalMin: 5,
    heartbeatIntervalMax: 6,
    dpdEnabled: false,
    dpdIntervalCoefficient: 2.5,
    lockFile: "/tmp/l.pid",
    localSocketFile: "/tmp/l.sock",
    localSocketBacklog: 3,
    ipcMaxClients: 0,
    ipcMaxReceiveSize: 1024,
    ipcMaxSendSize: 2048,
    keepActivePartitionTieBreaker: true,
    metricsListen: "[::1]:9404",
    historyEventsPerCluster: 5,
    historyMaxMemory: 4096,
    logFormat: "json",
  });
});

Deno.test("parseQnetdArgs() reports -S errors with the name and value as typed", () => {
  strictEqual(failure(["-S", "foo=1"]).stderr, "corosync-qnetd: Unknown option 'foo'\n");
  strictEqual(
    failure(["-S", "Listen_Backlog=0"]).stderr,
    "corosync-qnetd: Invalid value '0' for option 'Listen_Backlog'\n",
  );
  strictEqual(
    failure(["-S", "listen_backlog"]).stderr,
    "corosync-qnetd: Invalid value '' for option 'listen_backlog'\n",
  );
  strictEqual(failure(["-S", "x=a=b"]).stderr, "corosync-qnetd: Unknown option 'x'\n");
});

Deno.test("parseQnetdArgs() warns about dpd_interval and carries on", () => {
  const r = parseQnetdArgs(["-S", "dpd_interval=10", "-S", "DPD_INTERVAL", "-f"]);
  ok(r.ok);
  strictEqual(
    r.stderr,
    "corosync-qnetd: Option 'dpd_interval' is deprecated and has no effect anymore\n" +
      "corosync-qnetd: Option 'DPD_INTERVAL' is deprecated and has no effect anymore\n",
  );
  strictEqual(r.options.foreground, true);
  deepStrictEqual(r.options.settings, defaultQnetdSettings());
});

Deno.test("parseQnetdArgs() keeps earlier warnings when a later option fails", () => {
  strictEqual(
    failure(["-S", "dpd_interval=5,foo"]).stderr,
    "corosync-qnetd: Option 'dpd_interval' is deprecated and has no effect anymore\n" +
      "corosync-qnetd: Unknown option 'foo'\n",
  );
  strictEqual(
    failure(["-S", "dpd_interval", "-p", "0"]).stderr,
    "corosync-qnetd: Option 'dpd_interval' is deprecated and has no effect anymore\n" +
      "corosync-qnetd: host port must be in range 1-65535\n",
  );
});

Deno.test("parseQnetdArgs() ignores what follows an empty -S token", () => {
  const r = parseQnetdArgs(["-S", "listen_backlog=4,,foo=1", "-S", ",bar", "-S", "=5"]);
  ok(r.ok);
  strictEqual(r.options.settings.listenBacklog, 4);
});

Deno.test("parseQnetdArgs() prints usage on stdout and exits 1 for -h", () => {
  deepStrictEqual(failure(["-h"]), { ok: false, exitCode: 1, stdout: USAGE, stderr: "" });
  strictEqual(qnetdUsage(), USAGE);
});

Deno.test("parseQnetdArgs() prints getopt's message and usage for a bad option", () => {
  deepStrictEqual(failure(["-x"], "/usr/bin/corosync-qnetd"), {
    ok: false,
    exitCode: 1,
    stdout: USAGE,
    stderr: "/usr/bin/corosync-qnetd: invalid option -- 'x'\n",
  });
  strictEqual(failure(["-p"]).stderr, "corosync-qnetd: option requires an argument -- 'p'\n");
});

Deno.test("parseQnetdArgs() uses the basename of argv0 for its own errors", () => {
  strictEqual(
    failure(["-p", "0"], "/usr/sbin/corosync-qnetd").stderr,
    "corosync-qnetd: host port must be in range 1-65535\n",
  );
  strictEqual(failure(["-p", "0"], "qnet").stderr, "qnet: host port must be in range 1-65535\n");
});

Deno.test("parseQnetdArgs() prints the version block and exits 1 for -v", () => {
  const r = failure(["-v"]);
  strictEqual(r.exitCode, 1);
  strictEqual(r.stderr, "");
  strictEqual(r.stdout, qnetdVersionText());
  const lines = r.stdout.split("\n");
  ok(lines[0]!.includes(`version '${QNET_VERSION}'`));
  strictEqual(lines[1], "");
  strictEqual(
    lines[2],
    "Supported algorithms: Test (0), Fifty-Fifty split (1), 2 Node LMS (2), LMS (3)",
  );
  ok(lines[3]!.startsWith("Supported message types: Preinit (0), Preinit reply (1), StartTLS (2)"));
  ok(lines[3]!.endsWith("Heuristics change (16), Heuristics change reply (17)"));
});

Deno.test("parseQnetdArgs() acts on options in order and stops at the first exit", () => {
  strictEqual(failure(["-v", "-x"]).stdout, qnetdVersionText());
  strictEqual(failure(["-x", "-v"]).stdout, USAGE);
  strictEqual(failure(["-p0", "-v"]).stdout, "");
  strictEqual(failure(["-vx"]).stdout, qnetdVersionText());
});

Deno.test("parseQnetdArgs() skips non-option arguments and parses options after them", () => {
  const o = options(["extra", "-f", "more", "--", "-x"]);
  strictEqual(o.foreground, true);
  deepStrictEqual(o.operands, ["extra", "more", "-x"]);
  strictEqual(failure(["extra", "-x"]).stderr, "corosync-qnetd: invalid option -- 'x'\n");
});

Deno.test("parseQnetdArgs() stops at the first non-option with POSIXLY_CORRECT", () => {
  const r = parseQnetdArgs(["a", "-x"], { posixlyCorrect: true });
  ok(r.ok);
  deepStrictEqual(r.options.operands, ["a", "-x"]);
});
