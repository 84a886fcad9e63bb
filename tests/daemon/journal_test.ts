/**
 * The daemon's stderr on a real systemd journal: a throwaway systemd-journald in a private
 * mount namespace (everything it writes on tmpfs), `qnet qnetd -f -d` (as the binary runs,
 * in its sandbox) under systemd-cat
 * with JOURNAL_STREAM set as systemd sets it, in the text and the JSON format. journald
 * must store each line's own priority, so `journalctl -p warning` shows the warning and
 * none of the debug lines. tests/support/journal_run.sh does the namespace part. Ports
 * 44120-44149 (branch "history").
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  freePort,
  needJournalScript,
  QNET_ARGV,
  runJournalScript,
  scriptSections,
  testNeeding,
} from "../support/mod.ts";

testNeeding(
  needJournalScript(),
  {
    name: "qnetd under the journal: journalctl -p warning filters its text and JSON lines",
    async fn() {
      const work = await Deno.makeTempDir({ prefix: "hist-journal-" });
      try {
        const stdout = await runJournalScript("journal_run.sh", [
          String(freePort(44120, 44134)),
          String(freePort(44135, 44149)),
          work,
          ...QNET_ARGV,
        ]);
        const s = scriptSections(stdout);

        const textWarnings = s.get("text -p warning") ?? [];
        assert(
          textWarnings.some((l) =>
            / warning Client sent unsupported msg type 99\. Skipping message$/.test(l)
          ),
          stdout,
        );
        assert(!textWarnings.some((l) => / debug /.test(l)), "no debug line under -p warning");
        const textAll = (s.get("text json") ?? []).map((l) => JSON.parse(l));
        const warning = textAll.find((e) => String(e.MESSAGE).includes("Skipping message"));
        assertEquals(warning?.PRIORITY, "4");
        assert(textAll.some((e) => e.PRIORITY === "7"), "debug lines stored as 7");
        assert(textAll.every((e) => !String(e.MESSAGE).startsWith("<")), "prefix consumed");

        const jsonWarnings = (s.get("json -p warning") ?? []).map((l) => JSON.parse(l));
        assert(jsonWarnings.length > 0, stdout);
        assert(jsonWarnings.every((r) => r.priority <= 4), JSON.stringify(jsonWarnings));
        const skipped = jsonWarnings.find((r) => String(r.message).includes("Skipping message"));
        assertEquals([skipped?.priority, skipped?.error_code], [4, 4]);
        const jsonAll = (s.get("json json") ?? []).map((l) => JSON.parse(l));
        assert(jsonAll.some((e) => e.PRIORITY === "7"));
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  },
);
