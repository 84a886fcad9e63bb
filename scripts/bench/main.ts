/**
 * `scripts/bench/main.ts`: load generator and side-by-side benchmark of QNet arbiters
 * (issue 10). Emulates N corosync-qdevice clients (ffsplit, 4 nodes per cluster by
 * default) against each arbiter in turn and prints every figure for each, with the
 * ratio of the first two. Run with `--help` for the options.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CliIo, processIo } from "../../cli/io.ts";
import { openFilesLimit, pinSelf, raiseOwnOpenFiles } from "./arbiter_process.ts";
import {
  type ArbiterFigures,
  type ArbiterSpec,
  benchArbiter,
  type BenchConfig,
  stopCurrentArbiter,
} from "./bench_run.ts";
import { formatJson, formatTable } from "./report.ts";
import { clusterName } from "./load_group.ts";
import { makeBenchPki } from "./tls_pki.ts";
import { bakedFlags } from "../compile.ts";
import {
  compareRuns,
  floodArbiter,
  type FloodFigures,
  type FloodRun,
  formatFloodJson,
  formatFloodTable,
} from "./flood_run.ts";
import { FLOOD_RATE } from "./silent_flood.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The flags both daemons get: foreground, no TLS, lock file and socket in {dir}. */
const DAEMON_FLAGS = "-f -s off -p {port} -S lock_file={dir}/q.pid,local_socket_file={dir}/q.sock";

/**
 * With `--tls`: TLS on (client certificates required, the default), keys from the bench PKI
 * in {pki} (see tls_pki.ts): `qnetd/` holds our PEM files, `nssdb/` the C daemon's database.
 */
function tlsFlags(db: "qnetd" | "nssdb"): string {
  return "-f -s on -p {port} " +
    `-S lock_file={dir}/q.pid,local_socket_file={dir}/q.sock,nss_db_dir={pki}/${db}`;
}

/** Our daemon as shipped: the flags baked into the compiled binary (launcher, worker, V8). */
const OURS_PREFIX = `${Deno.execPath()} run --quiet ${bakedFlags().join(" ")} ${ROOT}mod.ts qnetd`;

/** Our daemon, run by the same Deno binary as this script. */
export const OURS: ArbiterSpec = { label: "qnet", command: `${OURS_PREFIX} ${DAEMON_FLAGS}` };
/** The real corosync-qnetd 3.0.3. */
export const C_QNETD: ArbiterSpec = {
  label: "C",
  command: `/usr/bin/corosync-qnetd ${DAEMON_FLAGS}`,
};
/** `--metrics`: ours with the metrics endpoint on, scraped every second. */
const METRICS_SETTING = ",metrics_listen=127.0.0.1:{mport}";
export const OURS_METRICS: ArbiterSpec = {
  label: "qnet+metrics",
  command: `${OURS_PREFIX} ${DAEMON_FLAGS}${METRICS_SETTING}`,
  scrapeMetrics: true,
};
export const OURS_TLS_METRICS: ArbiterSpec = {
  label: "qnet+metrics",
  command: `${OURS_PREFIX} ${tlsFlags("qnetd")}${METRICS_SETTING}`,
  scrapeMetrics: true,
};
/** Both daemons with TLS on (`--compare --tls`). */
export const OURS_TLS: ArbiterSpec = {
  label: "qnet",
  command: `${OURS_PREFIX} ${tlsFlags("qnetd")}`,
};
export const C_QNETD_TLS: ArbiterSpec = {
  label: "C",
  command: `/usr/bin/corosync-qnetd ${tlsFlags("nssdb")}`,
};
/** The trivial arbiter, for the generator's own ceiling. */
export const CEILING: ArbiterSpec = {
  label: "ceiling",
  command:
    `${Deno.execPath()} run --quiet -A ${ROOT}scripts/bench/trivial_arbiter.ts --port {port}`,
};

const HELP = `usage: scripts/deno run -A scripts/bench/main.ts [options]

Load generator and side-by-side benchmark of QNet arbiters. Emulates corosync-qdevice
clients (ffsplit, tie-breaker lowest, KAP on, heuristics off): PREINIT, INIT, the config,
membership and quorum lists, VOTE_INFO replies, an echo every heartbeat, reconnection with
the real client's random back-off. Every reply is checked (sequence numbers, reply types,
the vote the scenario expects, ring ids); mistakes, SERVER_ERRORs and disconnects are errors.

Phases, against each arbiter in turn: the storm (every client connects at once; measured
until all hold their vote), then the steady phase (echoes, and each cluster alternating
between whole and split in two halves, measured from the new membership to the last final
ACK/NACK VOTE_INFO of the cluster).

Options:
  --clients N            emulated qdevices in total (default 1000), rounded up to whole clusters
  --clusters N           number of clusters (default: clients / nodes)
  --nodes N              nodes per cluster (default 4)
  --heartbeat MS         heartbeat interval sent in INIT (default 1000)
  --connect-timeout MS   give up a connect after MS and retry (default: the heartbeat, as qdevice)
  --duration S           length of the steady phase in seconds (default 30)
  --change-interval MS   time between membership changes of one cluster (default 5000; 0: none)
  --storm-timeout S      stop waiting for all votes after S seconds (default 60)
  --deadline S           hard limit for the whole invocation (default: from the phases)
  --arbiter [LABEL=]CMD  an arbiter's command line; {port} and {dir} are replaced by the port
                         and a fresh temporary directory, {pki} by the --tls key directory.
                         Repeatable; runs in the given order.
  --compare              ours (qnet qnetd) and the real /usr/bin/corosync-qnetd, same flags:
                         ${DAEMON_FLAGS}
                         with --tls: ${tlsFlags("qnetd")}
                         (C: nss_db_dir={pki}/nssdb)
  --ceiling              also run against a trivial arbiter: the generator's own ceiling
  --metrics              the cost of the metrics: ours twice, without the endpoint ("qnet"),
                         then with -S metrics_listen=127.0.0.1:{mport} ({port} + 500) and a
                         GET /metrics every second for the whole run ("qnet+metrics")
  --port N               first TCP port, one more per arbiter (default 17100)
  --workers N            spread the clients over N Workers (default 1)
  --processes N          spread the clients over N child processes instead (each has its own
                         RLIMIT_NOFILE: needed when the clients exceed the hard limit)
  --rss-step S           storm in two steps, half the clusters then the rest, waiting S seconds
                         after each: the RSS growth per client is the slope between the two
                         (the storm time is then the second step's)
  --rss-sample S         sample the arbiter's RSS every S seconds in the steady phase, for the
                         least-squares slope in KiB/min (default 5)
  --pin                  pin the arbiter to CPU 0 and the generator to CPU 1 (taskset)
  --pin-arbiter CPUS     pin the arbiter to a taskset CPU list
  --pin-generator CPUS   pin the generator (all its threads) to a taskset CPU list
  --json                 print JSON on stdout (the table then goes to stderr)
  --tls                  clients use STARTTLS as corosync-qdevice with tls "on" (SNI "Qnetd
                         Server", a client certificate per cluster); the bench makes a QNet CA
                         with 'qnet certutil -i', signs the cluster certificates with openssl
                         and imports CA and server certificate into an NSS database for the C
                         daemon, so both trust the same certificates. The ceiling arbiter has
                         no TLS: against it the clients stay in plain TCP.
  --flood                instead of the storm and steady phases: the silent-connection flood
                         (issue 17). TCP connections that never send a byte are opened at a
                         fixed rate and held 3 s each, while a probe times a fresh client's
                         PREINIT -> reply every 200 ms; p50/p99/max per arbiter, side by side.
                         With --compare: ours and C, TLS off (800/s) and TLS on (100/s). Each
                         run has its own network namespace (unshare --net; root or user
                         namespaces needed), so the flood's ports disturb nothing else.
  --flood-duration S     length of each flood (default 15)
  --flood-rate N         connections per second for --arbiter runs (default 800; 100 with --tls)
  -h, --help             this help

RLIMIT_NOFILE: the arbiter is started through 'sh -c "ulimit -n N; exec ..."' and the
generator raises its own soft limit with prlimit, N = clients + 1024 (capped by the hard
limit). Exit status: 0 all clients voted and no errors, 1 otherwise, 2 usage, 3 deadline.
`;

/** Parsed command line. */
interface Options {
  readonly config: BenchConfig;
  readonly arbiters: readonly ArbiterSpec[];
  readonly port: number;
  readonly generatorCpus?: string;
  readonly json: boolean;
  readonly deadlineMs: number;
  readonly tls: boolean;
  /** Set for --flood: how long each flood lasts and the rate for --arbiter runs. */
  readonly flood?: {
    readonly durationMs: number;
    readonly rate: number;
    readonly runs: FloodRun[];
  };
}

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`--${name} must be an integer ≥ ${min}`);
  }
  return n;
}

function parseArbiter(text: string, index: number): ArbiterSpec {
  const m = /^([A-Za-z0-9_.-]+)=(.*)$/s.exec(text);
  return m === null
    ? { label: `arbiter${index + 1}`, command: text }
    : { label: m[1]!, command: m[2]! };
}

/** Parses the command line; throws RangeError on a bad value. */
export function parseOptions(args: string[]): Options | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      clients: { type: "string" },
      clusters: { type: "string" },
      nodes: { type: "string" },
      heartbeat: { type: "string" },
      "connect-timeout": { type: "string" },
      duration: { type: "string" },
      "change-interval": { type: "string" },
      "storm-timeout": { type: "string" },
      deadline: { type: "string" },
      arbiter: { type: "string", multiple: true },
      compare: { type: "boolean" },
      ceiling: { type: "boolean" },
      metrics: { type: "boolean" },
      port: { type: "string" },
      workers: { type: "string" },
      processes: { type: "string" },
      "rss-step": { type: "string" },
      "rss-sample": { type: "string" },
      pin: { type: "boolean" },
      "pin-arbiter": { type: "string" },
      "pin-generator": { type: "string" },
      json: { type: "boolean" },
      tls: { type: "boolean" },
      flood: { type: "boolean" },
      "flood-duration": { type: "string" },
      "flood-rate": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const nodes = positiveInt("nodes", values.nodes, 4);
  const clients = positiveInt("clients", values.clients, 1000);
  const clusters = positiveInt("clusters", values.clusters, Math.ceil(clients / nodes));
  const heartbeatMs = positiveInt("heartbeat", values.heartbeat, 1000);
  const durationMs = positiveInt("duration", values.duration, 30) * 1000;
  const stormTimeoutMs = positiveInt("storm-timeout", values["storm-timeout"], 60) * 1000;
  const graceMs = Math.max(5000, 3 * heartbeatMs);
  const arbiters: ArbiterSpec[] = [];
  const tls = values.tls ?? false;
  if (values.compare) arbiters.push(...(tls ? [OURS_TLS, C_QNETD_TLS] : [OURS, C_QNETD]));
  if (values.metrics) arbiters.push(...(tls ? [OURS_TLS, OURS_TLS_METRICS] : [OURS, OURS_METRICS]));
  (values.arbiter ?? []).forEach((a, i) => arbiters.push(parseArbiter(a, i)));
  if (values.ceiling) arbiters.push(CEILING);
  if (arbiters.length === 0) {
    throw new RangeError("Give --compare, --metrics, --arbiter or --ceiling");
  }
  const port = positiveInt("port", values.port, 17100);
  const rssStepMs = values["rss-step"] === undefined
    ? undefined
    : positiveInt("rss-step", values["rss-step"], 0, 0) * 1000;
  const perArbiter = (rssStepMs === undefined ? stormTimeoutMs : 2 * (stormTimeoutMs + rssStepMs)) +
    durationMs + graceMs + 40_000;
  const deadlineMs = values.deadline === undefined
    ? perArbiter * arbiters.length + (tls ? 120_000 : 0)
    : positiveInt("deadline", values.deadline, 0) * 1000;
  const arbiterCpus = values["pin-arbiter"] ?? (values.pin ? "0" : undefined);
  const generatorCpus = values["pin-generator"] ?? (values.pin ? "1" : undefined);
  const config: BenchConfig = {
    clusters,
    nodesPerCluster: nodes,
    heartbeatMs,
    connectTimeoutMs: positiveInt("connect-timeout", values["connect-timeout"], heartbeatMs),
    changeIntervalMs: positiveInt("change-interval", values["change-interval"], 5000, 0),
    durationMs,
    stormTimeoutMs,
    graceMs,
    workers: positiveInt("workers", values.workers, 1),
    processes: positiveInt("processes", values.processes, 1),
    ...(generatorCpus === undefined ? {} : { generatorCpus }),
    ...(arbiterCpus === undefined ? {} : { arbiterCpus }),
    openFiles: clusters * nodes + 1024,
    ...(rssStepMs === undefined ? {} : { rssStepSettleMs: rssStepMs }),
    rssSampleMs: positiveInt("rss-sample", values["rss-sample"], 5) * 1000,
  };
  let flood: Options["flood"];
  if (values.flood) {
    const rate = positiveInt(
      "flood-rate",
      values["flood-rate"],
      tls ? FLOOD_RATE.tls : FLOOD_RATE.plain,
    );
    const given = (values.arbiter ?? []).map((a, i) => parseArbiter(a, i));
    const runs: FloodRun[] = [
      ...(values.compare ? compareRuns([OURS, C_QNETD], [OURS_TLS, C_QNETD_TLS]) : []),
      ...given.map((spec) => ({ mode: "as given", spec, ratePerSec: rate })),
    ];
    if (runs.length === 0) throw new RangeError("--flood needs --compare or --arbiter");
    flood = {
      durationMs: positiveInt("flood-duration", values["flood-duration"], 15) * 1000,
      rate,
      runs,
    };
  }
  return {
    ...(flood === undefined ? {} : { flood }),
    config,
    arbiters,
    port,
    ...(generatorCpus === undefined ? {} : { generatorCpus }),
    json: values.json ?? false,
    deadlineMs,
    tls,
  };
}

/** Runs the benchmark; returns the exit status. */
export async function main(args: string[], io: CliIo): Promise<number> {
  let options: Options | "help";
  try {
    options = parseOptions(args);
  } catch (e) {
    io.err(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  if (options === "help") {
    io.out(HELP);
    return 0;
  }
  if (options.flood !== undefined) return await floodMain(options.flood, options, io);
  const { arbiters } = options;
  let config = options.config;
  const clients = config.clusters * config.nodesPerCluster;
  const nofile = await raiseOwnOpenFiles(config.openFiles);
  const hard = openFilesLimit("self")?.hard ?? nofile;
  io.err(
    `bench: ${clients} clients in ${config.clusters} clusters of ${config.nodesPerCluster}, ` +
      `heartbeat ${config.heartbeatMs} ms, steady ${config.durationMs / 1000} s; ` +
      `RLIMIT_NOFILE ${nofile} (hard ${hard}) for the generator, ${config.openFiles} asked for the arbiter\n`,
  );
  if (config.processes <= 1 && clients + 64 > nofile) {
    io.err(`bench: warning: ${nofile} open files may be too few (try --processes)\n`);
  }
  if (clients + 64 > hard) {
    io.err(
      `bench: warning: the hard RLIMIT_NOFILE (${hard}) is below what the arbiter needs ` +
        `(${clients} clients + its own files); it will refuse clients\n`,
    );
  }
  if (options.generatorCpus !== undefined && !(await pinSelf(options.generatorCpus))) {
    io.err(`bench: warning: could not pin the generator to CPUs ${options.generatorCpus}\n`);
  }
  const figures: ArbiterFigures[] = [];
  let pki: Awaited<ReturnType<typeof makeBenchPki>> | null = null;
  const work = (async () => {
    if (options.tls) {
      const names = Array.from({ length: config.clusters }, (_, i) => clusterName(i));
      pki = await makeBenchPki(names);
      config = { ...config, tls: pki.client };
      io.err(`bench: TLS keys and ${names.length} cluster certificates in ${pki.dir}\n`);
    }
    for (const [i, spec] of arbiters.entries()) {
      const command = pki === null ? spec.command : spec.command.replaceAll("{pki}", pki.dir);
      io.err(`bench: ${spec.label}: ${command}\n`);
      const f = await benchArbiter({ ...spec, command }, options.port + i, config);
      io.err(
        `bench: ${spec.label}: ${f.stormVoted}/${f.clients} voted, storm ${
          f.stormMs?.toFixed(0) ?? "-"
        } ms, ` +
          `${f.errors} errors\n`,
      );
      figures.push(f);
    }
    return "done" as const;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), options.deadlineMs);
  });
  let outcome: "done" | "deadline";
  try {
    outcome = await Promise.race([work, deadline]);
  } catch (e) {
    clearTimeout(timer);
    await stopCurrentArbiter();
    await (pki as { remove(): Promise<void> } | null)?.remove();
    io.err(`bench: ${(e as Error).message}\n`);
    return 1;
  }
  clearTimeout(timer);
  if (outcome === "deadline") {
    await stopCurrentArbiter();
    io.err(`bench: hard deadline of ${options.deadlineMs / 1000} s reached; partial results\n`);
  }
  await (pki as { remove(): Promise<void> } | null)?.remove();
  const table = formatTable(figures);
  if (options.json) {
    io.err(table);
    io.out(formatJson(config, figures));
  } else {
    io.out(table);
  }
  if (outcome === "deadline") return 3;
  return figures.every((f) => f.errors === 0 && f.stormVoted === f.clients) ? 0 : 1;
}

/** `--flood`: each run in turn, then the table (or JSON). Exit 1 if a daemon stopped serving. */
async function floodMain(
  flood: NonNullable<Options["flood"]>,
  options: Options,
  io: CliIo,
): Promise<number> {
  const needsPki = flood.runs.some((r) => r.spec.command.includes("{pki}"));
  const pki = needsPki ? await makeBenchPki([]) : null;
  const figures: FloodFigures[] = [];
  try {
    for (const run of flood.runs) {
      const command = pki === null
        ? run.spec.command
        : run.spec.command.replaceAll("{pki}", pki.dir);
      io.err(`bench: flood ${run.mode}, ${run.ratePerSec}/s: ${run.spec.label}: ${command}\n`);
      // Each run has a network namespace of its own: the same port serves every run.
      const f = await floodArbiter(
        { ...run, spec: { ...run.spec, command } },
        options.port,
        flood.durationMs,
      );
      io.err(
        `bench: ${run.spec.label}: ${f.answered}/${f.probes} probes answered, ` +
          `p50 ${f.replyP50?.toFixed(1)} ms, p99 ${f.replyP99?.toFixed(1)} ms\n`,
      );
      figures.push(f);
    }
  } catch (e) {
    io.err(`bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await pki?.remove();
  }
  const table = formatFloodTable(figures);
  if (options.json) {
    io.err(table);
    io.out(formatFloodJson(figures));
  } else {
    io.out(table);
  }
  return figures.every((f) => f.servingAfter) ? 0 : 1;
}

if (import.meta.main) {
  // Exit explicitly: after a deadline, clients of an abandoned run may still hold timers.
  Deno.exit(await main(Deno.args, processIo));
}
