// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Prints the least Deno permissions of a `qnet` command line, as the launcher computes them
 * at run time (cli/permission_sets.ts commandLinePermissions(), with QNETD_CONFIG_FILE and
 * the configuration file for the daemon): the `--allow-*` flags (first line, for `deno run`
 * without the launcher) and the set as JSON (second line); on stderr, each grant with the
 * option it follows from and why.
 *
 *   scripts/deno run --allow-read --allow-env scripts/permission_sets.ts qnetd -p 5404
 *   scripts/deno run --allow-read --allow-env scripts/permission_sets.ts qnetd-tool -s -p /run/q.sock
 *
 * @module
 */
import { configFilePath } from "../cli/config_file.ts";
import { commandLinePermissions, toFlags } from "../cli/permission_sets.ts";
import { dispatchOf } from "../cli/subcommands.ts";

if (import.meta.main) {
  const dispatch = dispatchOf(Deno.args);
  if (dispatch.subcommand === undefined) {
    console.error(
      "usage: permission_sets.ts qnetd|qnetd-tool|cmapctl|certutil [its options]",
    );
    Deno.exit(2);
  }
  const config = dispatch.subcommand === "qnetd" ? configFilePath() : undefined;
  const { set, rows } = await commandLinePermissions(dispatch.subcommand, dispatch.args, config);
  console.log(toFlags(set).join(" "));
  console.log(JSON.stringify(set));
  for (const row of rows) {
    console.error(`# ${JSON.stringify(row.grant)}: ${row.option}: ${row.why}`);
  }
}
