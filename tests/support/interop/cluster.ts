/**
 * A whole test cluster: N corosync nodes with corosync-qdevice (model net, TLS as asked) and one
 * arbiter, each in its own namespace on a private {@linkcode Lab} network, plus the operations
 * the interop tests need (cut/restore links, crash nodes, crash/restart the arbiter) and bounded
 * waits on quorum outcomes. Dispose it (`await using`) to kill everything it started and delete
 * its namespaces and temporary directory, whether the test passed or not.
 *
 * @module
 */

import { arbiterLog, type ArbiterSpec, type ArbiterTls } from "./arbiter.ts";
import { run } from "./command.ts";
import {
  type CorosyncConfSpec,
  FAST_TIMINGS,
  type QdeviceAlgorithm,
  renderCorosyncConf,
  type TieBreakerSetting,
} from "./corosync_conf.ts";
import { type Enrolment, enrolNodes } from "./enrolment.ts";
import { hostAddress, KEEP_MARKER, Lab, type NetName, sweepStaleLabs } from "./netns.ts";
import { ClusterNode, killAndReap, readTail } from "./node.ts";
import { castsQdeviceVote, type QuorumStatus, summarizeQuorum } from "./quorumtool.ts";
import { parseQnetdClients, type QnetdClient } from "./status_text.ts";
import { WaitAbortedError, waitUntil } from "./wait.ts";
import { procFile } from "../proc.ts";
import { errorText } from "../../../core/error_text.ts";

/** `QNET_INTEROP_KEEP=1` keeps each cluster's directory (configs, logs) after the test. */
function keepFiles(): boolean {
  return (Deno.env.get("QNET_INTEROP_KEEP") ?? "") !== "";
}

/** Index of the arbiter's host on the arbiter network. */
const ARBITER_INDEX = 254;

/** `totem.cluster_name` of every test cluster. */
export const CLUSTER_NAME = "qnt";

/** TLS of a test cluster: the qdevices' setting, the arbiter's, and how nodes get keys. */
export interface ClusterTls {
  /** `quorum.device.net.tls` on every node. */
  qdevice: "on" | "off" | "required";
  /** The arbiter's `-s` and key directory; `undefined` runs it with `-s off`. */
  arbiter?: ArbiterTls;
  /** Enrols every node before its qdevice starts; `undefined` leaves the nodes without keys. */
  enrolment?: Enrolment;
}

/** How to build a test cluster. */
export interface ClusterOptions {
  arbiter: ArbiterSpec;
  /** Node ids are 1..nodeCount. */
  nodeCount: number;
  algorithm: QdeviceAlgorithm;
  /** The arbiter's TCP port (16300-16399 for these tests). */
  port: number;
  tieBreaker?: TieBreakerSetting;
  qdeviceVotes?: number;
  /** TLS; `undefined` means TLS off on both sides. */
  tls?: ClusterTls;
}

/**
 * What a node should show: quorate or not, and optionally whether it casts the qdevice vote and
 * which node ids its membership holds (in any order).
 */
export interface NodeExpectation {
  quorate: boolean;
  qdeviceVote?: boolean;
  members?: readonly number[];
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return [...a].sort((x, y) => x - y).join(",") === [...b].sort((x, y) => x - y).join(",");
}

function describeExpectation(id: number, e: NodeExpectation): string {
  const vote = e.qdeviceVote === undefined
    ? ""
    : e.qdeviceVote
    ? " with qdevice vote"
    : " without qdevice vote";
  const members = e.members === undefined ? "" : ` members ${e.members.join(",")}`;
  return `node ${id} ${e.quorate ? "quorate" : "not quorate"}${vote}${members}`;
}

/** The arbiter process of a {@linkcode Cluster}, in its namespace, with its private directory. */
export class Arbiter {
  #child: Deno.ChildProcess | undefined;
  constructor(
    readonly spec: ArbiterSpec,
    readonly ns: string,
    readonly port: number,
    readonly dir: string,
    readonly tls?: ArbiterTls,
  ) {}

  /** Starts the daemon and waits (bounded) until its status tool answers. */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error("The arbiter already runs");
    const child = this.spec.start(this.ns, this.port, this.dir, this.tls);
    this.#child = child;
    let exit: Deno.CommandStatus | undefined;
    child.status.then((status) => exit = status);
    await waitUntil(`arbiter ${this.spec.name} to answer`, async () => {
      if (exit !== undefined) {
        throw new WaitAbortedError(
          `Arbiter ${this.spec.name} exited with ${exit.code}: ${readTail(arbiterLog(this.dir))}`,
        );
      }
      const result = await run(this.spec.toolArgv(this.dir, ["-s"]), { check: false });
      return { done: result.code === 0, value: undefined, seen: result.stderr.trim() };
    }, { timeoutMs: 10_000, intervalMs: 100 });
    if (this.spec.uid !== undefined) this.#assertSandboxed(child.pid, this.spec.uid);
  }

  /** Checks that the daemon runs as `uid` and was not given every permission (-A). */
  #assertSandboxed(pid: number, uid: number): void {
    const status = procFile(pid, "status");
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
    if (uids.length !== 4 || uids.some((u) => u !== uid)) {
      throw new Error(`Arbiter pid ${pid} runs as uids ${uids.join(",")}, not ${uid}`);
    }
    const argv = procFile(pid, "cmdline").split("\0");
    if (argv.some((a) => a === "-A" || a === "--allow-all")) {
      throw new Error(`Arbiter pid ${pid} runs with all permissions: ${argv.join(" ")}`);
    }
  }

  /** Sends `signal` to the daemon by pid (e.g. SIGHUP: reload). */
  signal(signal: Deno.Signal): void {
    if (this.#child === undefined) throw new Error("The arbiter does not run");
    this.#child.kill(signal);
  }

  /** SIGKILLs the daemon by pid. */
  async kill9(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    await killAndReap(child);
  }

  /** The text of the arbiter's verbose client list (`-l -v`). */
  async listVerbose(): Promise<string> {
    return (await run(this.spec.toolArgv(this.dir, ["-l", "-v"]))).stdout;
  }

  /** The clients the arbiter lists (`-l`). */
  async clients(): Promise<QnetdClient[]> {
    const result = await run(this.spec.toolArgv(this.dir, ["-l"]));
    return parseQnetdClients(result.stdout);
  }
}

/** A running test cluster. Create with {@linkcode Cluster.start}. */
export class Cluster implements AsyncDisposable {
  readonly nodes = new Map<number, ClusterNode>();
  readonly #lab: Lab;
  readonly #dir: string;
  #arbiter: Arbiter | undefined;

  private constructor(lab: Lab, dir: string) {
    this.#lab = lab;
    this.#dir = dir;
  }

  /**
   * Builds the network, writes the configuration, starts the arbiter, every corosync, then every
   * qdevice. Returns once all daemons run; quorum outcomes are for the caller to wait for.
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    await sweepStaleLabs();
    const lab = await Lab.create();
    const dir = await Deno.makeTempDir({ prefix: `${lab.prefix}-` });
    // Searchable by others: the arbiter may run as an unprivileged user inside it.
    await Deno.chmod(dir, 0o711);
    if (keepFiles()) await Deno.writeTextFile(`${dir}/${KEEP_MARKER}`, "");
    const cluster = new Cluster(lab, dir);
    try {
      await cluster.#build(options);
    } catch (error) {
      const logs = cluster.logTail();
      await cluster[Symbol.asyncDispose]();
      throw new Error(`Cannot start the test cluster:\n${logs}`, { cause: error });
    }
    return cluster;
  }

  /** The node with id `nodeId`. */
  node(nodeId: number): ClusterNode {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new RangeError(`No node ${nodeId} in this cluster`);
    return node;
  }

  /** The arbiter (started by {@linkcode Cluster.start}). */
  get arbiter(): Arbiter {
    if (this.#arbiter === undefined) throw new Error("The cluster has no arbiter");
    return this.#arbiter;
  }

  /** Cuts node `nodeId`'s link(s) at the switch: the cluster network by default. */
  cutLink(nodeId: number, nets: readonly NetName[] = ["cluster"]): Promise<void> {
    return this.#setLinks(nodeId, nets, false);
  }

  /** Restores what {@linkcode cutLink} cut. */
  restoreLink(nodeId: number, nets: readonly NetName[] = ["cluster"]): Promise<void> {
    return this.#setLinks(nodeId, nets, true);
  }

  /**
   * Waits until every node in `expected` shows the expected quorum state on several polls in a
   * row, and returns their statuses. Times out with a summary of every node and log tails.
   */
  async waitForQuorum(
    expected: ReadonlyMap<number, NodeExpectation>,
    timeoutMs = 30_000,
  ): Promise<Map<number, QuorumStatus>> {
    const describe = [...expected].map(([id, e]) => describeExpectation(id, e)).join(", ");
    try {
      return await waitUntil(describe, async () => {
        const statuses = new Map<number, QuorumStatus>();
        const seen: string[] = [];
        let done = true;
        for (const [id, want] of expected) {
          const status = await this.node(id).quorum();
          if (status === undefined) {
            seen.push(`node ${id}: no answer`);
            done = false;
            continue;
          }
          statuses.set(id, status);
          seen.push(summarizeQuorum(status));
          if (status.quorate !== want.quorate) done = false;
          if (want.qdeviceVote !== undefined && castsQdeviceVote(status) !== want.qdeviceVote) {
            done = false;
          }
          const members = status.members.map((m) => m.nodeId);
          if (want.members !== undefined && !sameIds(members, want.members)) done = false;
        }
        return { done, value: statuses, seen: seen.join("; ") };
      }, { timeoutMs, intervalMs: 300, stablePolls: 3 });
    } catch (error) {
      throw new Error(`${errorText(error)}\n${this.logTail()}`, {
        cause: error,
      });
    }
  }

  /**
   * Waits until the arbiter lists exactly the clients `nodeIds`, each one accepted by
   * `accept(client)`, on two polls in a row, and returns the list.
   */
  async waitForArbiterClients(
    nodeIds: readonly number[],
    accept: (client: QnetdClient) => boolean,
    timeoutMs = 30_000,
  ): Promise<QnetdClient[]> {
    return await waitUntil(`arbiter to list nodes ${nodeIds.join(",")}`, async () => {
      const clients = await this.arbiter.clients();
      const ids = clients.map((c) => c.nodeId);
      const done = sameIds(ids, nodeIds) && clients.every(accept);
      const seen = clients.map((c) => `${c.nodeId}:${c.lastVote}/${c.lastAckNack}`).join(" ");
      return { done, value: clients, seen: seen || "no clients" };
    }, { timeoutMs, intervalMs: 300, stablePolls: 2 });
  }

  /** Log tails of the arbiter and every node, for failure messages. */
  logTail(lines = 12): string {
    const arbiter = readTail(arbiterLog(`${this.#dir}/arbiter`), lines);
    const parts = [arbiter === "" ? "" : `--- arbiter:\n${arbiter}`];
    for (const node of this.nodes.values()) parts.push(node.logTail(lines));
    return parts.filter((p) => p !== "").join("\n");
  }

  /**
   * Kills every process started for the cluster, deletes its namespaces and, unless
   * `QNET_INTEROP_KEEP` is set, its temporary directory.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const errors: unknown[] = [];
    for (const node of this.nodes.values()) {
      await node[Symbol.asyncDispose]().catch((e) => errors.push(e));
    }
    this.nodes.clear();
    await this.#arbiter?.kill9().catch((e) => errors.push(e));
    await this.#lab[Symbol.asyncDispose]().catch((e) => errors.push(e));
    if (!keepFiles()) {
      await Deno.remove(this.#dir, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) errors.push(e);
      });
    }
    if (errors.length > 0) throw new AggregateError(errors, "Cannot clean up the test cluster");
  }

  async #build(options: ClusterOptions): Promise<void> {
    const ids = Array.from({ length: options.nodeCount }, (_, i) => i + 1);
    const qdeviceVotes = options.qdeviceVotes ?? (options.algorithm === "ffsplit" ? 1 : undefined);
    const conf: CorosyncConfSpec = {
      clusterName: CLUSTER_NAME,
      nodes: ids.map((id) => ({ nodeId: id, name: `n${id}`, address: hostAddress("cluster", id) })),
      arbiterHost: hostAddress("arbiter", ARBITER_INDEX),
      arbiterPort: options.port,
      algorithm: options.algorithm,
      tieBreaker: options.tieBreaker ?? "lowest",
      // ffsplit refuses to start unless votes is set to 1; other algorithms get votequorum's
      // default (nodes - 1) when it is left out.
      ...(qdeviceVotes === undefined ? {} : { qdeviceVotes }),
      ...(options.tls === undefined ? {} : { tls: options.tls.qdevice }),
      ...FAST_TIMINGS,
    };
    const files = new Map<string, Uint8Array>([
      ["corosync.conf", new TextEncoder().encode(renderCorosyncConf(conf))],
      ["authkey", crypto.getRandomValues(new Uint8Array(256))],
    ]);

    const arbiterNs = await this.#lab.addHost("arb", ARBITER_INDEX, ["arbiter"]);
    const arbiterDir = `${this.#dir}/arbiter`;
    await Deno.mkdir(arbiterDir);
    this.#arbiter = new Arbiter(
      options.arbiter,
      arbiterNs,
      options.port,
      arbiterDir,
      options.tls?.arbiter,
    );
    for (const id of ids) {
      const ns = await this.#lab.addHost(`n${id}`, id, ["cluster", "arbiter"]);
      this.nodes.set(id, await ClusterNode.create(id, ns, `${this.#dir}/n${id}`, files));
    }
    const enrolment = options.tls?.enrolment;
    if (enrolment !== undefined) {
      await enrolNodes([...this.nodes.values()], CLUSTER_NAME, enrolment);
    }

    await this.#arbiter.start();
    await Promise.all([...this.nodes.values()].map((n) => n.start()));
  }

  async #setLinks(nodeId: number, nets: readonly NetName[], up: boolean): Promise<void> {
    this.node(nodeId);
    for (const net of nets) await this.#lab.setLink(`n${nodeId}`, net, up);
  }
}

/** Shorthand for a {@linkcode Cluster.waitForQuorum} expectation map. */
export function expectNodes(
  entries: ReadonlyArray<readonly [number, NodeExpectation]>,
): Map<number, NodeExpectation> {
  return new Map(entries);
}
