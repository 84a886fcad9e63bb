/**
 * The daemon's lock (net/lock_file.ts) held by another process, for tests: fcntl locks do not
 * conflict inside one process, so a second holder must be a process of its own. It runs
 * `deno eval` on a few lines that take the lock, say "locked" (or "refused: MESSAGE") and keep
 * the lock until their stdin closes.
 *
 * @module
 */

const LOCK_FILE_MODULE = new URL("../../net/lock_file.ts", import.meta.url).href;

/** What the other process said, and how to end it (which releases its lock). */
export interface OtherLockHolder {
  /** "locked", or "refused: " and the LockFileError's message. */
  readonly said: string;
  release(): Promise<void>;
}

/** Starts a process that tries to lock `path` writing `pid`; waits (20 s at most) for its word. */
export async function holdLockElsewhere(path: string, pid: number): Promise<OtherLockHolder> {
  const code = `
    import { acquireLockFile } from ${JSON.stringify(LOCK_FILE_MODULE)};
    const out = (text) => Deno.stdout.writeSync(new TextEncoder().encode(text + "\\n"));
    try {
      using _lock = acquireLockFile(${JSON.stringify(path)}, ${pid});
      out("locked");
      for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
    } catch (error) {
      out("refused: " + error.message);
    }
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  const until = Date.now() + 20_000;
  while (!said.includes("\n") && Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    said += value;
  }
  return {
    said: said.trim(),
    async release() {
      await child.stdin.close();
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}
