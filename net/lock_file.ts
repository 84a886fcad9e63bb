/**
 * The daemon's lock (pid) file, as utils_flock() in the C daemon: create the directory as a
 * last resort (mode 0770), open or create the file (0640), take an exclusive lock without
 * waiting, then write "<pid>\n". The file stays locked while the process lives and, as with
 * the C daemon, is not removed on exit.
 *
 * One difference: Deno locks with flock(2), the C daemon with fcntl(2). The two kinds do not
 * see each other on Linux, so this lock keeps two qnet daemons apart but not a qnet and a C
 * daemon on the same file. Both also need the TCP port, so the second one fails to bind anyway.
 *
 * @module
 */
import { osErrorSuffix } from "./os_error.ts";
import { dirname } from "../core/path.ts";

/** Why the lock could not be taken, with the C daemon's log text. */
export class LockFileError extends Error {
  readonly anotherInstanceRunning: boolean;
  constructor(message: string, anotherInstanceRunning: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockFileError";
    this.anotherInstanceRunning = anotherInstanceRunning;
  }
}

/** Takes the lock and writes our pid. Keep the returned file open for the process's life. */
export function acquireLockFile(path: string, pid: number = Deno.pid): Deno.FsFile {
  try {
    Deno.mkdirSync(dirname(path), { mode: 0o770 });
  } catch {
    // Usually exists already; if it really is missing, opening the file says why.
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, create: true, mode: 0o640 });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new LockFileError(`Can't acquire lock ${osErrorSuffix(error)}`, false, { cause: error });
  }
  try {
    if (!file.tryLockSync(true)) {
      throw new LockFileError("Another instance is running", true);
    }
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${pid}\n`));
    return file;
  } catch (error) {
    file.close();
    if (error instanceof LockFileError) throw error;
    throw new LockFileError(`Can't acquire lock ${osErrorSuffix(error)}`, false, { cause: error });
  }
}
