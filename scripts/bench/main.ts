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

const ROOT = new URL("../../", import.meta.url).pathname;

/** The flags both daemons get: foreground, no TLS, lock file and socket in {dir}. */
const DAEMON_FLAGS = "-f -s off -p {port} -S lock_file={dir}/q.pid,local_socket_file={dir}/q.sock";

/** Our daemon, run by the same Deno binary as this script. */
export const OURS: ArbiterSpec = {
  label: "qnet",
  command: `${Deno.execPath()} run --quiet -A ${ROOT}mod.ts qnetd ${DAEMON_FLAGS}`,
};
/** The real corosync-qnetd 3.0.3. */
export const C_QNETD: ArbiterSpec = {
  label: "C",
  command: `/usr/bin/corosync-qnetd ${DAEMON_FLAGS}`,
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
                         and a fresh temporary directory. Repeatable; runs in the given order.
  --compare              ours (qnet qnetd) and the real /usr/bin/corosync-qnetd, same flags:
                         ${DAEMON_FLAGS}
  --ceiling              also run against a trivial arbiter: the generator's own ceiling
  --port N               first TCP port, one more per arbiter (default 17100)
  --workers N            spread the clients over N Workers (default 1)
  --pin                  pin the arbiter to CPU 0 and the generator to CPU 1 (taskset)
  --pin-arbiter CPUS     pin the arbiter to a taskset CPU list
  --pin-generator CPUS   pin the generator (all its threads) to a taskset CPU list
  --json                 print JSON on stdout (the table then goes to stderr)
  --tls                  not implemented yet (TODO: STARTTLS with openssl-made client certs)
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
      port: { type: "string" },
      workers: { type: "string" },
      pin: { type: "boolean" },
      "pin-arbiter": { type: "string" },
      "pin-generator": { type: "string" },
      json: { type: "boolean" },
      tls: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (values.tls) throw new RangeError("--tls is not implemented yet");
  const nodes = positiveInt("nodes", values.nodes, 4);
  const clients = positiveInt("clients", values.clients, 1000);
  const clusters = positiveInt("clusters", values.clusters, Math.ceil(clients / nodes));
  const heartbeatMs = positiveInt("heartbeat", values.heartbeat, 1000);
  const durationMs = positiveInt("duration", values.duration, 30) * 1000;
  const stormTimeoutMs = positiveInt("storm-timeout", values["storm-timeout"], 60) * 1000;
  const graceMs = Math.max(5000, 3 * heartbeatMs);
  const arbiters: ArbiterSpec[] = [];
  if (values.compare) arbiters.push(OURS, C_QNETD);
  (values.arbiter ?? []).forEach((a, i) => arbiters.push(parseArbiter(a, i)));
  if (values.ceiling) arbiters.push(CEILING);
  if (arbiters.length === 0) throw new RangeError("Give --compare, --arbiter or --ceiling");
  const port = positiveInt("port", values.port, 17100);
  const perArbiter = stormTimeoutMs + durationMs + graceMs + 40_000;
  const deadlineMs = values.deadline === undefined
    ? perArbiter * arbiters.length
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
    ...(arbiterCpus === undefined ? {} : { arbiterCpus }),
    openFiles: clusters * nodes + 1024,
  };
  return {
    config,
    arbiters,
    port,
    ...(generatorCpus === undefined ? {} : { generatorCpus }),
    json: values.json ?? false,
    deadlineMs,
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
  const { config, arbiters } = options;
  const clients = config.clusters * config.nodesPerCluster;
  const nofile = await raiseOwnOpenFiles(config.openFiles);
  const hard = openFilesLimit("self")?.hard ?? nofile;
  io.err(
    `bench: ${clients} clients in ${config.clusters} clusters of ${config.nodesPerCluster}, ` +
      `heartbeat ${config.heartbeatMs} ms, steady ${config.durationMs / 1000} s; ` +
      `RLIMIT_NOFILE ${nofile} (hard ${hard}) for the generator, ${config.openFiles} asked for the arbiter\n`,
  );
  if (clients + 64 > nofile) io.err(`bench: warning: ${nofile} open files may be too few\n`);
  if (options.generatorCpus !== undefined && !(await pinSelf(options.generatorCpus))) {
    io.err(`bench: warning: could not pin the generator to CPUs ${options.generatorCpus}\n`);
  }
  const figures: ArbiterFigures[] = [];
  const work = (async () => {
    for (const [i, spec] of arbiters.entries()) {
      io.err(`bench: ${spec.label}: ${spec.command}\n`);
      const f = await benchArbiter(spec, options.port + i, config);
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
    io.err(`bench: ${(e as Error).message}\n`);
    return 1;
  }
  clearTimeout(timer);
  if (outcome === "deadline") {
    await stopCurrentArbiter();
    io.err(`bench: hard deadline of ${options.deadlineMs / 1000} s reached; partial results\n`);
  }
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

if (import.meta.main) {
  // Exit explicitly: after a deadline, clients of an abandoned run may still hold timers.
  Deno.exit(await main(Deno.args, processIo));
}
