import assert from "node:assert/strict";
import { acquireLockFile, LockFileError } from "../../net/lock_file.ts";

Deno.test("acquireLockFile() creates the directory and writes the pid", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/run/qnetd.pid`;
    using file = acquireLockFile(path, 4242);
    assert.equal(Deno.readTextFileSync(path), "4242\n");
    // Created 0640 (less the umask): never readable or writable by others.
    assert.equal(Deno.statSync(path).mode! & 0o007, 0);
    assert.ok(file);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("acquireLockFile() refuses a file locked by another holder", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/qnetd.pid`;
    using _first = acquireLockFile(path, 1);
    assert.throws(
      () => acquireLockFile(path, 2),
      (e) =>
        e instanceof LockFileError && e.anotherInstanceRunning &&
        /Another instance/.test(e.message),
    );
    // The first holder's pid is untouched.
    assert.equal(Deno.readTextFileSync(path), "1\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("acquireLockFile() reports an unusable path with errno and text", () => {
  // A regular file where the directory should be: open() fails with ENOTDIR.
  const notADir = Deno.makeTempFileSync();
  using _cleanup = { [Symbol.dispose]: () => Deno.removeSync(notADir) };
  assert.throws(
    () => acquireLockFile(`${notADir}/qnetd.pid`, 1),
    (e) =>
      e instanceof LockFileError && !e.anotherInstanceRunning &&
      /^Can't acquire lock \(\d+\): /.test(e.message),
  );
});
