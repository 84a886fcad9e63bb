// deno-lint-ignore-file no-console -- a program: stdout is how it reports
/**
 * A probe in place of cli/sandbox_worker.ts, speaking its protocol (cli/sandbox_messages.ts):
 * when told to run, it prints on stdout, as JSON, which of the candidate permissions it
 * was given (`init.args[0]`: a JSON list of descriptors), by
 * `Deno.permissions.query`.
 *
 * @module
 */
import type { FromWorker, ToWorker } from "../../cli/sandbox_messages.ts";

const scope = globalThis as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
let candidates: Deno.PermissionDescriptor[] = [];

scope.onmessage = async (event) => {
  const message = event.data;
  if (message.type === "init") {
    candidates = JSON.parse(message.args[0] ?? "[]");
    scope.postMessage({ type: "loaded" });
    return;
  }
  const states = [];
  for (const d of candidates) states.push({ ...d, state: (await Deno.permissions.query(d)).state });
  console.log(JSON.stringify(states));
  scope.postMessage({ type: "exit", code: 0 });
};
