/**
 * One cluster node: a network namespace plus a private mount namespace in which `corosync` and
 * `corosync-qdevice` run with their own /etc/corosync, /var/lib/corosync, /run (pid files and
 * the qdevice socket), /var/log/corosync and /dev/shm (libqb IPC rings). corosync's own IPC
 * sockets are abstract unix sockets, which the network namespace already separates.
 *
 * A long-lived "holder" process owns the mount namespace (it is `cat` reading a pipe from this
 * process, so it also ends if the test process dies); corosync, qdevice and the query tools
 * join it with `nsenter -t HOLDER -m -n`.
 *
 * @module
 */

import { run } from "./command.ts";
import { parseQuorumStatus, type QuorumStatus } from "./quorumtool.ts";
import { parseQdeviceStatus, type QdeviceStatus } from "./status_text.ts";
import { WaitAbortedError, waitUntil } from "./wait.ts";
import { errorText } from "../../../core/error_text.ts";
import { pathExists } from "../files.ts";

/** The node directories bind-mounted over the system ones inside the node's mount namespace. */
const MOUNTS: ReadonlyArray<readonly [string, string]> = [
  ["etc", "/etc/corosync"],
  ["lib", "/var/lib/corosync"],
  ["run", "/run"],
  ["log", "/var/log/corosync"],
];

/** A node whose namespaces exist; its daemons start and stop on request. */
export class ClusterNode implements AsyncDisposable {
  readonly #holder: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #corosync: Deno.ChildProcess | undefined;
  #qdevice: Deno.ChildProcess | undefined;

  private constructor(
    readonly nodeId: number,
    readonly ns: string,
    readonly dir: string,
    holder: Deno.ChildProcess,
  ) {
    this.#holder = holder;
    this.#stdin = holder.stdin.getWriter();
  }

  /**
   * Prepares `dir` (config files from `files`, a name -> content map written to etc/) and
   * starts the holder inside network namespace `ns`, returning once its mounts are in place.
   */
  static async create(
    nodeId: number,
    ns: string,
    dir: string,
    files: ReadonlyMap<string, Uint8Array>,
  ): Promise<ClusterNode> {
    for (const [sub] of MOUNTS) await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    for (const [name, data] of files) {
      await Deno.writeFile(`${dir}/etc/${name}`, data, { mode: 0o600 });
    }
    const ready = `${dir}/holder.ready`;
    const script = [
      `exec 2>"${dir}/holder.log"`,
      "set -e",
      ...MOUNTS.map(([sub, target]) => `mount --bind "${dir}/${sub}" ${target}`),
      "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
      `: > "${ready}"`,
      "exec cat",
    ].join("\n");
    const holder = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
      ],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const node = new ClusterNode(nodeId, ns, dir, holder);
    let exited = false;
    holder.status.then(() => exited = true);
    try {
      await waitUntil(`node ${nodeId} namespace holder`, () => {
        if (exited) {
          throw new WaitAbortedError(`Namespace holder exited: ${readTail(`${dir}/holder.log`)}`);
        }
        return Promise.resolve({ done: pathExists(ready), value: undefined, seen: "not ready" });
      }, { timeoutMs: 10_000, intervalMs: 50 });
    } catch (error) {
      await node[Symbol.asyncDispose]();
      throw error;
    }
    return node;
  }

  /** argv that runs `argv` inside this node's namespaces. */
  inside(argv: readonly string[]): string[] {
    return ["nsenter", "-t", String(this.#holder.pid), "-m", "-n", ...argv];
  }

  /** Starts `corosync -f` and waits (bounded) until its IPC answers. */
  async startCorosync(timeoutMs = 15_000): Promise<void> {
    if (this.#corosync !== undefined) {
      throw new Error(`corosync already runs on node ${this.nodeId}`);
    }
    this.#corosync = this.#spawnDaemon("corosync -f", "corosync.stderr");
    const child = this.#corosync;
    await waitUntil(`corosync IPC on node ${this.nodeId}`, async () => {
      if (this.#corosync !== child) throw new Error("corosync was stopped");
      const status = await this.quorum();
      return { done: status !== undefined, value: undefined, seen: "no answer" };
    }, { timeoutMs, intervalMs: 200 });
  }

  /** Starts `corosync-qdevice -f -d` (corosync must answer already). */
  startQdevice(): void {
    if (this.#qdevice !== undefined) throw new Error(`qdevice already runs on node ${this.nodeId}`);
    this.#qdevice = this.#spawnDaemon("corosync-qdevice -f -d", "qdevice.log");
  }

  /** Starts corosync, waits for it, then starts qdevice: a node (re)boot. */
  async start(): Promise<void> {
    await this.startCorosync();
    this.startQdevice();
  }

  /** `corosync-quorumtool -s`, parsed; `undefined` when corosync does not answer. */
  async quorum(): Promise<QuorumStatus | undefined> {
    const result = await run(this.inside(["corosync-quorumtool", "-s"]), { check: false });
    // 0 = quorate, 2 = not quorate; anything else means no answer.
    if (result.code !== 0 && result.code !== 2) return undefined;
    return parseQuorumStatus(result.stdout);
  }

  /** `corosync-qdevice-tool -s` (or `args`), parsed; `undefined` when qdevice does not answer. */
  async qdeviceStatus(args: readonly string[] = ["-s"]): Promise<QdeviceStatus | undefined> {
    const result = await run(this.inside(["corosync-qdevice-tool", ...args]), { check: false });
    return result.code === 0 ? parseQdeviceStatus(result.stdout) : undefined;
  }

  /** Kills qdevice and corosync with SIGKILL (a node crash) and waits for both to be gone. */
  async kill9(): Promise<void> {
    const children = [this.#qdevice, this.#corosync];
    this.#qdevice = undefined;
    this.#corosync = undefined;
    for (const child of children) await killAndReap(child);
  }

  /** The last `lines` lines of the node's corosync and qdevice logs, for failure messages. */
  logTail(lines = 15): string {
    return [`corosync.log`, `qdevice.log`, `corosync.stderr`]
      .map((f) => [f, readTail(`${this.dir}/log/${f}`, lines)])
      .filter(([, tail]) => tail !== "")
      .map(([f, tail]) => `--- node ${this.nodeId} ${f}:\n${tail}`)
      .join("\n");
  }

  /** Kills the daemons and the holder (the mount namespace goes with the last of them). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill9();
    await this.#stdin.close().catch(() => {});
    await killAndReap(this.#holder);
  }

  #spawnDaemon(command: string, logName: string): Deno.ChildProcess {
    // nsenter and `sh -c exec` both exec, so the child's pid is the daemon's.
    return new Deno.Command("nsenter", {
      args: [
        "-t",
        String(this.#holder.pid),
        "-m",
        "-n",
        "sh",
        "-c",
        `exec ${command} >>/var/log/corosync/${logName} 2>&1`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }
}

/** SIGKILLs `child` by its pid (if it still runs) and waits for its exit status. */
export async function killAndReap(child: Deno.ChildProcess | undefined): Promise<void> {
  if (child === undefined) return;
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
  await child.status;
}

/** The last `lines` lines of a text file; empty if it does not exist. */
export function readTail(path: string, lines = 15): string {
  try {
    return Deno.readTextFileSync(path).trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    return `(cannot read ${path}: ${errorText(error)})`;
  }
}
