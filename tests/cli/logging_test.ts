import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { fstatSync } from "node:fs";
import {
  formatJsonLine,
  formatLogLine,
  formatSyslogDatagram,
  LOG_DAEMON,
  openSyslog,
  setupLogging,
  stderrIsJournal,
  syslogPriority,
} from "../../cli/logging.ts";
import { Priority } from "../../core/log.ts";
import { NotifyReceiver } from "../support/mod.ts";

// Local-time constructor, so the expected text does not depend on the machine's time zone.
const FIXED = new Date(2026, 10, 2, 3, 4, 5); // Nov 02 03:04:05

Deno.test("formatLogLine() formats like log_vprintf() on stderr", () => {
  strictEqual(
    formatLogLine(FIXED, Priority.Debug, "Initializing nss"),
    "Nov 02 03:04:05 debug   Initializing nss\n",
  );
  strictEqual(
    formatLogLine(new Date(2026, 0, 31, 23, 59, 59), Priority.Err, "x"),
    "Jan 31 23:59:59 error   x\n",
  );
  strictEqual(formatLogLine(FIXED, Priority.Warning, ""), "Nov 02 03:04:05 warning \n");
  strictEqual(formatLogLine(FIXED, Priority.Emerg, "m"), "Nov 02 03:04:05 emerg   m\n");
});

Deno.test("formatSyslogDatagram() writes what glibc's syslog(3) writes with LOG_PID", () => {
  // <facility|priority>, %h %e %T (day padded with a space), ident[pid]: message.
  strictEqual(
    formatSyslogDatagram(FIXED, LOG_DAEMON, Priority.Warning, "corosync-qnetd", 42, "m"),
    "<28>Nov  2 03:04:05 corosync-qnetd[42]: m",
  );
  strictEqual(
    formatSyslogDatagram(new Date(2026, 0, 31, 23, 59, 59), LOG_DAEMON, Priority.Debug, "q", 1, ""),
    "<31>Jan 31 23:59:59 q[1]: ",
  );
  // Control characters escaped as on stderr: a name cannot forge a second line.
  strictEqual(
    formatSyslogDatagram(FIXED, LOG_DAEMON, Priority.Err, "q", 7, "a\nb\u0000"),
    "<27>Nov  2 03:04:05 q[7]: a\\x0ab\\x00",
  );
});

Deno.test("openSyslog() sends one datagram per line; none when nobody listens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      using receiver = new NotifyReceiver(`${dir}/log`);
      using syslog = openSyslog("corosync-qnetd", receiver.address);
      syslog!(Priority.Notice, "first", FIXED);
      syslog!(Priority.Info, "second", FIXED);
      strictEqual(
        await receiver.next(1000),
        `<29>Nov  2 03:04:05 corosync-qnetd[${Deno.pid}]: first`,
      );
      strictEqual(
        await receiver.next(1000),
        `<30>Nov  2 03:04:05 corosync-qnetd[${Deno.pid}]: second`,
      );
    }
    // The receiver is gone: the line is lost, the caller is not held up or thrown at.
    using syslog = openSyslog("q", `${dir}/log`);
    syslog!(Priority.Err, "lost", FIXED);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("syslogPriority() bumps only priorities above info, only with the bump", () => {
  strictEqual(syslogPriority(Priority.Debug, true), Priority.Info);
  strictEqual(syslogPriority(Priority.Debug, false), Priority.Debug);
  for (let p = Priority.Emerg; p <= Priority.Info; p++) {
    strictEqual(syslogPriority(p as Priority, true), p);
  }
});

function recorder(foreground: boolean, debugLevel: 0 | 1 | 2) {
  let stderr = "";
  const syslog: Array<[Priority, string]> = [];
  const logging = setupLogging({
    foreground,
    debugLevel,
    now: () => FIXED.getTime(),
    writeStderr: (text) => {
      stderr += text;
    },
    syslog: (priority, message) => syslog.push([priority, message]),
  });
  return { logging, stderr: () => stderr, syslog };
}

Deno.test("setupLogging() writes C-formatted lines to stderr in the foreground", () => {
  const r = recorder(true, 1);
  using _ = r.logging;
  r.logging.log(Priority.Debug, "Initializing nss");
  r.logging.log(Priority.Warning, "Client sent unsupported msg type 99. Skipping message");
  r.logging.log(Priority.Info, "braces {are} kept %s");
  strictEqual(
    r.stderr(),
    "Nov 02 03:04:05 debug   Initializing nss\n" +
      "Nov 02 03:04:05 warning Client sent unsupported msg type 99. Skipping message\n" +
      "Nov 02 03:04:05 info    braces {are} kept %s\n",
  );
});

Deno.test("setupLogging() drops debug messages unless debug is on", () => {
  const r = recorder(true, 0);
  using _ = r.logging;
  r.logging.log(Priority.Debug, "hidden");
  r.logging.log(Priority.Notice, "shown");
  strictEqual(r.stderr(), "Nov 02 03:04:05 notice  shown\n");
  deepStrictEqual(r.syslog, [[Priority.Notice, "shown"]]);
});

Deno.test("setupLogging() writes nothing to stderr without -f", () => {
  const r = recorder(false, 1);
  using _ = r.logging;
  r.logging.log(Priority.Err, "to syslog only");
  strictEqual(r.stderr(), "");
  deepStrictEqual(r.syslog, [[Priority.Err, "to syslog only"]]);
});

Deno.test("setupLogging() with -dd bumps debug to info in syslog but not on stderr", () => {
  const r = recorder(true, 2);
  using _ = r.logging;
  r.logging.log(Priority.Debug, "d");
  r.logging.log(Priority.Crit, "c");
  strictEqual(r.stderr(), "Nov 02 03:04:05 debug   d\nNov 02 03:04:05 crit    c\n");
  deepStrictEqual(r.syslog, [[Priority.Info, "d"], [Priority.Crit, "c"]]);
});

Deno.test("setupLogging() setDebug() changes the level at run time", () => {
  const r = recorder(true, 0);
  using _ = r.logging;
  r.logging.log(Priority.Debug, "a");
  r.logging.setDebug(2);
  strictEqual(r.logging.debugLevel, 2);
  r.logging.log(Priority.Debug, "b");
  r.logging.setDebug(1);
  r.logging.log(Priority.Debug, "c");
  r.logging.setDebug(0);
  r.logging.log(Priority.Debug, "d");
  strictEqual(r.stderr(), "Nov 02 03:04:05 debug   b\nNov 02 03:04:05 debug   c\n");
  deepStrictEqual(r.syslog, [[Priority.Info, "b"], [Priority.Debug, "c"]]);
});

Deno.test("setupLogging() replaces an earlier configuration", () => {
  const first = recorder(true, 1);
  const second = recorder(true, 1);
  using _ = second.logging;
  second.logging.log(Priority.Info, "x");
  first.logging.log(Priority.Info, "y"); // same LogTape category: goes to the current sink
  strictEqual(first.stderr(), "");
  strictEqual(second.stderr(), "Nov 02 03:04:05 info    x\nNov 02 03:04:05 info    y\n");
});

Deno.test("formatJsonLine() writes time, priority, level, message and the known fields", () => {
  const date = new Date(Date.UTC(2026, 11, 5, 7, 8, 9, 10));
  strictEqual(
    formatJsonLine(date, Priority.Err, 'Received "x"\nnext', {
      cluster: "c\u0001",
      nodeId: 2,
      clientAddress: "::ffff:10.0.0.1:5403",
      errorCode: 11,
    }),
    '{"time":"2026-12-05T07:08:09.010Z","priority":3,"level":"error","message":"Received \\"x\\"\\nnext",' +
      '"cluster":"c\\u0001","node_id":2,"client_address":"::ffff:10.0.0.1:5403","error_code":11}\n',
  );
  strictEqual(
    formatJsonLine(date, Priority.Debug, "m"),
    '{"time":"2026-12-05T07:08:09.010Z","priority":7,"level":"debug","message":"m"}\n',
  );
});

Deno.test("setupLogging() follows the format setting at every line, fields only in JSON", () => {
  let format: "text" | "json" = "json";
  let stderr = "";
  using _ = setupLogging({
    foreground: true,
    debugLevel: 0,
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    writeStderr: (text) => (stderr += text),
    format: () => format,
  });
  const log = _.log;
  log(Priority.Warning, "w", { nodeId: 1, errorCode: 4 });
  format = "text";
  log(Priority.Warning, "w", { nodeId: 1, errorCode: 4 });
  const [json, text] = stderr.split("\n");
  deepStrictEqual(JSON.parse(json!), {
    time: "2026-01-02T03:04:05.000Z",
    priority: 4,
    level: "warning",
    message: "w",
    node_id: 1,
    error_code: 4,
  });
  strictEqual(
    text,
    formatLogLine(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), Priority.Warning, "w").trimEnd(),
  );
});

Deno.test("setupLogging() for the journal starts every line with the <N> priority", () => {
  let stderr = "";
  let format: "text" | "json" = "text";
  using logging = setupLogging({
    foreground: true,
    debugLevel: 1,
    now: () => FIXED.getTime(),
    writeStderr: (text) => (stderr += text),
    journal: true,
    format: () => format,
  });
  logging.log(Priority.Debug, "d");
  logging.log(Priority.Warning, "w");
  format = "json";
  logging.log(Priority.Crit, "c");
  const lines = stderr.trimEnd().split("\n");
  deepStrictEqual(lines.slice(0, 2), [
    "<7>Nov 02 03:04:05 debug   d",
    "<4>Nov 02 03:04:05 warning w",
  ]);
  strictEqual(lines[2]!.slice(0, 3), "<2>");
  strictEqual(JSON.parse(lines[2]!.slice(3)).message, "c");
});

Deno.test("stderrIsJournal(): JOURNAL_STREAM must name stderr itself (dev:ino)", () => {
  const before = Deno.env.get("JOURNAL_STREAM");
  const stderr = fstatSync(2, { bigint: true });
  try {
    Deno.env.set("JOURNAL_STREAM", `${stderr.dev}:${stderr.ino}`);
    strictEqual(stderrIsJournal(), true);
    // Another stream: stdout on the journal, stderr elsewhere (Debian's unit).
    Deno.env.set("JOURNAL_STREAM", `${stderr.dev}:${stderr.ino + 1n}`);
    strictEqual(stderrIsJournal(), false);
    Deno.env.set("JOURNAL_STREAM", "garbage");
    strictEqual(stderrIsJournal(), false);
    Deno.env.delete("JOURNAL_STREAM");
    strictEqual(stderrIsJournal(), false);
  } finally {
    if (before === undefined) Deno.env.delete("JOURNAL_STREAM");
    else Deno.env.set("JOURNAL_STREAM", before);
  }
});
