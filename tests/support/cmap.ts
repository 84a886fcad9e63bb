/** Shared fixtures for the cmap tests: a store like the transcripts' corosync, and a cmapctl runner. */
import { run } from "../../cli/cmapctl.ts";
import { RecordingIo } from "../../cli/io.ts";
import type { CmapMapName } from "../../core/cmap/backend.ts";
import { COROSYNC_READ_ONLY } from "../../core/cmap/read_only.ts";
import { CmapStore } from "../../core/cmap/store.ts";
import { StoreBackend } from "../../core/cmap/store_backend.ts";
import type { CmapValue } from "../../core/cmap/value.ts";

/** A few keys of the transcripts' corosync (01-dump-icmap.txt), with corosync's read-only list. */
export function corosyncStore(): CmapStore {
  const store = new CmapStore(COROSYNC_READ_ONLY);
  const keys: [string, CmapValue][] = [
    ["internal_configuration.service.0.name", { type: "str", value: "corosync_cmap" }],
    ["nodelist.local_node_pos", { type: "u32", value: 0 }],
    ["nodelist.node.0.name", { type: "str", value: "node1" }],
    ["nodelist.node.0.nodeid", { type: "u32", value: 1 }],
    ["nodelist.node.0.ring0_addr", { type: "str", value: "127.0.0.1" }],
    ["runtime.members.1.ip", { type: "str", value: "r(0) ip(127.0.0.1) " }],
    ["runtime.services.cmap.service_id", { type: "u16", value: 0 }],
    ["totem.cluster_name", { type: "str", value: "cm" }],
    ["totem.transport", { type: "str", value: "knet" }],
    ["totem.version", { type: "u32", value: 2 }],
  ];
  for (const [key, value] of keys) store.set(key, value);
  return store;
}

/** Standard input for one run: lines, then end of input (or never, with `endless`). */
export class FakeStdin {
  readonly #lines: string[];
  readonly #bytes: Uint8Array;
  #release: (() => void) | undefined;
  /** Called once, at the first readLine(): tracking has started by then. */
  onFirstRead: (() => void) | undefined;
  constructor(
    lines: string[] = [],
    bytes: Uint8Array = new Uint8Array(0),
    readonly endless = false,
  ) {
    this.#lines = [...lines];
    this.#bytes = bytes;
  }
  readLine(): Promise<string | null> {
    const hook = this.onFirstRead;
    this.onFirstRead = undefined;
    hook?.();
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (!this.endless) return Promise.resolve(null);
    return new Promise((resolve) => this.#release = () => resolve(null));
  }
  readAll(): Promise<Uint8Array> {
    return Promise.resolve(this.#bytes);
  }
  /** Makes a pending readLine() see end of input. */
  end(): void {
    this.#release?.();
  }
}

/** One cmapctl run's result. */
export interface Ran {
  out: string;
  err: string;
  exit: number;
}

/** Lets pending promise callbacks run (a bounded number of microtask turns, no timers). */
export async function settleMicrotasks(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/** Options of {@link cmapctl}. */
export interface CmapctlRunOptions {
  files?: Map<string, Uint8Array>;
  stdin?: FakeStdin;
  stats?: CmapStore;
  /** Called with the backend once connected (e.g. to change the store while tracking). */
  onConnect?: (backend: StoreBackend) => void;
  /** Records the output (to watch a tracker while it runs). */
  io?: RecordingIo;
  /** Make connecting fail as with no daemon. */
  down?: boolean;
}

/** Runs `corosync-cmapctl args` against `store`. */
export async function cmapctl(
  store: CmapStore,
  args: string[],
  options: CmapctlRunOptions = {},
): Promise<Ran> {
  const io = options.io ?? new RecordingIo();
  const exit = await run(args, io, {
    connect: async (map: CmapMapName) => {
      if (options.down) {
        const { CmapError, CsError } = await import("../../core/cmap/errors.ts");
        throw new CmapError(CsError.Library);
      }
      const backend = new StoreBackend(map === "stats" ? options.stats ?? new CmapStore() : store);
      options.onConnect?.(backend);
      return backend;
    },
    readFile: (path) => {
      const bytes = options.files?.get(path);
      if (bytes === undefined) {
        return Promise.reject(
          new Error(`No such file or directory (os error 2): readfile '${path}'`),
        );
      }
      return Promise.resolve(bytes);
    },
    stdin: options.stdin ?? new FakeStdin(),
  });
  return { out: io.stdout, err: io.stderr, exit };
}

/** Text as bytes. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * The binary value of transcript 07 (bin1.dat): printable, escaped and high bytes, and how
 * corosync-cmapctl prints it (including the sign extension of bytes >= 0x80).
 */
export const BIN1 = Uint8Array.of(
  0x41,
  0x42,
  0x5c,
  0x43,
  0x00,
  0x01,
  0x1f,
  0x20,
  0x7e,
  0x7f,
  0x80,
  0xff,
  0x0a,
  0x09,
  0x7a,
);
export const BIN1_SHOWN = "AB\\\\C\\x00\\x01\\x1F ~\\x7F\\xFFFFFF80\\xFFFFFFFF\\x0A\\x09z";
