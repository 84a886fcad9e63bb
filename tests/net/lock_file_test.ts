import assert from "node:assert/strict";
import { acquireLockFile, LockFileError } from "../../net/lock_file.ts";
import { holdLockElsewhere } from "../support/mod.ts";

Deno.test("acquireLockFile() creates the directory and writes the pid", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/run/qnetd.pid`;
    using lock = acquireLockFile(path, 4242);
    assert.equal(Deno.readTextFileSync(path), "4242\n");
    // Created 0640 (less the umask): never readable or writable by others.
    assert.equal(Deno.statSync(path).mode! & 0o007, 0);
    assert.ok(lock.fd > 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "acquireLockFile() refuses a file fcntl-locked by another process, until it lets go",
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync();
    try {
      const path = `${dir}/qnetd.pid`;
      const first = await holdLockElsewhere(path, 1);
      assert.equal(first.said, "locked");
      assert.throws(
        () => acquireLockFile(path, 2),
        (e) =>
          e instanceof LockFileError && e.anotherInstanceRunning &&
          e.message === "Another instance is running",
      );
      // The first holder's pid is untouched.
      assert.equal(Deno.readTextFileSync(path), "1\n");
      await first.release();
      using _lock = acquireLockFile(path, 2);
      // And now the other way round: ours holds, another process is refused. (Reading the
      // file here would open and close a descriptor of it, which releases a process's fcntl
      // locks: only after.)
      const second = await holdLockElsewhere(path, 3);
      assert.equal(second.said, "refused: Another instance is running");
      await second.release();
      assert.equal(Deno.readTextFileSync(path), "2\n");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "acquireLockFile() lets go when disposed",
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync();
    try {
      const path = `${dir}/qnetd.pid`;
      acquireLockFile(path, 5)[Symbol.dispose]();
      const other = await holdLockElsewhere(path, 6);
      assert.equal(other.said, "locked");
      await other.release();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("acquireLockFile() refuses a symlink at the lock path and leaves its target alone", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const target = `${dir}/precious`;
    Deno.writeTextFileSync(target, "keep me\n");
    Deno.symlinkSync(target, `${dir}/qnetd.pid`);
    assert.throws(
      () => acquireLockFile(`${dir}/qnetd.pid`, 7),
      (e) =>
        e instanceof LockFileError && !e.anotherInstanceRunning &&
        e.message === "Can't acquire lock (40): Too many levels of symbolic links",
    );
    assert.equal(Deno.readTextFileSync(target), "keep me\n");
    // A dangling symlink is not followed either: nothing is created at its target.
    Deno.symlinkSync(`${dir}/created`, `${dir}/dangling.pid`);
    assert.throws(() => acquireLockFile(`${dir}/dangling.pid`, 8), LockFileError);
    assert.throws(() => Deno.lstatSync(`${dir}/created`), Deno.errors.NotFound);
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
      e.message === "Can't acquire lock (20): Not a directory",
  );
});
