/**
 * The daemon's cmap: one {@link CmapStore} holding its settings (`qnetd.*`, `logging.debug`),
 * `config.reload_in_progress` and runtime keys (`runtime.*`), the IPC `cmap` command that
 * serves it, per-connection counters of the local IPC clients, and the SIGHUP reload of the
 * configuration file. The key schema is in core/cmap/qnetd_keys.ts and docs/cmap.md.
 *
 * Runtime keys are computed from the daemon's state on demand: before each cmap request is
 * served, and once a second while at least one tracking stream is open (so that trackers of
 * `runtime.` see changes within a second). The vote path never touches cmap.
 *
 * @module
 */
import type { CmapMapName } from "../core/cmap/backend.ts";
import { QnetdCmapBackend } from "../core/cmap/qnetd_backend.ts";
import {
  type ConnectionCounters,
  type MessageCounters,
  type QnetdConfigState,
  type QnetdDebugLevel,
  type QnetdLiveSettings,
  RELOAD_KEY,
  RUNTIME_PREFIX,
  runtimeEntries,
  SETTING_KEYS,
  syncPrefix,
  writeSettingKeys,
} from "../core/cmap/qnetd_keys.ts";
import { qnetdReadOnlyEntries } from "../core/cmap/qnetd_keys.ts";
import { CmapStore } from "../core/cmap/store.ts";
import { StoreBackend } from "../core/cmap/store_backend.ts";
import type { ServerSnapshot } from "../core/arbiter/snapshot.ts";
import { type Log, Priority } from "../core/log.ts";
import { CMAP_IPC_COMMAND, cmapIpcHandler } from "../ipc/cmap_handler.ts";
import { encodeValue } from "../ipc/cmap_protocol.ts";
import { bytesToByteString } from "../core/byte_string.ts";
import type { IpcHandler } from "../ipc/server.ts";
import type { ClientConnection } from "../net/client_connection.ts";
import { ConfigLoadError, loadOptions } from "./config_file.ts";
import type { QnetdOptions } from "./qnetd_args.ts";
import type { ReloadStats } from "./metrics_daemon.ts";

/** How often runtime keys are refreshed while trackers exist. */
export const TRACKING_REFRESH_MS = 1000;

/**
 * Longest `cmap` request line, as libcmap's 1 MiB request buffer (a 16 KiB value takes up to
 * 48 KiB percent-encoded); other IPC commands keep `ipc_max_receive_size`.
 */
export const CMAP_MAX_REQUEST_SIZE = 1 << 20;

/** What `main()` hands the daemon for cmap: the debug switch and what a reload needs. */
export interface DaemonCmapExtras {
  readonly debug: { readonly debugLevel: QnetdDebugLevel; setDebug(level: QnetdDebugLevel): void };
  /** The daemon's command line, parsed again on each reload. */
  readonly args: string[];
  readonly configPath: string;
}

/** What the daemon's cmap reads its state from. */
export interface DaemonCmapOptions {
  readonly settings: QnetdLiveSettings;
  readonly listenAddress: string;
  readonly port: number;
  /** The logger's debug switch. */
  readonly debug: { readonly debugLevel: QnetdDebugLevel; setDebug(level: QnetdDebugLevel): void };
  readonly log: Log;
  readonly snapshot: () => ServerSnapshot;
  readonly tcpConnections: () => Iterable<ClientConnection>;
  /** TCP connections closed since start. */
  readonly tcpClosed: () => number;
  readonly messages: MessageCounters;
}

interface IpcCounters {
  id: string;
  name: string;
  requests: number;
  responses: number;
  dispatched: number;
}

/** The daemon's cmap (see the module doc). Dispose it to stop its refresh timer. */
export class DaemonCmap implements Disposable {
  readonly store = new CmapStore(qnetdReadOnlyEntries());
  /** The `stats` map: empty and read-only (our counters live under `runtime.`). */
  readonly stats = new CmapStore([{ name: "", prefix: true }]);
  readonly state: QnetdConfigState;
  /** SIGHUP reloads by result, for the metrics. */
  readonly reloads: ReloadStats = { succeeded: 0, failed: 0 };
  readonly #options: DaemonCmapOptions;
  readonly #ipc = new Map<string, IpcCounters>();
  #ipcNext = 1;
  #ipcClosed = 0;
  #tracking = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DaemonCmapOptions) {
    this.#options = options;
    const debug = options.debug;
    this.state = {
      settings: options.settings,
      listenAddress: options.listenAddress,
      port: options.port,
      get debugLevel() {
        return debug.debugLevel;
      },
      set debugLevel(level: QnetdDebugLevel) {
        debug.setDebug(level);
      },
    };
    writeSettingKeys(this.store, this.state);
    this.store.set(RELOAD_KEY, { type: "u8", value: 0 });
    this.refresh();
  }

  /** Brings `runtime.*` up to date with the daemon's state. */
  refresh(): void {
    const o = this.#options;
    const tcp: ConnectionCounters[] = [...o.tcpConnections()].map((c) => ({
      id: `tcp:${c.id}`,
      name: c.address,
      serviceId: 1,
      requests: c.stats.requests,
      responses: c.stats.responses,
      invalidRequests: c.stats.invalidRequests,
      overload: c.stats.overload,
      queueSize: c.stats.queueSize,
      sendRetries: c.stats.sendRetries,
    }));
    const ipc: ConnectionCounters[] = [...this.#ipc.values()].map((c) => ({ ...c, serviceId: 2 }));
    syncPrefix(
      this.store,
      RUNTIME_PREFIX,
      runtimeEntries({
        snapshot: o.snapshot(),
        connections: [...tcp, ...ipc],
        closed: o.tcpClosed() + this.#ipcClosed,
        messages: o.messages,
      }),
    );
  }

  /**
   * The daemon's IPC handlers with per-connection counters (for `runtime.connections.ipc:N`)
   * and the `cmap` command added.
   */
  wrapHandlers(handlers: ReadonlyMap<string, IpcHandler>): Map<string, IpcHandler> {
    const all = new Map(handlers);
    all.set(
      CMAP_IPC_COMMAND,
      cmapIpcHandler({
        backend: (map) => this.#backend(map),
        tracking: (delta) => this.#trackingChanged(delta),
        log: this.#options.log,
      }),
    );
    const counted = new Map<string, IpcHandler>();
    for (const [word, handler] of all) counted.set(word, this.#counted(handler));
    return counted;
  }

  #counted(handler: IpcHandler): IpcHandler {
    return async (request) => {
      const counters: IpcCounters = {
        id: `ipc:${this.#ipcNext++}`,
        name: request.tokens.slice(0, 3).map(bytesToByteString).join(" "),
        requests: 1,
        responses: 0,
        dispatched: 0,
      };
      this.#ipc.set(counters.id, counters);
      try {
        const reply = await handler({
          ...request,
          tokens: request.tokens,
          signal: request.signal,
          write: async (bytes) => {
            if (counters.responses === 0) counters.responses = 1;
            else counters.dispatched++;
            await request.write(bytes);
          },
        });
        if (reply !== undefined) counters.responses = 1;
        return reply;
      } finally {
        this.#ipc.delete(counters.id);
        this.#ipcClosed++;
      }
    };
  }

  #backend(map: CmapMapName) {
    if (map === "stats") return new StoreBackend(this.stats);
    return new QnetdCmapBackend({
      store: this.store,
      state: this.state,
      refresh: () => this.refresh(),
      changed: (key, value) =>
        this.#options.log(Priority.Info, `cmap: ${key} set to ${encodeValue(value)}`),
    });
  }

  #trackingChanged(delta: 1 | -1): void {
    this.#tracking += delta;
    if (this.#tracking > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.refresh(), TRACKING_REFRESH_MS);
    } else if (this.#tracking === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * Re-reads the configuration (SIGHUP): with `config.reload_in_progress` at 1 meanwhile,
   * builds the options from the command line and the file, applies every live setting that
   * differs, and logs each read-only one that differs (it needs a restart). A bad file
   * changes nothing and is logged. Returns true if the file was applied.
   */
  reload(args: string[], path: string): boolean {
    const { log } = this.#options;
    this.store.set(RELOAD_KEY, { type: "u8", value: 1 });
    try {
      let loaded;
      try {
        loaded = loadOptions(args, path);
      } catch (error) {
        if (!(error instanceof ConfigLoadError)) throw error;
        log(Priority.Err, `${error.message}; keeping the running configuration`);
        return false;
      }
      for (const warning of loaded.warnings) log(Priority.Warning, warning);
      const wanted = stateOf(loaded.options);
      for (const setting of SETTING_KEYS.values()) {
        const next = setting.read(wanted);
        const now = this.store.get(setting.key);
        if (encodeValue(next) === encodeValue(now)) continue;
        if (!setting.writable) {
          log(
            Priority.Warning,
            `Configuration reload: ${setting.key} changed; restart the daemon to apply it`,
          );
          continue;
        }
        try {
          const canonical = setting.check(next, wanted);
          setting.apply(canonical, this.state);
          this.store.set(setting.key, canonical);
          log(Priority.Info, `Configuration reload: ${setting.key} set to ${encodeValue(next)}`);
        } catch (error) {
          log(Priority.Err, `Configuration reload: ${setting.key} not applied (${error})`);
        }
      }
      log(Priority.Info, `Configuration reloaded from ${loaded.file ?? "the command line"}`);
      return true;
    } finally {
      this.store.set(RELOAD_KEY, { type: "u8", value: 0 });
    }
  }

  /** The IPC server's longer line limit for `cmap` requests. */
  get largeRequest(): { command: string; maxSize: number } {
    return { command: CMAP_IPC_COMMAND, maxSize: CMAP_MAX_REQUEST_SIZE };
  }

  /** Reloads on SIGHUP (see {@link reload}) until disposed; a no-op without `extras`. */
  reloadOnSighup(extras: DaemonCmapExtras | undefined): Disposable {
    if (extras === undefined) return { [Symbol.dispose]() {} };
    const onHup = () => {
      this.#options.log(Priority.Debug, "SIGHUP received - reloading configuration");
      const applied = this.reload(extras.args, extras.configPath);
      if (applied) this.reloads.succeeded++;
      else this.reloads.failed++;
      this.reloads.lastAt = Date.now();
    };
    Deno.addSignalListener("SIGHUP", onHup);
    return { [Symbol.dispose]: () => Deno.removeSignalListener("SIGHUP", onHup) };
  }

  [Symbol.dispose](): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** The settings keys' view of freshly built options (for comparing with the running ones). */
function stateOf(options: QnetdOptions): QnetdConfigState {
  return {
    settings: Object.assign({ ...options.settings }, {
      tlsSupported: options.tls,
      tlsClientCertRequired: options.clientCertRequired,
      maxClients: options.maxClients,
      maxClientReceiveSize: options.settings.maxClientReceiveSize,
      maxClientSendSize: options.settings.maxClientSendSize,
    }) as QnetdLiveSettings,
    listenAddress: options.listenAddr ?? "*",
    port: options.port,
    debugLevel: options.debugLevel,
  };
}
