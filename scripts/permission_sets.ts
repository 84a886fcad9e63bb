// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * The least Deno permissions each `qnet` subcommand needs, computed from its command line.
 * deno.json's "permissions" sets are these functions' results for the default command lines
 * (tests/permissions/permission_sets_test.ts keeps the two equal), scripts/compile.ts builds
 * the binary from them, and an operator who changes -p, -l, -4/-6, -s or -S prints the flags
 * for their own command line:
 *
 *   scripts/deno run scripts/permission_sets.ts qnetd -p 5404 -S local_socket_file=/run/q.sock
 *
 * Why each grant exists (see docs/deployment.md, "Permission model"):
 * - qnetd: net for its TCP listen address, its unix socket and, with `-S metrics_listen`,
 *   exactly the metrics address; read of the key directory
 *   (a stat: OpenSSL reads the PEM files itself), of its configuration file (at start and on
 *   SIGHUP) and of the socket file; write of the lock file and the socket file only (the
 *   runtime directory is created by systemd or tmpfiles.d); ffi for libssl.so.3 only when
 *   TLS is not off; env QNETD_CONFIG_FILE only (another configuration file). No run or sys.
 *   The configuration file's settings (port, socket, ...) count like the command line's:
 *   compute the set from the effective values.
 * - qnetd-tool, cmapctl: the daemon's local socket (net, plus read and write of its path,
 *   which connecting to a unix socket needs). cmapctl -p FILE needs read of FILE on top.
 * - certutil: write of its directory, read of its parent (as root it stats the parent to
 *   give new files the parent's owner, as the C script does) and sys "uid" (to know whether
 *   it runs as root). Signing reads the request (-c FILE), which must be in the directory or
 *   be granted on top.
 * - certutil-import: certutil plus run of certutil, pk12util and openssl and write of the
 *   temporary directory, for the one-time `--import-nssdb` migration only: a program started
 *   through `run` is not sandboxed, so this grant stays out of the everyday set.
 *
 * @module
 */
import { listenDescriptor } from "../cli/privilege_drop.ts";
import { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } from "../cli/config_file.ts";
import { parseQnetdArgs, type QnetdOptions } from "../cli/qnetd_args.ts";
import { DEFAULT_SOCKET_PATH } from "../cli/qnetd_tool.ts";
import { DEFAULT_CERT_DIR } from "../core/certs/layout.ts";
import { TlsSupported } from "../core/protocol/constants.ts";
import { dirname } from "../core/path.ts";
import { metricsListenDescriptor, parseMetricsListen } from "../core/metrics/listen_address.ts";

/** One permission set, in the shape of a deno.json "permissions" entry. */
export interface PermissionSet {
  read?: string[];
  write?: string[];
  net?: string[];
  ffi?: string[];
  run?: string[];
  sys?: string[];
  env?: string[];
}

/** The permission kinds, in the order flags are printed. */
export const PERMISSION_KINDS = ["read", "write", "net", "ffi", "run", "sys", "env"] as const;

/** A permission kind of {@link PermissionSet}. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/**
 * Where libssl.so.3 may be, as net/openssl_ffi.ts looks for it. FFI is granted per file, so
 * listing a path that does not exist on this system grants nothing.
 */
export const LIBSSL_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libssl.so.3",
  "/usr/lib/aarch64-linux-gnu/libssl.so.3",
  "/usr/lib64/libssl.so.3",
  "/usr/lib/libssl.so.3",
];

/** The programs `certutil --import-nssdb` runs. */
export const IMPORT_PROGRAMS: readonly string[] = ["certutil", "pk12util", "openssl"];

/**
 * The daemon's set for already parsed options and its configuration file (see the module
 * text for why each grant).
 */
export function qnetdPermissionsFor(
  options: QnetdOptions,
  configFile = DEFAULT_CONFIG_FILE,
): PermissionSet {
  const { lockFile, localSocketFile, nssDbDir } = options.settings;
  const tls = options.tls !== TlsSupported.Unsupported;
  const metrics = parseMetricsListen(options.settings.metricsListen);
  return {
    read: [...(tls ? [nssDbDir] : []), configFile, localSocketFile],
    write: [lockFile, localSocketFile],
    net: [
      listenDescriptor(options),
      ...(metrics === undefined ? [] : [metricsListenDescriptor(metrics)]),
      `unix:${localSocketFile}`,
    ],
    ...(tls ? { ffi: [...LIBSSL_PATHS] } : {}),
    env: [CONFIG_FILE_ENV],
  };
}

/**
 * The daemon's set for a `corosync-qnetd` command line.
 *
 * @throws {Error} with the daemon's own message when the command line is invalid.
 */
export function qnetdPermissions(
  args: readonly string[] = [],
  configFile = DEFAULT_CONFIG_FILE,
): PermissionSet {
  const parsed = parseQnetdArgs(args);
  if (!parsed.ok) throw new Error(`Invalid qnetd command line: ${parsed.stderr.trim()}`);
  return qnetdPermissionsFor(parsed.options, configFile);
}

/** The set of a client of the local socket (qnetd-tool, and cmapctl without -p). */
export function socketClientPermissions(socketPath = DEFAULT_SOCKET_PATH): PermissionSet {
  return { read: [socketPath], write: [socketPath], net: [`unix:${socketPath}`] };
}

/** certutil's set for its directory (-d). */
export function certutilPermissions(dir = DEFAULT_CERT_DIR): PermissionSet {
  return { read: [dirname(dir)], write: [dir], sys: ["uid"] };
}

/** certutil's set for `--import-nssdb NSSDIR` into `dir`. */
export function certutilImportPermissions(
  dir = DEFAULT_CERT_DIR,
  nssDir = DEFAULT_CERT_DIR,
  tempDir = "/tmp",
): PermissionSet {
  return unionOf([
    certutilPermissions(dir),
    { read: [nssDir], write: [tempDir], run: [...IMPORT_PROGRAMS] },
  ]);
}

/** The sets deno.json declares, by name, for the default paths and command lines. */
export function declaredSets(): Map<string, PermissionSet> {
  return new Map<string, PermissionSet>([
    ["qnetd", qnetdPermissions()],
    ["qnetd-tool", socketClientPermissions()],
    ["cmapctl", socketClientPermissions()],
    ["certutil", certutilPermissions()],
    ["certutil-import", certutilImportPermissions()],
  ]);
}

/** Every grant of any of `sets`, each once, in first-seen order. */
export function unionOf(sets: readonly PermissionSet[]): PermissionSet {
  const out: PermissionSet = {};
  for (const kind of PERMISSION_KINDS) {
    const values = [...new Set(sets.flatMap((set) => set[kind] ?? []))];
    if (values.length > 0) out[kind] = values;
  }
  return out;
}

/** The `--allow-*` flags granting `set`, for `deno run` or `deno compile`. */
export function toFlags(set: PermissionSet): string[] {
  return PERMISSION_KINDS.flatMap((kind) => {
    const values = set[kind];
    return values === undefined ? [] : [`--allow-${kind}=${values.join(",")}`];
  });
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  const compute = new Map<string, (args: string[]) => PermissionSet>([
    ["qnetd", (args) => qnetdPermissions(args)],
    ["qnetd-tool", (args) => socketClientPermissions(args[0])],
    ["cmapctl", (args) => socketClientPermissions(args[0])],
    ["certutil", (args) => certutilPermissions(args[0])],
    ["certutil-import", (args) => certutilImportPermissions(args[0], args[1])],
  ]);
  const fn = name === undefined ? undefined : compute.get(name);
  if (fn === undefined) {
    console.error(
      "usage: permission_sets.ts qnetd [qnetd options] | qnetd-tool [socket] | " +
        "cmapctl [socket] | certutil [dir] | certutil-import [dir] [nssdb dir]",
    );
    Deno.exit(2);
  }
  const set = fn(rest);
  console.log(toFlags(set).join(" "));
  console.log(JSON.stringify(set));
}
