/**
 * Exit statuses shared by the tools: C's `EXIT_SUCCESS` and `EXIT_FAILURE`, which
 * corosync-qnetd, corosync-cmapctl and the certutil script use for every outcome. A tool with
 * more outcomes names its own (corosync-qnetd-tool: `ToolExit` in cli/qnetd_tool_exit.ts).
 *
 * @module
 */

/** `EXIT_SUCCESS` / `EXIT_FAILURE` of `<stdlib.h>`. */
export const ExitStatus = {
  Success: 0,
  Failure: 1,
} as const;
