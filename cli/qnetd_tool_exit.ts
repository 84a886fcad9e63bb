/**
 * Exit codes of corosync-qnetd-tool (enum qnetd_tool_exit_code), shared by its parts
 * (cli/qnetd_tool.ts, cli/qnetd_tool_events.ts).
 *
 * @module
 */

/** Exit codes of the C tool (enum qnetd_tool_exit_code). */
export const ToolExit = {
  Ok: 0,
  Usage: 1,
  InternalError: 2,
  SocketConnect: 3,
  QnetdReturnedError: 4,
} as const;
