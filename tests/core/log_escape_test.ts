import assert from "node:assert/strict";
import { escapeControlCharacters } from "../../core/log_escape.ts";
import { formatLogLine } from "../../cli/logging.ts";
import { Priority } from "../../core/log.ts";

Deno.test({
  name: "escapeControlCharacters() escapes C0, DEL, C1 and line separators, nothing else",
  permissions: "none",
  fn() {
    assert.equal(
      escapeControlCharacters("a\nb\r\tc\0\x1b[31m"),
      "a\\x0ab\\x0d\\x09c\\x00\\x1b[31m",
    );
    assert.equal(escapeControlCharacters("\x7f\x85\x9f"), "\\x7f\\x85\\x9f");
    assert.equal(escapeControlCharacters("a\u2028b\u2029"), "a\\u2028b\\u2029");
    const plain = 'debian "odd" \\ grüße \u00a0 \u{1f600} x';
    assert.equal(escapeControlCharacters(plain), plain);
  },
});

Deno.test({
  name: "formatLogLine() keeps one line per message whatever the message holds",
  permissions: "none",
  fn() {
    const date = new Date(2026, 10, 2, 23, 23, 11);
    const forged = "Client (cluster x\nNov 02 23:23:11 error   forged, node_id 1)";
    const line = formatLogLine(date, Priority.Debug, forged);
    assert.equal(
      line,
      "Nov 02 23:23:11 debug   Client (cluster x\\x0aNov 02 23:23:11 error   forged, node_id 1)\n",
    );
    assert.equal(line.split("\n").length, 2);
    assert.equal(
      formatLogLine(date, Priority.Info, "cluster name = debian"),
      "Nov 02 23:23:11 info    cluster name = debian\n",
    );
  },
});
