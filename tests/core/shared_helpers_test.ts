import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { errorText, osError, strerrorText } from "../../core/error_text.ts";
import { dirname } from "../../core/path.ts";
import { fitsSunPath, SUN_PATH_MAX } from "../../ipc/socket_path.ts";

Deno.test("errorText() is an Error's message, anything else as String()", () => {
  assert.equal(errorText(new RangeError("out")), "out");
  assert.equal(errorText("thrown text"), "thrown text");
  assert.equal(errorText(7), "7");
  assert.equal(errorText(undefined), "undefined");
  // A refused access keeps what and where, not Deno's --allow-* advice (a binary takes none).
  assert.equal(
    errorText(
      new Deno.errors.NotCapable(
        'Requires net access to "unix:/r/q.sock", run again with the --allow-net flag',
      ),
    ),
    'Requires net access to "unix:/r/q.sock"',
  );
});

Deno.test("osError() and strerrorText() split Deno's '(os error N)' as C prints strerror", () => {
  const e = new Deno.errors.NotFound("No such file or directory (os error 2): open '/x'");
  assert.deepEqual(osError(e), { text: "No such file or directory", errno: 2 });
  assert.equal(strerrorText(e), "No such file or directory");
  assert.equal(strerrorText(new Error("Broken pipe (os error 32)")), "Broken pipe");
  assert.equal(osError(new Error("plain")), undefined);
  assert.equal(strerrorText(new Error("plain")), "plain");
});

Deno.test("dirname() follows POSIX dirname(3)", () => {
  for (
    const [path, dir] of [
      ["/etc/corosync/qnetd/nssdb", "/etc/corosync/qnetd"],
      ["/etc/corosync/qnetd/", "/etc/corosync"],
      ["/run", "/"],
      ["/", "/"],
      ["file", "."],
      ["a/b", "a"],
    ]
  ) assert.equal(dirname(path!), dir, path);
});

Deno.test("concatBytes() joins parts into a new array", () => {
  const a = Uint8Array.of(1, 2);
  const joined = concatBytes([a, Uint8Array.of(), Uint8Array.of(3)]);
  assert.deepEqual(joined, Uint8Array.of(1, 2, 3));
  assert.deepEqual(concatBytes([]), new Uint8Array(0));
  const one = concatBytes([a]);
  one[0] = 9;
  assert.equal(a[0], 1, "a copy, never the part itself");
});

Deno.test("fitsSunPath() leaves room for the NUL of sun_path, in bytes", () => {
  assert.equal(fitsSunPath(""), false);
  assert.equal(fitsSunPath("x".repeat(SUN_PATH_MAX - 1)), true);
  assert.equal(fitsSunPath("x".repeat(SUN_PATH_MAX)), false);
  assert.equal(fitsSunPath("é".repeat(54)), false, "108 bytes in UTF-8");
});
