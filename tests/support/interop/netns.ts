/**
 * A private test network built from Linux network namespaces: one "switch" namespace holding two
 * bridges, and one namespace per host wired to them with veth pairs.
 *
 * - the cluster network (10.213.1.0/24, host side `eth0`) carries corosync's own traffic;
 * - the arbiter network (10.213.2.0/24, host side `eth1`) connects every qdevice to the arbiter.
 *
 * Two networks let a test split the cluster (cut node links on the cluster network) while every
 * qdevice still reaches the arbiter, which is the case the tie-breakers decide. Cutting both links
 * of a host takes it off the network entirely. Every name starts with `qnt-<pid>-<random>-`, so
 * several runs (and test files run in parallel) never collide, and {@linkcode sweepStaleLabs} can
 * remove what a dead run left behind. The veth ends live only inside these namespaces, never in
 * the root one.
 *
 * @module
 */

import { run } from "./command.ts";

/** The two networks a host can be attached to. */
export type NetName = "cluster" | "arbiter";

const NETS: ReadonlyMap<NetName, { bridge: string; subnet: string; hostIf: string }> = new Map([
  ["cluster", { bridge: "brc", subnet: "10.213.1", hostIf: "eth0" }],
  ["arbiter", { bridge: "bra", subnet: "10.213.2", hostIf: "eth1" }],
]);

const PREFIX = "qnt-";

/**
 * A short random token: `deno test --parallel` runs test files as workers of one process, so
 * the pid alone does not tell two labs apart.
 */
export function uniqueToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function netOf(name: NetName): { bridge: string; subnet: string; hostIf: string } {
  const net = NETS.get(name);
  if (net === undefined) throw new RangeError(`Unknown network "${name}"`);
  return net;
}

/** The address of host number `index` (1..253; 254 is the arbiter) on network `net`. */
export function hostAddress(net: NetName, index: number): string {
  return `${netOf(net).subnet}.${index}`;
}

/** A set of namespaces created by this process; dispose it to delete them all. */
export class Lab implements AsyncDisposable {
  readonly prefix: string;
  readonly #switchNs: string;
  readonly #namespaces: string[] = [];
  readonly #hosts = new Map<string, { ns: string; index: number; nets: NetName[] }>();

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.#switchNs = `${prefix}-sw`;
  }

  /** Creates the switch namespace and its two bridges. */
  static async create(): Promise<Lab> {
    const lab = new Lab(`${PREFIX}${Deno.pid}-${uniqueToken()}`);
    try {
      await lab.#addNamespace(lab.#switchNs);
      for (const { bridge } of NETS.values()) {
        await ip("-n", lab.#switchNs, "link", "add", bridge, "type", "bridge");
        await ip("-n", lab.#switchNs, "link", "set", bridge, "up");
      }
    } catch (error) {
      await lab[Symbol.asyncDispose]();
      throw error;
    }
    return lab;
  }

  /**
   * Creates namespace `<prefix>-<name>` for a host and plugs it into `nets`, with address
   * `<subnet>.<index>/24` on each. Returns the namespace name.
   */
  async addHost(name: string, index: number, nets: readonly NetName[]): Promise<string> {
    if (this.#hosts.has(name)) throw new RangeError(`Host "${name}" already exists`);
    const ns = `${this.prefix}-${name}`;
    await this.#addNamespace(ns);
    await ip("-n", ns, "link", "set", "lo", "up");
    for (const netName of nets) {
      const net = netOf(netName);
      const port = this.#portName(name, netName);
      await ip(
        "-n",
        this.#switchNs,
        "link",
        "add",
        port,
        "type",
        "veth",
        "peer",
        "name",
        net.hostIf,
        "netns",
        ns,
      );
      await ip("-n", this.#switchNs, "link", "set", port, "master", net.bridge);
      await ip("-n", this.#switchNs, "link", "set", port, "up");
      await ip("-n", ns, "addr", "add", `${net.subnet}.${index}/24`, "dev", net.hostIf);
      await ip("-n", ns, "link", "set", net.hostIf, "up");
    }
    this.#hosts.set(name, { ns, index, nets: [...nets] });
    return ns;
  }

  /** Brings host `name`'s port on network `net` down (cut) or up (restore), at the switch. */
  async setLink(name: string, net: NetName, up: boolean): Promise<void> {
    const host = this.#hosts.get(name);
    if (host === undefined || !host.nets.includes(net)) {
      throw new RangeError(`Host "${name}" has no link on the ${net} network`);
    }
    await ip("-n", this.#switchNs, "link", "set", this.#portName(name, net), up ? "up" : "down");
  }

  /** Kills every process left in the namespaces and deletes them (switch last). */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const ns of [...this.#namespaces].reverse()) await removeNamespace(ns);
    this.#namespaces.length = 0;
    this.#hosts.clear();
  }

  #portName(host: string, net: NetName): string {
    // Interface names are limited to 15 bytes; these live only inside the switch namespace.
    const name = `${net === "cluster" ? "c" : "a"}-${host}`;
    if (name.length > 15) throw new RangeError(`Host name "${host}" is too long for a port`);
    return name;
  }

  async #addNamespace(ns: string): Promise<void> {
    await ip("netns", "add", ns);
    this.#namespaces.push(ns);
  }
}

async function ip(...args: string[]): Promise<void> {
  await run(["ip", ...args]);
}

/**
 * Deletes namespace `ns` after killing (SIGKILL) the processes still inside it. Only used on
 * namespaces this harness created, whose processes it started.
 */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await run(["ip", "netns", "pids", ns], { check: false });
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await run(["ip", "netns", "del", ns], { check: false });
}

/**
 * Whether process `pid` exists. Deno only lets `--allow-all` read /proc/<pid>, so ask the
 * shell's `kill -0` (alive, or alive but not ours: both count as alive).
 */
async function processAlive(pid: number): Promise<boolean> {
  const probe = await run(["sh", "-c", 'kill -0 "$1" 2>&1', "sh", String(pid)], { check: false });
  return probe.code === 0 || /not permitted/i.test(probe.stdout);
}

/** Milliseconds since `path` was created (or last modified), or 0 if it cannot be read. */
function ageMs(path: string): number {
  try {
    const info = Deno.statSync(path);
    const since = info.birthtime ?? info.mtime;
    return since === null ? 0 : Date.now() - since.getTime();
  } catch {
    return 0;
  }
}

/** A directory that {@linkcode sweepStaleLabs} leaves alone (kept for debugging). */
export const KEEP_MARKER = "KEEP";

/**
 * Removes namespaces and temporary directories named `qnt-<pid>-...` whose `<pid>` is no longer
 * running: what an interrupted run left behind. Live runs, anything younger than `minAgeMs`
 * (in case another sandbox shares /tmp but not /proc) and directories holding a
 * {@linkcode KEEP_MARKER} file are left alone. Returns what was removed.
 */
export async function sweepStaleLabs(tmpDir = "/tmp", minAgeMs = 60_000): Promise<string[]> {
  const removed: string[] = [];
  const stale = async (name: string, path: string): Promise<boolean> => {
    const match = /^qnt-(\d+)-/.exec(name);
    if (match === null || Number(match[1]) === Deno.pid || ageMs(path) < minAgeMs) return false;
    return !(await processAlive(Number(match[1])));
  };
  const list = await run(["ip", "netns", "list"], { check: false });
  for (const line of list.stdout.split("\n")) {
    const ns = line.split(" ")[0] ?? "";
    if (!(await stale(ns, `/run/netns/${ns}`))) continue;
    await removeNamespace(ns);
    removed.push(ns);
  }
  for (const entry of Deno.readDirSync(tmpDir)) {
    const path = `${tmpDir}/${entry.name}`;
    if (!entry.isDirectory || !(await stale(entry.name, path))) continue;
    if (await Deno.stat(`${path}/${KEEP_MARKER}`).then(() => true, () => false)) continue;
    await Deno.remove(path, { recursive: true }).catch(() => {});
    removed.push(path);
  }
  return removed;
}
