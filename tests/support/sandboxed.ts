/**
 * Runs `qnet qnetd` as a subprocess as the binary runs (the launcher with the baked flags,
 * the daemon in a worker with the set cli/permission_sets.ts computes for the test's command
 * line), never -A, with a permission audit log, and waits until both its sockets answer.
 *
 * @module
 */
import { bakedFlags } from "../../cli/baked_flags.ts";
import { main as certutilMain } from "../../cli/certutil.ts";
import { RecordingIo } from "../../cli/io.ts";
import { DETACHED_ENV, type PermissionSet, qnetdPermissions } from "../../cli/permission_sets.ts";
import { QNET_RUN_ARGS } from "./qnet_command.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;

/** One line of DENO_AUDIT_PERMISSIONS output. */
export interface AuditEntry {
  readonly permission: string;
  readonly value: string | null;
}

/** A temporary directory with a QNet CA and server certificate made by `qnet certutil -i`. */
export async function makeKeyDir(parent: string): Promise<string> {
  const dir = `${parent}/keys`;
  const io = new RecordingIo();
  const code = await certutilMain(["-i", "-d", dir], io);
  if (code !== 0) throw new Error(`certutil -i failed: ${io.stderr}`);
  // PEM copies next to the NSS database (which the daemon reads; it wins over PEM files), for
  // the tests that look at the key files or give them to an OpenSSL client.
  if (await certutilMain(["-d", dir, "--export-pem", dir], io) !== 0) {
    throw new Error(`certutil --export-pem failed: ${io.stderr}`);
  }
  return dir;
}

/** The test's configuration file (absent unless a test writes it), next to the audit log. */
export function configFileOf(auditFile: string): string {
  return `${auditFile.slice(0, auditFile.lastIndexOf("/"))}/qnetd.toml`;
}

/** The daemon's paths inside `dir`. */
export function daemonPaths(dir: string) {
  return {
    lockFile: `${dir}/run/qnetd.pid`,
    socketFile: `${dir}/run/qnetd.sock`,
    auditFile: `${dir}/audit.jsonl`,
  };
}

/** The qnetd arguments for `dir`, `port` and extra flags. */
export function daemonArgs(dir: string, keyDir: string, port: number, extra: string[]): string[] {
  const { lockFile, socketFile } = daemonPaths(dir);
  return [
    "-f",
    "-d",
    "-p",
    String(port),
    ...extra,
    "-S",
    `nss_db_dir=${keyDir},lock_file=${lockFile},local_socket_file=${socketFile}`,
  ];
}

/** A daemon subprocess. */
export interface Sandboxed {
  readonly child: Deno.ChildProcess;
  readonly declared: PermissionSet;
  /** Sends SIGTERM, waits (SIGKILL after 5 s) and returns exit code and stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/**
 * Starts the daemon as the binary runs and waits until ready; `declared` is the set its
 * launcher computes for `args` (and the test's configuration file).
 */
export async function startSandboxed(args: string[], auditFile: string): Promise<Sandboxed> {
  const permissions = qnetdPermissions(args, configFileOf(auditFile));
  const child = new Deno.Command(Deno.execPath(), {
    args: [...QNET_RUN_ARGS, "qnetd", ...args],
    env: {
      DENO_AUDIT_PERMISSIONS: auditFile,
      LC_ALL: "C",
      QNETD_CONFIG_FILE: configFileOf(auditFile),
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    const killer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
    const out = await output;
    clearTimeout(killer);
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  const port = Number(args[args.indexOf("-p") + 1]);
  const socketFile = /local_socket_file=([^,]+)/.exec(args.join(" "))?.[1] ?? "";
  const until = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      await status;
      const { code, stderr } = await stop();
      throw new Error(`daemon exited with ${code} at start:\n${stderr}`);
    }
    try {
      (await Deno.connect({ transport: "unix", path: socketFile })).close();
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { child, declared: permissions, stop };
    } catch {
      if (Date.now() > until) {
        const { stderr } = await stop();
        throw new Error(`daemon did not start within 20 s:\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Runs the daemon in the launcher's worker holding `permissions` in place of the computed
 * set (tests/support/launch_with.ts) until it exits by itself (bounded: 20 s).
 */
export async function runToExit(
  args: string[],
  permissions: PermissionSet,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...bakedFlags(),
      `${ROOT}tests/support/launch_with.ts`,
      JSON.stringify(permissions),
      "qnetd",
      ...args,
    ],
    env: { LC_ALL: "C", QNETD_CONFIG_FILE: "/nonexistent/qnetd.toml" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(killer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The audit log's entries. */
export function readAudit(file: string): AuditEntry[] {
  return Deno.readTextFileSync(file).split("\n").filter((l) => l !== "").map((line) => {
    const { permission, value } = JSON.parse(line) as AuditEntry;
    return { permission, value };
  });
}

/**
 * True for an audit entry of the launcher rather than of the worker: loading the program's
 * modules (`file://` URLs, checked before the launcher gives up its grants), giving up its
 * unscoped grants (value null), reading QNET_DETACHED, and the write check Deno 2.9.6 logs
 * next to every read while unscoped write is granted (for the configuration file it reads
 * to compute the set). Everything else must be inside the computed set.
 */
export function launcherEntry(entry: AuditEntry, configFile: string): boolean {
  return entry.value === null || entry.value.startsWith("file://") ||
    (entry.permission === "env" && entry.value === DETACHED_ENV) ||
    (entry.permission === "write" && entry.value === configFile);
}

/** True when `set` grants `entry` (paths by prefix, as Deno grants a directory's contents). */
export function grants(set: PermissionSet, entry: AuditEntry): boolean {
  const values = set[entry.permission as keyof PermissionSet];
  if (values === undefined || entry.value === null) return false;
  if (entry.permission === "read" || entry.permission === "write" || entry.permission === "ffi") {
    return values.some((v) => entry.value === v || entry.value!.startsWith(`${v}/`));
  }
  return values.includes(entry.value);
}
