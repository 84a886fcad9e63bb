/**
 * The daemon's run-time privilege drop. The C daemon can only drop root (it runs as
 * `coroqnetd` under systemd); qnet also gives back the Deno permissions that only start-up
 * needs, with `Deno.permissions.revoke`, once the lock is held, the TLS keys are loaded and
 * both listeners are bound. A revoked permission cannot come back in the same process.
 *
 * What is revoked, and why it is safe (each checked on Deno 2.9.6):
 * - read of the socket file: nothing is read there again;
 * - read of the key directory (`nss_db_dir`), with `-s off` only. With TLS on it stays: SIGHUP
 *   re-reads the key material for a certificate rotation (cli/key_rotation.ts). The trade-off:
 *   code running in the daemon can read the private keys for its whole life, not only at
 *   start; the directory's mode (0700/0600, owned by the daemon's user) bounds who else can;
 * - ffi, with `-s off` only, and before anything else: the daemon never loads a library.
 *   With TLS on it stays (scoped to libssl): a bound symbol stays callable after a revoke,
 *   but every TLS read and write also builds pointer views (`Deno.UnsafePointer.of`,
 *   `UnsafePointerView`), and those check the ffi permission on each call;
 * - write of the lock file: the lock is held through the open file, which needs no permission;
 * - net for the TCP listen address, the metrics address and the unix socket: `accept()` on a
 *   bound listener is not checked again.
 *
 * - write of the key directory, sys, run, env: the worker the launcher (cli/sandbox.ts)
 *   starts the daemon in is never given them; revoking them costs nothing and keeps the
 *   daemon safe if it is run without the launcher.
 *
 * What stays: write of the socket file, which the daemon removes when it stops.
 *
 * Consequence: the daemon cannot reload anything else that start-up read: a changed listen
 * address needs a restart. Its keys it can reload (the C daemon reads its NSS database only
 * at start).
 *
 * Limit: code that holds libssl's symbols could still read files through OpenSSL, which Deno
 * does not see; the operating-system sandbox (user, systemd hardening) is what bounds that.
 *
 * @module
 */

import type { QnetdOptions } from "./qnetd_args.ts";

/**
 * `host:port` as Deno's net permission names the daemon's TCP listen address: `-l` verbatim,
 * else the wildcard of the address family (`[::]` for the dual-stack default).
 */
export function listenDescriptor(
  options: Pick<QnetdOptions, "listenAddr" | "addressFamily" | "port">,
): string {
  const host = options.listenAddr ?? (options.addressFamily === "ipv4" ? "0.0.0.0" : "::");
  return `${host.includes(":") ? `[${host}]` : host}:${options.port}`;
}

let workingDirectory: string | undefined;

/**
 * The directory relative paths of the command line are resolved against. The sandbox worker
 * is told the launcher's (cli/sandbox_worker.ts): it may not read its own (`Deno.cwd()`).
 */
export function setWorkingDirectory(cwd: string): void {
  workingDirectory = cwd;
}

/** `path` made absolute, as the grants are (a `unix:` permission must be absolute). */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `${workingDirectory ?? Deno.cwd()}/${path}`;
}

/** What the daemon was granted for start-up. */
export interface StartupGrants {
  /** `nss_db_dir`, read at start-up and on SIGHUP when TLS is on. */
  readonly keyDir: string;
  readonly lockFile: string;
  readonly socketFile: string;
  /** The TCP listen address as the net permission names it, e.g. `[::]:5403`. */
  readonly listen: string;
  /** TLS on: OpenSSL calls need ffi for the daemon's whole life. */
  readonly tls: boolean;
  /** The metrics endpoint's address as the net permission names it, when it listens. */
  readonly metrics?: string;
}

/** The permissions {@link dropStartupPermissions} revokes, in order. */
export function startupOnlyPermissions(grants: StartupGrants): Deno.PermissionDescriptor[] {
  return [
    // With TLS on, SIGHUP reads the keys again (key rotation): the read grant stays.
    ...(grants.tls ? [] : [{ name: "read", path: absolute(grants.keyDir) } as const]),
    { name: "read", path: absolute(grants.socketFile) },
    { name: "write", path: absolute(grants.lockFile) },
    { name: "net", host: grants.listen },
    { name: "net", host: `unix:${absolute(grants.socketFile)}` },
    ...(grants.metrics === undefined ? [] : [{ name: "net", host: grants.metrics } as const]),
    ...(grants.tls ? [] : [{ name: "ffi" } as const]),
    // Never needed by the daemon and never given to its worker; revoked in case it runs
    // without the launcher (a process holding another subcommand's grants).
    { name: "write", path: absolute(grants.keyDir) },
    { name: "sys" },
    { name: "run" },
    { name: "env" },
  ];
}

/**
 * Revokes every permission that only start-up needs (see the module text). Returns a
 * one-line summary for the debug log.
 */
export async function dropStartupPermissions(grants: StartupGrants): Promise<string> {
  const dropped: string[] = [];
  for (const descriptor of startupOnlyPermissions(grants)) {
    await Deno.permissions.revoke(descriptor);
    dropped.push(describe(descriptor));
  }
  return `Dropped permissions: ${dropped.join(", ")}`;
}

/** Revokes ffi at once, for a daemon started with `-s off`: it never loads a library. */
export async function dropFfi(): Promise<void> {
  await Deno.permissions.revoke({ name: "ffi" });
}

function describe(descriptor: Deno.PermissionDescriptor): string {
  switch (descriptor.name) {
    case "read":
    case "write":
      return `${descriptor.name} ${descriptor.path ?? "*"}`;
    case "net":
      return `net ${descriptor.host ?? "*"}`;
    default:
      return descriptor.name;
  }
}
