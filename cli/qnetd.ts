/**
 * `qnet qnetd`: the arbiter daemon, started as corosync-qnetd starts (corosync-qnetd.c main()):
 * parse the command line, set up logging, check the key directory, take the lock file, load
 * the TLS keys, open the local socket, open the TCP listener, then serve until SIGTERM,
 * SIGINT or the IPC `shutdown` command.
 *
 * @module
 */
import type { ArbiterSettings } from "../core/arbiter/settings.ts";
import { systemClock } from "../core/clock.ts";
import { type Log, Priority } from "../core/log.ts";
import { TlsSupported } from "../core/protocol/constants.ts";
import type { QnetdSettings } from "../core/settings.ts";
import { IpcServer } from "../ipc/server.ts";
import { qnetdIpcHandlers } from "../ipc/commands.ts";
import { eventsIpcHandler } from "../ipc/events_command.ts";
import { acquireLockFile, type LockFile, LockFileError } from "../net/lock_file.ts";
import { revokeLibc } from "../net/libc_ffi.ts";
import { osErrorSuffix } from "../net/os_error.ts";
import { QnetdServer } from "../net/qnetd_server.ts";
import { ListenError } from "../net/listen_socket.ts";
import { EdgeCounters } from "../net/edge_counters.ts";
import { Arbiter } from "../core/arbiter/arbiter.ts";
import { MetricsHttpServer, MetricsListenError } from "../net/metrics_http.ts";
import { metricsListenDescriptor, parseMetricsListen } from "../core/metrics/listen_address.ts";
import { DaemonMetrics, METRICS_IPC_COMMAND } from "./metrics_daemon.ts";
import type { TlsServerContext } from "../net/tls_server.ts";
import { type CliIo, grantedEnv } from "./io.ts";
// cmap and configuration file (cli/daemon_cmap.ts)
import { applyConfigFile, configFilePath, ConfigLoadError } from "./config_file.ts";
import { DaemonCmap, type DaemonCmapExtras } from "./daemon_cmap.ts";
import { openSyslog, setupLogging, stderrIsJournal } from "./logging.ts";
import { NOTIFY_SOCKET_ENV, READY_STATE, sdNotify } from "../net/sd_notify.ts";
import { findNotCapable } from "./permission_error.ts";
import { dropFfi, dropStartupPermissions, listenDescriptor } from "./privilege_drop.ts";
import { ExitStatus } from "./exit_status.ts";
import { parseQnetdArgs, QNETD_PROGRAM_NAME, type QnetdOptions } from "./qnetd_args.ts";
import { daemonReady } from "./readiness.ts";
import { type LoadedKeys, loadServerKeyMaterial } from "./server_keys.ts";
import { describeServerCertificate, KeyRotation, type KeyRotationOptions } from "./key_rotation.ts";
import { errorText } from "../core/error_text.ts";

/** The one object holding every live setting: the arbiter, the server and cmap share it. */
export type LiveSettings = QnetdSettings & ArbiterSettings;

/** Runs the daemon; resolves with the exit code once it has stopped. */
export async function main(args: string[], io: CliIo, argv0 = QNETD_PROGRAM_NAME): Promise<number> {
  const parsed = parseQnetdArgs(args, { argv0 });
  if (!parsed.ok) {
    // stderr first: C's getopt() and warnings print while parsing, usage() after, so a
    // terminal (one stream for both) shows "invalid option" above the usage.
    io.err(parsed.stderr);
    io.out(parsed.stdout);
    return parsed.exitCode;
  }
  io.err(parsed.stderr);
  const options = parsed.options;
  // cmap: the configuration file, under the command line (cli/config_file.ts).
  const configPath = configFilePath();
  try {
    const loaded = applyConfigFile(options, args, configPath);
    for (const warning of loaded.warnings) io.err(`${QNETD_PROGRAM_NAME}: ${warning}\n`);
  } catch (error) {
    if (!(error instanceof ConfigLoadError)) throw error;
    io.err(`${QNETD_PROGRAM_NAME}: ${error.message}\n`);
    return ExitStatus.Failure;
  }
  // Without -f the launcher detached this process before (cli/daemon_mode.ts); it logs to
  // stderr until it is ready, which its starter relays. To syslog always, as C, unless
  // stderr is the journal already (cli/logging.ts).
  const journal = stderrIsJournal();
  using syslog = journal ? undefined : openSyslog(QNETD_PROGRAM_NAME);
  using logging = setupLogging({
    foreground: true,
    debugLevel: options.debugLevel,
    // -S log_format / TOML / cmap (live): text as the C daemon, or JSON lines.
    format: () => options.settings.logFormat,
    journal,
    syslog,
  });
  const notifySocket = grantedEnv(NOTIFY_SOCKET_ENV) ?? "";
  return await runDaemon(options, logging.log, {
    debug: logging,
    args,
    configPath,
    // Debian's unit for the C daemon is Type=notify (net/sd_notify.ts).
    onReady: notifySocket === "" ? undefined : () => {
      const failed = sdNotify(notifySocket, READY_STATE);
      if (failed !== undefined) {
        logging.log(Priority.Warning, `Can't notify systemd (${notifySocket}): ${failed}`);
      }
    },
  });
}

/** What the command line's daemon adds to {@link runDaemon}: cmap's reload, the readiness. */
export interface DaemonExtras extends DaemonCmapExtras {
  /** Called once the daemon serves (lock held, keys loaded, both sockets bound). */
  readonly onReady?: (() => void) | undefined;
}

/** Everything after argument parsing, with the C daemon's order of steps and exit codes. */
export async function runDaemon(
  options: QnetdOptions,
  log: Log,
  extras?: DaemonExtras,
): Promise<number> {
  const settings: LiveSettings = Object.assign(options.settings, {
    tlsSupported: options.tls,
    tlsClientCertRequired: options.clientCertRequired,
    maxClients: options.maxClients,
  });
  const tlsOn = options.tls !== TlsSupported.Unsupported;
  if (tlsOn) {
    try {
      if (!Deno.statSync(settings.nssDbDir).isDirectory) throw new Deno.errors.NotADirectory();
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      log(Priority.Err, `Can't open NSS DB directory ${osErrorSuffix(error)}`);
      return ExitStatus.Failure;
    }
  }

  let lockFile: LockFile;
  try {
    lockFile = acquireLockFile(settings.lockFile);
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error;
    log(Priority.Err, error.message);
    return ExitStatus.Failure;
  }
  using _lock = lockFile;
  // libc was needed for the fcntl lock only; without TLS no other library is ever loaded:
  // give up that ffi now (privilege_drop.ts).
  await revokeLibc();
  if (!tlsOn) await dropFfi();

  log(Priority.Debug, "Initializing nss");
  let tls: TlsServerContext | undefined;
  let createContext: KeyRotationOptions["createContext"] | undefined;
  let loadedKeys: LoadedKeys | undefined;
  const forMetrics: { metrics?: DaemonMetrics } = {};
  if (tlsOn) {
    try {
      const { TlsServerContext } = await import("../net/tls_server.ts");
      createContext = ({ keys }, requireClientCert) => {
        const context = TlsServerContext.create({ keys, requireClientCert });
        forMetrics.metrics?.useKeys(keys); // a SIGHUP rotation: the new certificates' expiry
        return context;
      };
      const loaded = await loadServerKeyMaterial(settings.nssDbDir, settings.certNickname);
      tls = createContext(loaded, settings.tlsClientCertRequired);
      loadedKeys = loaded;
      log(Priority.Debug, `TLS key material: ${await describeServerCertificate(loaded)}`);
    } catch (error) {
      if (findNotCapable(error) !== undefined) throw error;
      log(Priority.Crit, `Can't load TLS key material: ${errorText(error)}`);
      return ExitStatus.Failure;
    }
  }
  // The context in use at the end: the first one, or the last a rotation installed.
  let currentTls = tls;
  using _tls = { [Symbol.dispose]: () => currentTls?.[Symbol.dispose]() };

  const arbiter = new Arbiter({
    settings,
    clock: systemClock,
    log,
    wallClock: Date.now,
    logFields: () => settings.logFormat === "json",
  });
  // The TCP edge counts its traffic into these (net/edge_counters.ts); cmap reads them.
  const counters = new EdgeCounters();
  const listenAddress = options.listenAddr ?? "*";
  const stopped = Promise.withResolvers<void>();
  // cmap: settings, runtime keys and the IPC `cmap` command (cli/daemon_cmap.ts).
  const forCmap: { server?: QnetdServer } = {};
  using cmap = new DaemonCmap({
    settings,
    listenAddress,
    port: options.port,
    log,
    debug: extras?.debug ?? { debugLevel: options.debugLevel, setDebug: () => {} },
    snapshot: () => arbiter.snapshot({ address: listenAddress, port: options.port }),
    tcpConnections: () => forCmap.server?.connections() ?? [],
    tcpClosed: () => counters.closedAfterAccept,
    messages: counters,
  });

  // Metrics (cli/metrics_daemon.ts): read at scrape time, over IPC and optionally HTTP.
  using metrics = new DaemonMetrics({
    clusters: () => arbiter.liveClusters(),
    connectedClients: () => arbiter.clientCount,
    tlsSupported: settings.tlsSupported,
    counters,
    nodeTimes: (id) => forCmap.server?.connectionStats(id),
    admissionQueueLength: () => forCmap.server?.admission.waiting ?? 0,
    reloads: cmap.reloads,
    log,
  });
  if (loadedKeys !== undefined) metrics.useKeys(loadedKeys.keys);
  forMetrics.metrics = metrics;
  const ipcHandlers = qnetdIpcHandlers({
    snapshot: () => arbiter.snapshot({ address: listenAddress, port: options.port }),
    shutdown: () => stopped.resolve(),
    log,
  });
  ipcHandlers.set(METRICS_IPC_COMMAND, metrics.ipcHandler());
  ipcHandlers.set("events", eventsIpcHandler({ history: arbiter.history, log }));

  log(Priority.Debug, "Initializing local socket");
  let ipc: IpcServer;
  try {
    ipc = IpcServer.listen({
      path: settings.localSocketFile,
      handlers: cmap.wrapHandlers(ipcHandlers),
      largeRequest: cmap.largeRequest,
      maxClients: settings.ipcMaxClients,
      maxReceiveSize: settings.ipcMaxReceiveSize,
      maxSendSize: settings.ipcMaxSendSize,
      log,
    });
  } catch (error) {
    if (findNotCapable(error) !== undefined) throw error;
    log(
      Priority.Err,
      `Can't create unix socket ${
        osErrorSuffix(error instanceof Error ? error.cause ?? error : error)
      }`,
    );
    return ExitStatus.Failure;
  }

  log(Priority.Debug, "Creating listening socket");
  let server: QnetdServer;
  try {
    server = QnetdServer.listen({
      listen: { host: options.listenAddr, family: options.addressFamily, port: options.port },
      arbiter,
      log,
      limits: settings,
      counters,
      ...(tls === undefined ? {} : { tls }),
    });
  } catch (error) {
    await ipc.close();
    if (!(error instanceof ListenError)) throw error;
    log(Priority.Crit, error.message);
    return ExitStatus.Failure;
  }
  forCmap.server = server;

  const metricsListen = parseMetricsListen(settings.metricsListen);
  let metricsHttp: MetricsHttpServer | undefined;
  if (metricsListen !== undefined) {
    log(Priority.Debug, "Creating metrics listening socket");
    try {
      metricsHttp = MetricsHttpServer.listen({
        ...metricsListen,
        source: metrics,
        log,
      });
    } catch (error) {
      await ipc.close();
      await server.close();
      if (!(error instanceof MetricsListenError)) throw error;
      log(Priority.Crit, error.message);
      return ExitStatus.Failure;
    }
  }

  // Keys loaded, lock held, both listeners bound: give back what only start-up needed.
  log(
    Priority.Debug,
    await dropStartupPermissions({
      keyDir: settings.nssDbDir,
      lockFile: settings.lockFile,
      socketFile: settings.localSocketFile,
      listen: listenDescriptor(options),
      tls: tlsOn,
      ...(metricsListen === undefined ? {} : { metrics: metricsListenDescriptor(metricsListen) }),
    }),
  );

  const onSignal = (name: string) => () => {
    log(Priority.Debug, `${name} received - closing server IPC socket`);
    stopped.resolve();
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  using _sighup = cmap.reloadOnSighup(extras);
  // SIGHUP also rotates the TLS keys (cli/key_rotation.ts).
  using _rotation = createContext === undefined ? { [Symbol.dispose]() {} } : new KeyRotation({
    dir: settings.nssDbDir,
    nickname: settings.certNickname,
    requireClientCert: () => settings.tlsClientCertRequired,
    createContext,
    install: (next) => {
      currentTls = next;
      return server.replaceTls(next);
    },
    log,
  }).onSighup();

  log(Priority.Debug, "Registering algorithms");
  log(Priority.Debug, "QNetd ready to provide service");
  extras?.onReady?.();
  daemonReady();
  log(Priority.Debug, "Running QNetd main loop");
  const serving = server.serve();
  const servingMetrics = metricsHttp?.serve();

  await stopped.promise;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  log(Priority.Debug, "Listening socket is closed");
  log(Priority.Debug, "Destroying qnetd ipc");
  await ipc.close();
  await server.close();
  await serving;
  await metricsHttp?.close();
  await servingMetrics;
  log(Priority.Debug, "Closing log");
  return ExitStatus.Success;
}
