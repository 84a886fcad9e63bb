/**
 * Syslog, against the real corosync-qnetd: in a private mount namespace with a throwaway
 * systemd-journald as the syslog daemon (tests/support/syslog_run.sh), the C daemon and ours
 * (as the binary runs) each start, get a client that sends an unsupported message type, and
 * stop. journald must keep every line C wrote to syslog also for ours, with the same
 * identifier (`corosync-qnetd`), facility (daemon), priority and text: in the foreground
 * (stderr discarded, as Debian's unit does) and detached without -f, where syslog is the
 * only log after start-up, and as Debian's unit runs it (stdout on the journal, so
 * JOURNAL_STREAM is set, and stderr to /dev/null). With stderr on the journal (JOURNAL_STREAM
 * naming stderr) ours writes no syslog line, so the journal does not get each line twice; its
 * stderr lines are there, with their own priorities.
 */
import assert from "node:assert/strict";
import {
  freePort,
  needAll,
  needCQnetd,
  needJournalScript,
  QNET_ARGV,
  runJournalScript,
  scriptSections,
  testNeeding,
} from "../support/mod.ts";

/** A syslog line as journald keeps it. */
interface Entry {
  readonly identifier: string;
  readonly facility: string;
  readonly priority: string;
  /** The text, with the client's port (which differs from run to run) as PORT. */
  readonly message: string;
}

/** A line of `journalctl -o json`, as an {@link Entry}. */
function entry(line: string): Entry {
  const json = JSON.parse(line);
  return {
    identifier: json.SYSLOG_IDENTIFIER,
    facility: json.SYSLOG_FACILITY,
    priority: json.PRIORITY,
    message: String(json.MESSAGE).replace(/(127\.0\.0\.1):\d+/g, "$1:PORT"),
  };
}

/**
 * The script's `journalctl -o json` output, by section ("c", "fg", "daemon", ...); lines that
 * are not entries ("-- No entries --") are left out.
 */
function sections(output: string): Map<string, Entry[]> {
  return new Map(
    [...scriptSections(output)].map((
      [name, lines],
    ) => [name, lines.filter((l) => l.startsWith("{")).map(entry)]),
  );
}

const key = (e: Entry) => `${e.priority} ${e.identifier} ${e.facility} ${e.message}`;

/** `expected` less `actual`, counting repeats (what C logged that ours did not). */
function missing(expected: readonly Entry[], actual: readonly Entry[]): string[] {
  const left = new Map<string, number>();
  for (const e of actual) left.set(key(e), (left.get(key(e)) ?? 0) + 1);
  const out: string[] = [];
  for (const e of expected) {
    const n = left.get(key(e)) ?? 0;
    if (n === 0) out.push(key(e));
    else left.set(key(e), n - 1);
  }
  return out;
}

testNeeding(
  needAll(needCQnetd(), needJournalScript()),
  {
    name: "qnetd logs to syslog as corosync-qnetd does: foreground, detached, not twice",
    async fn() {
      const work = await Deno.makeTempDir({ prefix: "qnet-syslog-" });
      try {
        const ports = [0, 1, 2, 3, 4].map((i) => freePort(47100 + i * 10, 47109 + i * 10));
        const stdout = await runJournalScript("syslog_run.sh", [
          ...ports.map(String),
          work,
          ...QNET_ARGV,
        ]);
        assert.match(stdout, /^daemon started: 0$/m, "the detached daemon did not start");
        const s = sections(stdout);
        const c = s.get("c") ?? [];
        assert.ok(
          c.some((e) => e.priority === "4" && /unsupported msg type 99/.test(e.message)),
          `the C daemon's syslog lines are not what this test expects:\n${stdout}`,
        );
        for (const name of ["fg", "daemon", "unit"]) {
          const ours = s.get(name) ?? [];
          assert.deepEqual(missing(c, ours), [], `${name}: lines C logged that ours did not`);
          // Ours may add debug lines of its own, nothing else.
          const extra = missing(ours, c);
          assert.ok(extra.every((k) => k.startsWith("7 ")), `${name}: extra lines ${extra}`);
        }
        assert.deepEqual(s.get("journal"), [], "stderr is the journal: no syslog line");
        assert.ok(
          (s.get("journal stderr") ?? []).some((e) =>
            e.priority === "4" && /unsupported msg type 99/.test(e.message)
          ),
          `the journal lacks the stderr warning at priority 4:\n${stdout}`,
        );
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  },
);
