/**
 * `qnet`: a drop-in replacement for corosync's QNet arbiter and its tools, in one executable.
 *
 * `qnet <subcommand> [args]`, or the executable installed (or linked) under a C tool's name,
 * in which case it behaves as that tool: `corosync-qnetd`, `corosync-qnetd-tool`,
 * `corosync-qnetd-certutil`, `corosync-cmapctl`.
 *
 * Run as a program, it is the launcher (cli/sandbox.ts): it computes the least permissions
 * of the command line, runs the subcommand in a worker holding exactly those, and gives up
 * its own.
 *
 * @module
 */
import process from "node:process";
import { launch } from "./cli/sandbox.ts";

export { run } from "./cli/subcommands.ts";

if (import.meta.main) {
  await launch(Deno.args, process.argv0);
}
