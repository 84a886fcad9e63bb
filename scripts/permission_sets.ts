// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Prints the least Deno permissions of a `qnet` subcommand for a command line, as
 * `--allow-*` flags (first line) and as JSON (second line). The rules live in
 * cli/permission_sets.ts; this is only their command-line front end:
 *
 *   scripts/deno run scripts/permission_sets.ts qnetd -p 5404 -S local_socket_file=/run/q.sock
 *
 * @module
 */
import {
  certutilImportPermissions,
  certutilPermissions,
  type PermissionSet,
  qnetdPermissions,
  socketClientPermissions,
  toFlags,
} from "../cli/permission_sets.ts";

const COMPUTE = new Map<string, (args: string[]) => PermissionSet>([
  ["qnetd", (args) => qnetdPermissions(args)],
  ["qnetd-tool", (args) => socketClientPermissions(args[0])],
  ["cmapctl", (args) => socketClientPermissions(args[0])],
  ["certutil", (args) => certutilPermissions(args[0])],
  ["certutil-import", (args) => certutilImportPermissions(args[0], args[1])],
]);

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  const compute = name === undefined ? undefined : COMPUTE.get(name);
  if (compute === undefined) {
    console.error(
      "usage: permission_sets.ts qnetd [qnetd options] | qnetd-tool [socket] | " +
        "cmapctl [socket] | certutil [dir] | certutil-import [dir] [nssdb dir]",
    );
    Deno.exit(2);
  }
  const set = compute(rest);
  console.log(toFlags(set).join(" "));
  console.log(JSON.stringify(set));
}
