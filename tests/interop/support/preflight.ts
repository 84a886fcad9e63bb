/**
 * Decides whether this machine can run the interop tests: they need root (namespaces, mounts),
 * iproute2, util-linux and the corosync, corosync-qdevice and corosync-qnetd binaries.
 *
 * @module
 */

import { hasProgram, run } from "./command.ts";
import { uniqueToken } from "./netns.ts";

const PROGRAMS = [
  "ip",
  "unshare",
  "nsenter",
  "corosync",
  "corosync-quorumtool",
  "corosync-qdevice",
  "corosync-qdevice-tool",
  "/usr/bin/corosync-qnetd",
  "/usr/bin/corosync-qnetd-tool",
] as const;

let cached: Promise<string | undefined> | undefined;

async function probe(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "interop tests need Linux network namespaces";
  if (Deno.uid() !== 0) return "interop tests need root (network and mount namespaces)";
  const missing = PROGRAMS.filter((p) => !hasProgram(p));
  if (missing.length > 0) return `interop tests need ${missing.join(", ")}`;
  // Namespaces may still be forbidden (e.g. an unprivileged container): try one.
  const ns = `qnt-${Deno.pid}-${uniqueToken()}-probe`;
  const added = await run(["ip", "netns", "add", ns], { check: false });
  if (added.code !== 0) {
    return `interop tests cannot create a network namespace: ${added.stderr.trim()}`;
  }
  await run(["ip", "netns", "del", ns], { check: false });
  return undefined;
}

/**
 * Why the interop tests cannot run here, or `undefined` when they can. Computed once per process.
 */
export function interopSkipReason(): Promise<string | undefined> {
  cached ??= probe();
  return cached;
}

/**
 * Registers an interop test: ignored, with the reason written once to stderr, when
 * {@linkcode interopSkipReason} says the machine cannot run it.
 */
export function interopTest(
  skipReason: string | undefined,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({ name, ignore: skipReason !== undefined, fn });
}

let warned = false;

/** Writes "skipping interop tests: REASON" to stderr once per process. */
export function reportSkip(skipReason: string | undefined): void {
  if (skipReason === undefined || warned) return;
  warned = true;
  Deno.stderr.writeSync(new TextEncoder().encode(`skipping interop tests: ${skipReason}\n`));
}
