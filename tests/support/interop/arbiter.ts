/**
 * The arbiter under test, as a parameter of the interop harness. An {@linkcode ArbiterSpec} says
 * how to start a QNet arbiter in a network namespace and how to ask it for its client list;
 * the harness does the rest. Swapping the real `corosync-qnetd` for another implementation is a
 * matter of passing another spec (or setting `QNET_INTEROP_ARBITER`, see
 * {@linkcode arbiterFromEnv}).
 *
 * @module
 */

import { prepareUnprivileged, UNPRIVILEGED_UID, unprivilegedQnetdArgv } from "../unprivileged.ts";
import { QNET_ARGV } from "../qnet_command.ts";

/** TLS for the arbiter: `-s MODE -S nss_db_dir=KEYDIR`. */
export interface ArbiterTls {
  readonly mode: "on" | "req";
  /** The key directory: PEM files for qnet, an NSS database for the C daemon. */
  readonly keyDir: string;
}

/** How to run one arbiter implementation. */
export interface ArbiterSpec {
  /** Shown in test names and messages. */
  readonly name: string;
  /**
   * Starts the arbiter in the foreground inside network namespace `ns`, listening on TCP `port`
   * with TLS off unless `tls` says otherwise, keeping its lock file, local socket and log under
   * `dir`. Returns the process, whose pid is the daemon's own (it is killed with SIGKILL by
   * that pid).
   */
  start(ns: string, port: number, dir: string, tls?: ArbiterTls): Deno.ChildProcess;
  /** Whether the key directory is an NSS database (the C daemon) or PEM files (qnet). */
  readonly keyFormat: "nss" | "pem";
  /** The uid the daemon must run as, checked after every start; `undefined`: not checked. */
  readonly uid?: number;
  /** The argv that runs the status tool with `args` against the arbiter started with `dir`. */
  toolArgv(dir: string, args: readonly string[]): string[];
}

/**
 * Builds the whole daemon argv from the qnetd arguments, for launchers that need more than a
 * prefix (another user, a permission set computed from the arguments).
 */
export type DaemonArgv = (qnetdArgs: string[], dir: string, tls?: ArbiterTls) => string[];

/** Where an arbiter started by {@linkcode commandArbiter} keeps its local socket. */
export function arbiterSocket(dir: string): string {
  return `${dir}/qnetd.sock`;
}

/** Where an arbiter started by {@linkcode commandArbiter} writes its stdout and stderr. */
export function arbiterLog(dir: string): string {
  return `${dir}/arbiter.log`;
}

/**
 * An arbiter driven through the `corosync-qnetd` command line: `daemon` is the argv prefix of
 * the daemon, `tool` the argv prefix of its `corosync-qnetd-tool`. The daemon gets
 * `-f -d -p PORT -s off -S lock_file=DIR/qnetd.pid -S local_socket_file=DIR/qnetd.sock`
 * (with TLS: `-s MODE -S nss_db_dir=KEYDIR` instead of `-s off`), the tool `-p DIR/qnetd.sock`
 * plus the query arguments, so any drop-in replacement fits.
 */
export function commandArbiter(
  name: string,
  daemon: readonly string[] | DaemonArgv,
  tool: readonly string[],
  keyFormat: "nss" | "pem" = "pem",
  uid?: number,
): ArbiterSpec {
  return {
    name,
    keyFormat,
    ...(uid === undefined ? {} : { uid }),
    start(ns, port, dir, tls) {
      const args = [
        "-f",
        "-d",
        "-p",
        String(port),
        "-s",
        tls?.mode ?? "off",
        ...(tls === undefined ? [] : ["-S", `nss_db_dir=${tls.keyDir}`]),
        "-S",
        `lock_file=${dir}/qnetd.pid`,
        "-S",
        `local_socket_file=${arbiterSocket(dir)}`,
      ];
      const argv = typeof daemon === "function" ? daemon(args, dir, tls) : [...daemon, ...args];
      // `ip netns exec` and `sh -c exec` both exec, so the child's pid is the daemon's.
      return new Deno.Command("ip", {
        args: ["netns", "exec", ns, "sh", "-c", 'exec "$@" >>"$0" 2>&1', arbiterLog(dir), ...argv],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    },
    toolArgv(dir, args) {
      return [...tool, ...args, "-p", arbiterSocket(dir)];
    },
  };
}

/** The real Debian `corosync-qnetd` 3.0.3, the ground truth. */
export const realQnetd: ArbiterSpec = commandArbiter(
  "corosync-qnetd",
  ["/usr/bin/corosync-qnetd"],
  ["/usr/bin/corosync-qnetd-tool"],
  "nss",
);

/**
 * This project's `qnet qnetd` as it is meant to run: as uid/gid 65534 (not root), as the
 * binary runs (the launcher with the baked flags, the daemon in a worker holding exactly the
 * set cli/permission_sets.ts computes for its command line; no -A), see
 * tests/support/unprivileged.ts. The arbiter's directory and key directory are given to that
 * user first.
 */
export const qnetQnetdUnprivileged: DaemonArgv = (args, dir, tls) => {
  prepareUnprivileged(dir, tls === undefined ? [] : [tls.keyDir]);
  return unprivilegedQnetdArgv(dir, args);
};

/**
 * The arbiter the interop tests run: our `qnet qnetd`, unprivileged and sandboxed by its
 * computed permission set (with the real corosync-qnetd-tool reading its state, so the tool's
 * view is checked too), unless `QNET_INTEROP_ARBITER` says otherwise: `qnet-root` for ours as
 * root (as the binary runs), `c` for the real corosync-qnetd (to check the harness itself against the C
 * daemon), or a whole daemon command line, with `QNET_INTEROP_ARBITER_TOOL` for its tool and
 * `QNET_INTEROP_ARBITER_KEYS=nss` if it reads an NSS database rather than PEM files.
 */
export function arbiterFromEnv(): ArbiterSpec {
  const daemon = Deno.env.get("QNET_INTEROP_ARBITER")?.trim();
  if (daemon === undefined || daemon === "" || daemon === "qnet") {
    return commandArbiter(
      "qnet qnetd as uid 65534",
      qnetQnetdUnprivileged,
      ["/usr/bin/corosync-qnetd-tool"],
      "pem",
      UNPRIVILEGED_UID,
    );
  }
  if (daemon === "qnet-root") {
    return commandArbiter(
      "qnet qnetd",
      [...QNET_ARGV, "qnetd"],
      ["/usr/bin/corosync-qnetd-tool"],
    );
  }
  if (daemon === "c") return realQnetd;
  const tool = Deno.env.get("QNET_INTEROP_ARBITER_TOOL")?.trim() || "/usr/bin/corosync-qnetd-tool";
  const format = Deno.env.get("QNET_INTEROP_ARBITER_KEYS") === "nss" ? "nss" : "pem";
  return commandArbiter(daemon, daemon.split(/\s+/), tool.split(/\s+/), format);
}
