// deno-lint-ignore-file no-console -- a program: stdout is how it reports
/**
 * The launcher's path (cli/sandbox.ts) with tests/support/query_probe_worker.ts as the
 * worker: computes the set of a `qnet` command line as the launcher does, runs the probe in
 * a worker holding exactly that set, and prints, as JSON, the probe's query results and then
 * this process's own (after it gave its grants up). Run with the baked flags.
 *
 * Arguments: CANDIDATES_JSON qnet-arguments...
 *
 * @module
 */
import { configFilePath } from "../../cli/config_file.ts";
import { commandLinePermissions } from "../../cli/permission_sets.ts";
import { runInWorker } from "../../cli/sandbox.ts";
import { dispatchOf } from "../../cli/subcommands.ts";

const [candidatesJson = "[]", ...args] = Deno.args;
const dispatch = dispatchOf(args);
const computed = await commandLinePermissions(dispatch.subcommand, dispatch.args, configFilePath());
const code = await runInWorker({
  args: [candidatesJson],
  programName: "qnet",
  program: dispatch.program,
  computed,
  detached: false,
  workerUrl: new URL("./query_probe_worker.ts", import.meta.url),
});
const candidates: Deno.PermissionDescriptor[] = JSON.parse(candidatesJson);
const own = [];
for (const d of candidates) own.push({ ...d, state: (await Deno.permissions.query(d)).state });
console.log(JSON.stringify({ set: computed.set, parent: own }));
Deno.exit(code);
