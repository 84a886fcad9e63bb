// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Creates the C tools' names as symlinks to the `qnet` executable, so that scripts and
 * packages that call corosync-qnetd, corosync-qnetd-tool, corosync-qnetd-certutil or
 * corosync-cmapctl get qnet (mod.ts dispatches on the name it was invoked as):
 *
 *   scripts/deno task install-links DIR [QNET]     # QNET defaults to DIR/qnet
 *
 * An existing symlink is replaced; an existing regular file (e.g. the C daemon from its
 * package) is left alone and reported, so that removing the C package stays a deliberate
 * step. Deno allows `symlink` only with unscoped read and write, so this runs as an
 * install-time script, never inside the sandboxed `qnet`.
 *
 * @module
 */
import { errorText } from "../core/error_text.ts";

/** The names created, as the C tools are called. */
export const LINK_NAMES: readonly string[] = [
  "corosync-qnetd",
  "corosync-qnetd-tool",
  "corosync-qnetd-certutil",
  "corosync-cmapctl",
];

/** What happened to one name. */
export interface LinkResult {
  readonly name: string;
  readonly action: "created" | "replaced" | "kept-file";
}

/** Links every name in `dir` to `target`; see the module text for existing files. */
export function installLinks(dir: string, target: string): LinkResult[] {
  return LINK_NAMES.map((name): LinkResult => {
    const path = `${dir}/${name}`;
    let existing: Deno.FileInfo | undefined;
    try {
      existing = Deno.lstatSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (existing !== undefined && !existing.isSymlink) return { name, action: "kept-file" };
    if (existing !== undefined) Deno.removeSync(path);
    Deno.symlinkSync(target, path);
    return { name, action: existing === undefined ? "created" : "replaced" };
  });
}

/** `install_links.ts DIR [QNET]`; returns the exit code. */
export function main(args: string[]): number {
  const [dir, target = `${args[0]}/qnet`] = args;
  if (dir === undefined || args.length > 2) {
    console.error("usage: install_links.ts DIR [QNET]   (QNET defaults to DIR/qnet)");
    return 2;
  }
  let results: LinkResult[];
  try {
    results = installLinks(dir, target);
  } catch (error) {
    console.error(`install_links: ${errorText(error)}`);
    return 1;
  }
  for (const { name, action } of results) {
    if (action === "kept-file") {
      console.error(`${dir}/${name} is a regular file (the C tool?): left alone, not linked`);
    } else console.log(`${dir}/${name} -> ${target} (${action})`);
  }
  return results.some((r) => r.action === "kept-file") ? 1 : 0;
}

if (import.meta.main) Deno.exit(main(Deno.args));
