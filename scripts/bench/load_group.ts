/**
 * A set of emulated clusters driven in one isolate (the main one or a Worker): the storm
 * (every client connects at once; done when every client holds its expected vote), then
 * the steady phase (heartbeats, and membership changes cluster by cluster, each measured
 * from the moment the cluster's nodes send the new membership until the last of them has
 * its final ACK/NACK VOTE_INFO).
 *
 * @module
 */
import { type ClientHost, type Counters, LoadClient } from "./load_client.ts";
import { ClusterScenario } from "./scenario.ts";
import { ErrorTally, type TallyData } from "./stats.ts";
import { TlsClientContexts, type TlsClientFiles } from "./tls_client.ts";

/** The name of cluster number `index` of a run (unique across groups and Workers). */
export function clusterName(index: number): string {
  return `bench-${index}`;
}

/** What a group runs. Clusters are numbered from `clusterOffset` (names stay unique). */
export interface GroupOptions {
  readonly hostname: string;
  readonly port: number;
  readonly clusterOffset: number;
  readonly clusters: number;
  readonly nodesPerCluster: number;
  readonly heartbeatMs: number;
  /** Connect timeout of every client (the real client uses its heartbeat interval). */
  readonly connectTimeoutMs: number;
  /** Time between two membership changes of one cluster (0: no changes). */
  readonly changeIntervalMs: number;
  /** Client key material: with it the clients use TLS when the server offers it. */
  readonly tls?: TlsClientFiles;
}

/** Result of the storm phase of one group. */
export interface StormResult {
  readonly clients: number;
  /** Clients holding their expected vote at the end of the phase. */
  readonly voted: number;
  /** Absolute time (ms since the epoch) when the last client voted, or null. */
  readonly doneAt: number | null;
  /** Where a few of the clients without their vote stand. */
  readonly unsettled: string[];
  readonly errors: TallyData;
  readonly counters: Counters;
}

/** Result of the steady phase of one group. */
export interface SteadyResult {
  readonly voted: number;
  readonly echoRtt: number[];
  readonly changeLatency: number[];
  readonly changesStarted: number;
  /** Changes during which a node of the cluster lost its connection (not sampled). */
  readonly changesDisturbed: number;
  /** Changes still waiting for their votes at the end. */
  readonly changesUnfinished: number;
  readonly errors: TallyData;
  readonly counters: Counters;
}

/** The common interface of an in-process group and a Worker-backed one. */
export interface GroupHandle {
  /**
   * Starts the clients of the clusters not started yet, up to `fraction` (0..1] of this
   * group's clusters, and waits until every started client holds its vote.
   */
  storm(timeoutMs: number, fraction?: number): Promise<StormResult>;
  steady(durationMs: number, graceMs: number): Promise<SteadyResult>;
  close(): Promise<void>;
}

/** Absolute wall-clock time in ms with sub-ms precision, comparable across Workers. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

interface ClusterRun {
  readonly scenario: ClusterScenario;
  readonly clients: LoadClient[];
  settled: boolean;
  changeStartedAt: number | null;
  disturbed: boolean;
  timer: Timer | undefined;
}

type Timer = ReturnType<typeof setTimeout>;

function zeroCounters(): Counters {
  return { sent: 0, received: 0, connects: 0, disconnects: 0, tlsHandshakes: 0 };
}

/** Clusters and their clients in this isolate. */
export class LoadGroup implements GroupHandle, ClientHost {
  readonly hostname: string;
  readonly port: number;
  readonly heartbeatMs: number;
  readonly connectTimeoutMs: number;
  errors = new ErrorTally();
  counters: Counters = zeroCounters();
  closing = false;
  readonly tls: TlsClientContexts | null;
  readonly #options: GroupOptions;
  readonly #runs: ClusterRun[] = [];
  readonly #byClient = new Map<LoadClient, ClusterRun>();
  #settledCount = 0;
  /** Clusters whose clients were started (the first ones of #runs). */
  #started = 0;
  #onAllSettled: (() => void) | null = null;
  #steady = false;
  #echoRtt: number[] = [];
  #changeLatency: number[] = [];
  #changesStarted = 0;
  #changesDisturbed = 0;
  #onChangesDone: (() => void) | null = null;

  constructor(options: GroupOptions) {
    this.#options = options;
    this.hostname = options.hostname;
    this.port = options.port;
    this.heartbeatMs = options.heartbeatMs;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.tls = options.tls === undefined ? null : new TlsClientContexts(options.tls);
    for (let i = 0; i < options.clusters; i++) {
      const scenario = new ClusterScenario(
        clusterName(options.clusterOffset + i),
        options.nodesPerCluster,
      );
      const run: ClusterRun = {
        scenario,
        clients: [],
        settled: false,
        changeStartedAt: null,
        disturbed: false,
        timer: undefined,
      };
      for (const nodeId of scenario.nodeIds) {
        const client = new LoadClient(scenario, nodeId, this);
        run.clients.push(client);
        this.#byClient.set(client, run);
      }
      this.#runs.push(run);
    }
  }

  now(): number {
    return performance.now();
  }

  echoRtt(ms: number): void {
    if (this.#steady) this.#echoRtt.push(ms);
  }

  voteChanged(client: LoadClient): void {
    const run = this.#byClient.get(client);
    if (run === undefined) return;
    if (run.changeStartedAt !== null && !client.initDone) run.disturbed = true;
    const settled = run.clients.every((c) => c.settled);
    if (settled === run.settled) return;
    run.settled = settled;
    this.#settledCount += settled ? 1 : -1;
    if (settled && run.changeStartedAt !== null) this.#changeDone(run);
    if (this.#settledCount === this.#started) this.#onAllSettled?.();
  }

  /**
   * Connects the clients of the next clusters at once (all of them by default); resolves
   * when every started client voted or after `timeoutMs`.
   */
  async storm(timeoutMs: number, fraction = 1): Promise<StormResult> {
    let doneAt: number | null = null;
    const done = new Promise<void>((resolve) => {
      this.#onAllSettled = () => {
        doneAt ??= absoluteNow();
        resolve();
      };
    });
    let timer: Timer | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const upTo = Math.max(this.#started, Math.ceil(this.#runs.length * fraction));
    const starting = this.#runs.slice(this.#started, upTo);
    this.#started = upTo;
    for (const run of starting) for (const c of run.clients) void c.start();
    if (this.#settledCount === this.#started) this.#onAllSettled?.();
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    this.#onAllSettled = null;
    return {
      clients: this.#started * this.#options.nodesPerCluster,
      voted: this.#voted(),
      doneAt,
      unsettled: this.#unsettled(),
      errors: this.#takeErrors(),
      counters: this.#takeCounters(),
    };
  }

  /**
   * Heartbeats and membership changes for `durationMs`; then waits up to `graceMs` for the
   * changes in flight. Echo round trips are sampled only in this phase.
   */
  async steady(durationMs: number, graceMs: number): Promise<SteadyResult> {
    this.#steady = true;
    const interval = this.#options.changeIntervalMs;
    if (interval > 0) {
      for (const run of this.#runs) {
        if (run.scenario.canChange) this.#scheduleChange(run, Math.random() * interval);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    for (const run of this.#runs) clearTimeout(run.timer);
    if (this.#inFlight() > 0) {
      let timer: Timer | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#onChangesDone = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      this.#onChangesDone = null;
    }
    this.#steady = false;
    return {
      voted: this.#voted(),
      echoRtt: this.#echoRtt,
      changeLatency: this.#changeLatency,
      changesStarted: this.#changesStarted,
      changesDisturbed: this.#changesDisturbed,
      changesUnfinished: this.#inFlight(),
      errors: this.#takeErrors(),
      counters: this.#takeCounters(),
    };
  }

  /** Closes every connection; losses from here on are not errors. */
  close(): Promise<void> {
    this.closing = true;
    for (const run of this.#runs) {
      clearTimeout(run.timer);
      for (const c of run.clients) c.close();
    }
    this.tls?.close();
    return Promise.resolve();
  }

  #scheduleChange(run: ClusterRun, delayMs: number): void {
    run.timer = setTimeout(() => this.#startChange(run), delayMs);
  }

  #startChange(run: ClusterRun): void {
    run.timer = undefined;
    if (!this.#steady || this.#onChangesDone !== null) return;
    if (!run.settled) {
      // Still recovering from a loss: try again one interval later.
      this.#scheduleChange(run, this.#options.changeIntervalMs);
      return;
    }
    run.scenario.change();
    run.changeStartedAt = this.now();
    run.disturbed = false;
    this.#changesStarted++;
    run.settled = false;
    this.#settledCount--;
    for (const c of run.clients) c.sendMembership();
  }

  #changeDone(run: ClusterRun): void {
    const started = run.changeStartedAt;
    run.changeStartedAt = null;
    if (started === null) return;
    if (run.disturbed) this.#changesDisturbed++;
    else this.#changeLatency.push(this.now() - started);
    if (this.#inFlight() === 0) this.#onChangesDone?.();
    if (this.#steady && this.#onChangesDone === null) {
      this.#scheduleChange(run, this.#options.changeIntervalMs);
    }
  }

  #inFlight(): number {
    return this.#runs.filter((r) => r.changeStartedAt !== null).length;
  }

  #unsettled(): string[] {
    const out: string[] = [];
    for (const run of this.#runs.slice(0, this.#started)) {
      for (const c of run.clients) if (!c.settled && out.length < 5) out.push(c.describe());
    }
    return out;
  }

  #voted(): number {
    let n = 0;
    for (const c of this.#byClient.keys()) if (c.settled) n++;
    return n;
  }

  #takeErrors(): TallyData {
    const data = this.errors.toJSON();
    this.errors = new ErrorTally();
    return data;
  }

  #takeCounters(): Counters {
    const c = this.counters;
    this.counters = zeroCounters();
    return c;
  }
}
