// deno-lint-ignore-file no-console -- a helper process: its stdout is its interface
/**
 * Holds the lock of net/lock_file.ts from another process (fcntl locks do not conflict inside
 * one process): `deno run -A _lock_holder.ts PATH PID` prints "locked" once it holds the
 * lock, or "refused: MESSAGE", and keeps the lock until its stdin closes.
 */
import { acquireLockFile } from "../../net/lock_file.ts";

const [path = "", pid = "0"] = Deno.args;
try {
  using _lock = acquireLockFile(path, Number(pid));
  console.log("locked");
  for await (const _ of Deno.stdin.readable) {
    // Wait for EOF.
  }
} catch (error) {
  console.log(`refused: ${error instanceof Error ? error.message : String(error)}`);
}
