/**
 * The daemon's lock (pid) file, as utils_flock() in the C daemon (qdevices/utils.c): create
 * the directory as a last resort (mode 0770), open or create the file (0640), take an
 * exclusive fcntl(2) record lock on the whole file without waiting, then truncate it and
 * write "<pid>\n". The file stays locked while the process lives and, as with the C daemon,
 * is not removed on exit.
 *
 * The lock is the C daemon's own kind (fcntl, through libc: net/libc_ffi.ts), so each daemon
 * sees the other's: starting qnet while corosync-qnetd runs, or the other way round, fails at
 * the lock with "Another instance is running", before the pid file or the socket is touched.
 * (Deno's `FsFile.lock()` is flock(2), which Linux keeps apart from fcntl locks.)
 *
 * Beyond C: the file is opened with O_NOFOLLOW, so a symlink planted at the lock path is
 * refused ("Too many levels of symbolic links") instead of having its target truncated and
 * overwritten with the pid.
 *
 * The open, lock and write go through libc, outside Deno's permission checks, so the write
 * grant of the lock file is checked first with a permission query (which
 * DENO_AUDIT_PERMISSIONS does not record).
 *
 * fcntl locks belong to the process, not to the descriptor: a second lock from the same
 * process succeeds, and closing any descriptor of the file releases the lock. The daemon
 * opens the file once and keeps that descriptor until it exits.
 *
 * @module
 */
import { dirname } from "../core/path.ts";
import {
  cPath,
  EACCES,
  EAGAIN,
  EINTR,
  F_SETLK,
  F_WRLCK,
  FLOCK_LEN,
  FLOCK_SIZE,
  FLOCK_START,
  FLOCK_TYPE,
  FLOCK_WHENCE,
  lastErrno,
  libc,
  LibcLoadError,
  type LibcSymbols,
  O_CLOEXEC,
  O_CREAT,
  O_NOFOLLOW,
  O_WRONLY,
  SEEK_SET,
  strerror,
} from "./libc_ffi.ts";

/** Mode of a new lock file, as C's open(..., 0640). */
const LOCK_FILE_MODE = 0o640;
/** Mode of the directory created as a last resort, as C's mkdir(..., 0770). */
const LOCK_DIR_MODE = 0o770;
/** How many times an interrupted call is retried (C retries without bound). */
const EINTR_RETRIES = 100;

/** Why the lock could not be taken, with the C daemon's log text. */
export class LockFileError extends Error {
  readonly anotherInstanceRunning: boolean;
  constructor(message: string, anotherInstanceRunning: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockFileError";
    this.anotherInstanceRunning = anotherInstanceRunning;
  }
}

/** A held lock: dispose it to release the lock (closing the descriptor). */
export interface LockFile extends Disposable {
  /** The open descriptor, kept for the process's life. */
  readonly fd: number;
}

/** A `struct flock` for a write lock (or a query) on the whole file. */
function wholeFileLock(type: number): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(FLOCK_SIZE);
  const view = new DataView(buf.buffer);
  view.setInt16(FLOCK_TYPE, type, true);
  view.setInt16(FLOCK_WHENCE, SEEK_SET, true);
  view.setBigInt64(FLOCK_START, 0n, true);
  view.setBigInt64(FLOCK_LEN, 0n, true);
  return buf;
}

/** Runs `call` again while it fails with EINTR; returns its result and errno. */
function retrying(lib: LibcSymbols, call: () => number): { rc: number; errno: number } {
  for (let i = 0;; i++) {
    const rc = call();
    if (rc !== -1) return { rc, errno: 0 };
    const errno = lastErrno(lib);
    if (errno !== EINTR || i >= EINTR_RETRIES) return { rc, errno };
  }
}

function failure(lib: LibcSymbols, errno: number): LockFileError {
  return new LockFileError(`Can't acquire lock (${errno}): ${strerror(lib, errno)}`, false);
}

/**
 * libc does not go through Deno's sandbox: ask Deno whether writing the lock file is granted,
 * and refuse as Deno itself would (the same NotCapable message) when it is not.
 */
function requireWriteGrant(path: string): void {
  if (Deno.permissions.querySync({ name: "write", path }).state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires write access to "${path}", run again with the --allow-write flag`,
    );
  }
}

/** Takes the lock and writes our pid. Keep the result until the process exits. */
export function acquireLockFile(path: string, pid: number = Deno.pid): LockFile {
  try {
    Deno.mkdirSync(dirname(path), { mode: LOCK_DIR_MODE });
  } catch {
    // Usually exists already; if it really is missing, opening the file says why.
  }
  requireWriteGrant(path);
  let lib: LibcSymbols;
  try {
    lib = libc();
  } catch (error) {
    if (!(error instanceof LibcLoadError)) throw error;
    throw new LockFileError(`Can't acquire lock (-1): ${error.message}`, false, { cause: error });
  }
  const cpath = cPath(path);
  const opened = retrying(
    lib,
    () => lib.open(cpath, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, LOCK_FILE_MODE),
  );
  if (opened.rc === -1) throw failure(lib, opened.errno);
  const fd = opened.rc;
  let unlinkOnError = false;
  try {
    const locked = retrying(lib, () => lib.fcntl(fd, F_SETLK, wholeFileLock(F_WRLCK)));
    if (locked.rc === -1) {
      if (locked.errno === EAGAIN || locked.errno === EACCES) {
        throw new LockFileError("Another instance is running", true);
      }
      throw failure(lib, locked.errno);
    }
    unlinkOnError = true;
    if (lib.ftruncate(fd, 0n) === -1) throw failure(lib, lastErrno(lib));
    const text = new TextEncoder().encode(`${pid >>> 0}\n`);
    const written = retrying(lib, () => Number(lib.write(fd, text, BigInt(text.length))));
    if (written.rc !== text.length) {
      throw written.rc === -1
        ? failure(lib, written.errno)
        : new LockFileError(`Can't acquire lock (-1): short write of the pid`, false);
    }
  } catch (error) {
    // As C: a lock taken but not written leaves no half-written pid file behind.
    if (unlinkOnError) lib.unlink(cpath);
    lib.close(fd);
    throw error;
  }
  let open = true;
  return {
    fd,
    [Symbol.dispose]() {
      if (!open) return;
      open = false;
      lib.close(fd);
    },
  };
}
