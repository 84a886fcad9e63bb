/**
 * The least Deno permissions each `qnet` subcommand needs, computed from its command line.
 * Every grant is one row of a rule table below: which option leads to it, why it is needed
 * and, for an optional feature, when it applies. A new option that needs a grant adds one row.
 *
 * deno.json's "permissions" sets are this module's results for the default command lines
 * (tests/permissions/permission_sets_test.ts keeps the two equal), and
 * `scripts/permission_sets.ts` prints the set for any command line.
 *
 * Why each grant exists (see docs/deployment.md, "Permission model"):
 * - qnetd: net for its TCP listen address and its unix socket; read of the key directory
 *   (the NSS database or PEM files, at start and on SIGHUP for a key rotation), of its
 *   configuration file (at start and on SIGHUP) and of the socket file; write of the lock
 *   file and the socket file only (the runtime directory is created by systemd or
 *   tmpfiles.d); ffi for libc.so.6 (the fcntl lock of the lock file, as C's, revoked once it
 *   is held) and for libssl.so.3 only when TLS is not off; env QNETD_CONFIG_FILE (another
 *   configuration file), JOURNAL_STREAM (stderr is the journal) and NOTIFY_SOCKET (a
 *   Type=notify unit) only. No run or sys.
 *   The configuration file's settings (port, socket, ...) count like the command line's:
 *   compute the set from the effective values.
 * - qnetd-tool, cmapctl: the daemon's local socket (net, plus read and write of its path,
 *   which connecting to a unix socket needs). cmapctl -p FILE needs read of FILE on top.
 * - certutil: write of its directory, read of its parent (as root it stats the parent to
 *   give new files the parent's owner, as the C script does) and sys "uid" (to know whether
 *   it runs as root). Signing reads the request (-c FILE) wherever it is (pcs writes it to
 *   /tmp); `--export-pem DIR` writes DIR. No subcommand runs programs.
 *
 * @module
 */
import { listenDescriptor } from "./privilege_drop.ts";
import { metricsListenDescriptor, parseMetricsListen } from "../core/metrics/listen_address.ts";
import { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } from "./config_file.ts";
import { parseOptions } from "./getopt.ts";
import { JOURNAL_STREAM_ENV } from "./logging.ts";
import { NOTIFY_SOCKET_ENV } from "../net/sd_notify.ts";
import { parseQnetdArgs, type QnetdOptions } from "./qnetd_args.ts";
import { DEFAULT_QNETD_SETTINGS } from "../core/settings.ts";
import { DEFAULT_CERT_DIR } from "../core/certs/layout.ts";
import { TlsSupported } from "../core/protocol/constants.ts";
import { dirname } from "../core/path.ts";

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

/**
 * The daemon's local socket by default, where qnetd-tool and cmapctl look without -p/-P
 * (cli/qnetd_tool.ts has the same path; taken from the settings so that the launcher does
 * not load the tool's code).
 */
const DEFAULT_SOCKET_PATH = DEFAULT_QNETD_SETTINGS.localSocketFile;

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

/**
 * Where libc.so.6 may be, as net/libc_ffi.ts looks for it: the daemon locks its lock file
 * with fcntl(2) through libc, as the C daemon does.
 */
export const LIBC_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/aarch64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib64/libc.so.6",
  "/lib64/libc.so.6",
];

/** The environment variable that marks the detached copy of a daemon started without -f. */
export const DETACHED_ENV = "QNET_DETACHED";

/** Environment variables the launcher itself reads. */
const LAUNCHER_ENV: readonly string[] = [DETACHED_ENV];

const CONFIG_RULE_OPTION = `${CONFIG_FILE_ENV} (default ${DEFAULT_CONFIG_FILE})`;

/** One grant of a subcommand: the option that leads to it, why, and when it applies. */
export interface PermissionRule<I> {
  /** The option (or setting, or default) the grant follows, as a user would write it. */
  readonly option: string;
  /** Why the subcommand needs the grant. */
  readonly why: string;
  /** Whether the rule applies to this invocation; always when absent. */
  readonly when?: (invocation: I) => boolean;
  /** The grant for this invocation. */
  readonly grant: (invocation: I) => PermissionSet;
}

/** What the daemon's rules see: its effective options and configuration file. */
export interface QnetdInvocation {
  readonly options: QnetdOptions;
  readonly configFile: string;
}

/** What the rules of a local-socket client (qnetd-tool, cmapctl) see. */
export interface SocketClientInvocation {
  readonly socketPath: string;
  /** cmapctl -p FILE: a file of settings to load. */
  readonly loadFile?: string;
}

/** What certutil's rules see. */
export interface CertutilInvocation {
  /** The key directory (-d). */
  readonly dir: string;
  /** -c FILE: the request to sign. */
  readonly requestFile?: string;
  /** `--export-pem DIR`: where the PEM copies of the keys are written. */
  readonly exportTo?: string;
}

const tlsOn = (i: QnetdInvocation) => i.options.tls !== TlsSupported.Unsupported;
const metricsListenOf = (i: QnetdInvocation) =>
  parseMetricsListen(i.options.settings.metricsListen);

/**
 * The daemon's rules. Row order is the order grants are listed in (deno.json and the
 * printed flags).
 */
export const QNETD_RULES: readonly PermissionRule<QnetdInvocation>[] = [
  {
    option: "-S nss_db_dir",
    why: "the server key and certificates are loaded at start and on SIGHUP (TLS on)",
    when: tlsOn,
    grant: (i) => ({ read: [i.options.settings.nssDbDir] }),
  },
  {
    option: CONFIG_RULE_OPTION,
    why: "the configuration file is read at start and on SIGHUP",
    grant: (i) => ({ read: [i.configFile] }),
  },
  {
    option: "-l, -p, -4/-6",
    why: "the TCP listen address",
    grant: (i) => ({ net: [listenDescriptor(i.options)] }),
  },
  {
    option: "-S metrics_listen",
    why: "the Prometheus metrics endpoint, exactly its address (revoked once bound)",
    when: (i) => metricsListenOf(i) !== undefined,
    grant: (i) => {
      const listen = metricsListenOf(i);
      return listen === undefined ? {} : { net: [metricsListenDescriptor(listen)] };
    },
  },
  {
    option: "-S lock_file",
    why: "the lock (pid) file is written at start",
    grant: (i) => ({ write: [i.options.settings.lockFile] }),
  },
  {
    option: "-S lock_file",
    why: "the lock file is locked with fcntl(2) through libc, as the C daemon locks it " +
      "(revoked once the lock is held)",
    grant: () => ({ ffi: [...LIBC_PATHS] }),
  },
  {
    option: "-S local_socket_file",
    why: "the local socket is bound at start and removed at exit",
    grant: (i) => {
      const path = i.options.settings.localSocketFile;
      return { read: [path], write: [path], net: [`unix:${path}`] };
    },
  },
  {
    option: "-s",
    why: "TLS through OpenSSL (libssl.so.3) unless -s off",
    when: tlsOn,
    grant: () => ({ ffi: [...LIBSSL_PATHS] }),
  },
  {
    option: CONFIG_FILE_ENV,
    why: "names another configuration file",
    grant: () => ({ env: [CONFIG_FILE_ENV] }),
  },
  {
    option: `${JOURNAL_STREAM_ENV} (set by systemd)`,
    why: "stderr is the journal: log lines get the <N> priority prefix, and skip syslog",
    grant: () => ({ env: [JOURNAL_STREAM_ENV] }),
  },
  {
    option: `${NOTIFY_SOCKET_ENV} (set by systemd)`,
    why: "a Type=notify unit: the daemon sends READY=1 there once it serves",
    grant: () => ({ env: [NOTIFY_SOCKET_ENV] }),
  },
];

/** The rules of a local-socket client: qnetd-tool, and cmapctl. */
export const SOCKET_CLIENT_RULES: readonly PermissionRule<SocketClientInvocation>[] = [
  {
    option: "-p (qnetd-tool), -P (cmapctl)",
    why: "the daemon's local socket: connecting to a unix socket needs net, read and write",
    grant: (i) => ({ read: [i.socketPath], write: [i.socketPath], net: [`unix:${i.socketPath}`] }),
  },
  {
    option: "-p (cmapctl)",
    why: "the file of settings to load",
    when: (i) => i.loadFile !== undefined,
    grant: (i) => ({ read: [i.loadFile!] }),
  },
];

/** certutil's rules. */
export const CERTUTIL_RULES: readonly PermissionRule<CertutilInvocation>[] = [
  {
    option: "-d",
    why: "as root, new files get the owner of the key directory's parent, as the C script does",
    grant: (i) => ({ read: [dirname(i.dir)] }),
  },
  {
    option: "-c",
    why: "the certificate request to sign",
    when: (i) => i.requestFile !== undefined,
    grant: (i) => ({ read: [i.requestFile!] }),
  },
  {
    option: "-d",
    why: "the key directory is created and written",
    grant: (i) => ({ write: [i.dir] }),
  },
  {
    option: "--export-pem",
    why: "the PEM copies of the keys are written there",
    when: (i) => i.exportTo !== undefined,
    grant: (i) => ({ write: [i.exportTo!] }),
  },
  {
    option: "(always)",
    why: "whether it runs as root",
    grant: () => ({ sys: ["uid"] }),
  },
];

/** The set `rules` grant for `invocation`: the union of the rows that apply. */
export function setOf<I>(rules: readonly PermissionRule<I>[], invocation: I): PermissionSet {
  return unionOf(
    rules.filter((rule) => rule.when?.(invocation) ?? true).map((rule) => rule.grant(invocation)),
  );
}

/** The daemon's set for already parsed options and its configuration file. */
export function qnetdPermissionsFor(
  options: QnetdOptions,
  configFile = DEFAULT_CONFIG_FILE,
): PermissionSet {
  return setOf(QNETD_RULES, { options, configFile });
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
  return setOf(SOCKET_CLIENT_RULES, { socketPath });
}

/** certutil's set for its directory (-d). */
export function certutilPermissions(dir = DEFAULT_CERT_DIR): PermissionSet {
  return setOf(CERTUTIL_RULES, { dir });
}

/** The sets deno.json declares, by name, for the default paths and command lines. */
export function declaredSets(): Map<string, PermissionSet> {
  return new Map<string, PermissionSet>([
    ["qnetd", qnetdPermissions()],
    ["qnetd-tool", socketClientPermissions()],
    ["cmapctl", socketClientPermissions()],
    ["certutil", certutilPermissions()],
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

/** One row that applied to an invocation, with what it granted. */
export interface AppliedRule {
  readonly option: string;
  readonly why: string;
  readonly grant: PermissionSet;
}

/** The least set of one invocation, and the rows it came from (for messages). */
export interface ComputedPermissions {
  readonly set: PermissionSet;
  readonly rows: readonly AppliedRule[];
}

/** The rows of `rules` that apply to `invocation`, and their union. */
export function computeWith<I>(
  rules: readonly PermissionRule<I>[],
  invocation: I,
): ComputedPermissions {
  const rows = rules.filter((rule) => rule.when?.(invocation) ?? true).map((rule) => ({
    option: rule.option,
    why: rule.why,
    grant: rule.grant(invocation),
  }));
  return { set: unionOf(rows.map((row) => row.grant)), rows };
}

/** Nothing at all: what a command line that does not parse (or asks for help) needs. */
export const NOTHING: ComputedPermissions = { set: {}, rows: [] };

/**
 * The least set for one invocation of `subcommand` (undefined: `qnet` itself, for help or
 * an unknown name) with `args`, after its configuration file (qnetd: `configFile`, which
 * the caller took from the environment). A command line that does not parse gets
 * {@link NOTHING}: the subcommand only prints its usage error. A configuration file that
 * cannot be used gets the read of that file, so that the daemon names the error itself.
 */
export async function commandLinePermissions(
  subcommand: string | undefined,
  args: string[],
  configFile = DEFAULT_CONFIG_FILE,
  cwd: string = Deno.cwd(),
): Promise<ComputedPermissions> {
  const { rows } = await relativePermissions(subcommand, args, configFile);
  const absolute = rows.map((row) => ({ ...row, grant: absoluteSet(row.grant, cwd) }));
  return { set: unionOf(absolute.map((row) => row.grant)), rows: absolute };
}

/**
 * `set` with relative paths made absolute against `cwd`, as the subcommand will resolve
 * them: a Worker's permissions take absolute paths only (and `unix:` sockets must be).
 */
export function absoluteSet(set: PermissionSet, cwd: string): PermissionSet {
  const absolute = (path: string) => path.startsWith("/") ? path : `${cwd}/${path}`;
  const out: PermissionSet = {};
  for (const kind of PERMISSION_KINDS) {
    const values = set[kind];
    if (values === undefined) continue;
    out[kind] = kind === "read" || kind === "write" || kind === "ffi"
      ? values.map(absolute)
      : kind === "net"
      ? values.map((v) => v.startsWith("unix:") ? `unix:${absolute(v.slice("unix:".length))}` : v)
      : values;
  }
  return out;
}

/** {@link commandLinePermissions} before relative paths are made absolute. */
async function relativePermissions(
  subcommand: string | undefined,
  args: string[],
  configFile: string,
): Promise<ComputedPermissions> {
  switch (subcommand) {
    case "qnetd": {
      const parsed = parseQnetdArgs(args);
      if (!parsed.ok) return NOTHING;
      const { applyConfigFile } = await import("./config_file.ts");
      try {
        applyConfigFile(parsed.options, args, configFile);
      } catch {
        const configRows = [CONFIG_RULE_OPTION, CONFIG_FILE_ENV];
        return computeWith(QNETD_RULES.filter((rule) => configRows.includes(rule.option)), {
          options: parsed.options,
          configFile,
        });
      }
      return computeWith(QNETD_RULES, { options: parsed.options, configFile });
    }
    case "qnetd-tool": {
      const { TOOL_ARGS } = await import("./qnetd_tool.ts");
      const parsed = parseOptions(args, TOOL_ARGS);
      if (!parsed.ok) return NOTHING;
      return computeWith(SOCKET_CLIENT_RULES, { socketPath: parsed.options.socketPath });
    }
    case "cmapctl": {
      const { CMAPCTL_ARGS } = await import("./cmapctl.ts");
      const parsed = parseOptions(args, CMAPCTL_ARGS);
      if (!parsed.ok) return NOTHING;
      const inv = parsed.options;
      return computeWith(SOCKET_CLIENT_RULES, {
        socketPath: inv.socketPath ?? DEFAULT_SOCKET_PATH,
        ...(inv.action === "load" ? { loadFile: inv.settingsFile } : {}),
      });
    }
    case "certutil": {
      const { CERTUTIL_ARGS } = await import("./certutil.ts");
      const result = parseOptions(args, CERTUTIL_ARGS);
      if (!result.ok) return NOTHING;
      const parsed = result.options;
      return computeWith(CERTUTIL_RULES, {
        dir: parsed.dir,
        ...(parsed.operation === "sign" && parsed.certificateFile !== ""
          ? { requestFile: parsed.certificateFile }
          : {}),
        ...(parsed.operation === "export" ? { exportTo: parsed.target } : {}),
      });
    }
    default:
      return NOTHING;
  }
}

/** A grant of any path or address, or a bounded list. */
export type WidestGrant = true | string[];

/**
 * The widest grants of any valid command line of any subcommand: what the compiled binary
 * (the outer process) is built with. read, write and net are open, since any path and
 * address may be named on a command line or in the configuration file; run is open, since
 * the daemon without -f starts a detached copy of the executable, whose path is only known
 * at run time. ffi, env and sys are
 * bounded: the union of every rule's grants, plus the environment the launcher reads.
 */
export function widestSet(): Record<PermissionKind, WidestGrant> {
  const fixed = unionOf([
    ...QNETD_RULES.map((rule) => rule.grant(SAMPLE_QNETD)),
    ...SOCKET_CLIENT_RULES.map((rule) => rule.grant(SAMPLE_CLIENT)),
    ...CERTUTIL_RULES.map((rule) => rule.grant(SAMPLE_CERTUTIL)),
    { env: [...LAUNCHER_ENV] },
  ]);
  return {
    read: true,
    write: true,
    net: true,
    ffi: fixed.ffi ?? [],
    run: true,
    sys: fixed.sys ?? [],
    env: fixed.env ?? [],
  };
}

/** The `--allow-*` flags of {@link widestSet}. */
export function widestFlags(): string[] {
  const widest = widestSet();
  return PERMISSION_KINDS.flatMap((kind) => {
    const grant = widest[kind];
    if (grant === true) return [`--allow-${kind}`];
    return grant.length === 0 ? [] : [`--allow-${kind}=${grant.join(",")}`];
  });
}

const SAMPLE_QNETD: QnetdInvocation = (() => {
  const parsed = parseQnetdArgs([]);
  if (!parsed.ok) throw new Error("the default command line does not parse");
  return { options: parsed.options, configFile: DEFAULT_CONFIG_FILE };
})();
const SAMPLE_CLIENT: SocketClientInvocation = { socketPath: DEFAULT_SOCKET_PATH, loadFile: "/" };
const SAMPLE_CERTUTIL: CertutilInvocation = {
  dir: DEFAULT_CERT_DIR,
  requestFile: "/",
  exportTo: "/",
};
