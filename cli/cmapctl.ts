import type { CliIo } from "./io.ts";

/** Placeholder until the subcommand lands. */
export function main(_args: string[], io: CliIo): Promise<number> {
  io.err("qnet: cmapctl is not implemented yet\n");
  return Promise.resolve(1);
}
