import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { formatLogLine, setupLogging, syslogPriority } from "../../cli/logging.ts";
import { Priority } from "../../core/log.ts";

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
