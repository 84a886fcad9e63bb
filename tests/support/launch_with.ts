/**
 * The launcher's worker path (cli/sandbox.ts runInWorker()) with a given permission set in
 * place of the computed one, for the test of what a refused access prints. Run with the
 * baked flags, as the launcher is.
 *
 * Arguments: SET_JSON qnet-arguments... (e.g. `{"read":[...]} qnetd -f ...`).
 *
 * @module
 */
import { configFilePath } from "../../cli/config_file.ts";
import { commandLinePermissions } from "../../cli/permission_sets.ts";
import { runInWorker } from "../../cli/sandbox.ts";
import { dispatchOf } from "../../cli/subcommands.ts";

const [setJson = "{}", ...args] = Deno.args;
const dispatch = dispatchOf(args);
const computed = await commandLinePermissions(dispatch.subcommand, dispatch.args, configFilePath());
Deno.exit(
  await runInWorker({
    args,
    programName: "qnet",
    program: dispatch.program,
    computed: { set: JSON.parse(setJson), rows: computed.rows },
    detached: false,
  }),
);
