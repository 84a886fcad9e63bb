/**
 * Decides whether this machine can run the interop tests: they need root (namespaces, mounts),
 * iproute2, util-linux and the corosync, corosync-qdevice and corosync-qnetd binaries.
 *
 * @module
 */

import { type Missing, needAll, needProgram, needRoot, testNeeding } from "../precondition.ts";
import { run } from "./command.ts";
import { uniqueToken } from "./netns.ts";

/** Each program and the Debian package that ships it. */
const PROGRAMS: ReadonlyArray<readonly [string, string]> = [
  ["ip", "iproute2"],
  ["unshare", "util-linux"],
  ["nsenter", "util-linux"],
  ["corosync", "corosync"],
  ["corosync-quorumtool", "corosync"],
  ["corosync-qdevice", "corosync-qdevice"],
  ["corosync-qdevice-tool", "corosync-qdevice"],
  ["/usr/bin/corosync-qnetd", "corosync-qnetd"],
  ["/usr/bin/corosync-qnetd-tool", "corosync-qnetd"],
];

let cached: Promise<Missing> | undefined;

async function probe(): Promise<Missing> {
  if (Deno.build.os !== "linux") return "Linux network namespaces";
  const missing = needAll(needRoot(), ...PROGRAMS.map(([p, pkg]) => needProgram(p, pkg)));
  if (missing !== undefined) return missing;
  // Namespaces may still be forbidden (e.g. an unprivileged container): try one.
  const ns = `qnt-${Deno.pid}-${uniqueToken()}-probe`;
  const added = await run(["ip", "netns", "add", ns], { check: false });
  if (added.code !== 0) return `network namespaces (ip netns add: ${added.stderr.trim()})`;
  await run(["ip", "netns", "del", ns], { check: false });
  return undefined;
}

/**
 * What the interop tests need and this machine lacks, or `undefined` when they can run.
 * Computed once per process.
 */
export function interopSkipReason(): Promise<Missing> {
  cached ??= probe();
  return cached;
}

/**
 * Registers an interop test through {@linkcode testNeeding}: ignored (and reported) when
 * {@linkcode interopSkipReason} says the machine cannot run it, failed under `CI=true`.
 */
export function interopTest(
  skipReason: Missing,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  testNeeding(skipReason, { name, fn });
}
