/**
 * The daemon's side of a cmap connection: a {@link CmapBackend} over the daemon's store that
 * writes settings keys through their {@link SettingKey} (checked by the `-S` rules, applied to
 * the live settings at once), and refreshes the runtime keys before each read. Everything
 * else behaves as {@link StoreBackend} (corosync's IPC service: name limit, read-only check,
 * store). Pure; one instance per IPC request.
 *
 * @module
 */
import type { CmapBackend, CmapTracker, LoadFailure, LoadOp } from "./backend.ts";
import { type QnetdConfigState, SETTING_KEYS } from "./qnetd_keys.ts";
import type { CmapEntry, CmapStore } from "./store.ts";
import { checkName, clientDelete, runLoad, StoreBackend } from "./store_backend.ts";
import type { CmapValue } from "./value.ts";

/** What the backend works on. */
export interface QnetdCmapContext {
  readonly store: CmapStore;
  readonly state: QnetdConfigState;
  /** Brings the runtime keys up to date; called before get, iter and track. */
  readonly refresh: () => void;
  /** Called after a settings key was changed by a client (e.g. to log it). */
  readonly changed?: (key: string, value: CmapValue) => void;
}

/**
 * One client's set on `store` with `state`: a writable settings key is checked and applied,
 * any other key goes through the read-only check. Returns the settings key's canonical value
 * when one was applied.
 */
function clientSet(
  store: CmapStore,
  state: QnetdConfigState,
  key: string,
  value: CmapValue,
): CmapValue | undefined {
  checkName(key);
  const setting = SETTING_KEYS.get(key);
  if (setting?.writable === true) {
    const canonical = setting.check(value, state);
    setting.apply(canonical, state);
    store.set(key, canonical);
    return canonical;
  }
  store.checkClientWrite(key);
  store.set(key, value);
  return undefined;
}

/** The daemon's cmap backend for one request (see the module doc). */
export class QnetdCmapBackend implements CmapBackend {
  readonly #ctx: QnetdCmapContext;
  readonly #inner: StoreBackend;

  constructor(ctx: QnetdCmapContext) {
    this.#ctx = ctx;
    this.#inner = new StoreBackend(ctx.store);
  }

  get(key: string): Promise<CmapValue> {
    this.#ctx.refresh();
    return this.#inner.get(key);
  }

  set(key: string, value: CmapValue): Promise<void> {
    return Promise.try(() => {
      const applied = clientSet(this.#ctx.store, this.#ctx.state, key, value);
      if (applied !== undefined) this.#ctx.changed?.(key, applied);
    });
  }

  delete(key: string): Promise<void> {
    return Promise.try(() => clientDelete(this.#ctx.store, key));
  }

  iter(prefix: string): Promise<CmapEntry[]> {
    this.#ctx.refresh();
    return this.#inner.iter(prefix);
  }

  /**
   * All-or-nothing as StoreBackend.load(): a dry run on copies of the store and of the
   * settings finds the first failing set before anything changes.
   */
  load(ops: readonly LoadOp[]): Promise<LoadFailure[]> {
    return Promise.try(() => {
      const { store, state } = this.#ctx;
      const trialState: QnetdConfigState = {
        settings: { ...state.settings },
        listenAddress: state.listenAddress,
        port: state.port,
        debugLevel: state.debugLevel,
      };
      this.#run(store.copy(), trialState, ops, false);
      return this.#run(store, state, ops, true);
    });
  }

  /** Runs the load steps; `real` runs report applied settings through `changed`. */
  #run(
    store: CmapStore,
    state: QnetdConfigState,
    ops: readonly LoadOp[],
    real: boolean,
  ): LoadFailure[] {
    return runLoad(store, ops, (key, value) => {
      const applied = clientSet(store, state, key, value);
      if (real && applied !== undefined) this.#ctx.changed?.(key, applied);
    });
  }

  track(names: readonly string[], flags: number): Promise<CmapTracker> {
    this.#ctx.refresh();
    return this.#inner.track(names, flags);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
