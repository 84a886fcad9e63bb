/**
 * Reads a process's /proc files through `cat` and `readlink`. Deno grants /proc/<pid>/ only to
 * `--allow-all`, and the test suite runs with named permissions (`--allow-run` among them), so
 * tests ask the system tools instead.
 *
 * @module
 */

function output(cmd: string, args: string[]): string {
  const out = new Deno.Command(cmd, { args, stdin: "null", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The text of /proc/`pid`/`name` (e.g. `status`, `cmdline`). */
export function procFile(pid: number, name: string): string {
  return output("cat", [`/proc/${pid}/${name}`]);
}

/** The target of the /proc/`pid`/`name` link (e.g. `exe`). */
export function procLink(pid: number, name: string): string {
  return output("readlink", [`/proc/${pid}/${name}`]).trimEnd();
}

/** Whether `pid` is a live process (not gone, not a zombie), as `ps` sees it. */
export function processAlive(pid: number): boolean {
  const out = new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)], stdin: "null" })
    .outputSync();
  const stat = new TextDecoder().decode(out.stdout).trim();
  return out.success && stat !== "" && !stat.startsWith("Z");
}
