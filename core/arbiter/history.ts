/**
 * The decision history: per cluster, the last arbitration events (connections and
 * disconnections, the lists received, heuristics changes, every vote with its reason, DPD
 * expiry), for `qnet qnetd-tool --events`.
 *
 * Bounded twice, whatever clients do: at most `historyEventsPerCluster` events per cluster
 * (oldest dropped first), and at most `historyMaxMemory` bytes over every cluster, counted
 * with {@link eventCost} (oldest event of the whole daemon dropped first; a cluster whose
 * last event goes is forgotten). A client that invents a new cluster name per connection
 * therefore only pushes old events out. Pure: no I/O, time comes from the caller.
 *
 * @module
 */

/** What happened. */
export const HistoryEventKind = {
  /** A client joined its cluster (INIT accepted), or its INIT was refused. */
  Connected: "connected",
  /** A client left: closed, protocol error, DPD, server going down. */
  Disconnected: "disconnected",
  ConfigList: "config-list",
  MembershipList: "membership-list",
  QuorumList: "quorum-list",
  /** HEURISTICS_CHANGE received. */
  Heuristics: "heuristics",
  /** A vote the arbiter decided (a reply or a VOTE_INFO), or an algorithm error. */
  Vote: "vote",
  /** Dead-peer detection: the client was silent too long. */
  DpdExpired: "dpd-expired",
} as const;
export type HistoryEventKind = typeof HistoryEventKind[keyof typeof HistoryEventKind];

/** An event as the arbiter reports it. */
export interface HistoryRecord {
  /** The cluster name as the logs print it. */
  readonly cluster: string;
  readonly kind: HistoryEventKind;
  readonly nodeId?: number;
  /** The client's "addr:port". */
  readonly address?: string;
  /** One line for an admin, e.g. "membership list: ring 1.8, nodes {1,2}, heuristics pass". */
  readonly text: string;
  /** For votes: ACK, NACK, ASK_LATER, WAIT_FOR_REPLY (or the error name). */
  readonly vote?: string;
  /** For votes: why, in the algorithm's words. */
  readonly reason?: string;
}

/** A stored event. */
export interface HistoryEvent extends HistoryRecord {
  /** Increases by one per event for the daemon's lifetime (for `--follow`). */
  readonly id: number;
  /** When it happened, ms since the epoch. */
  readonly time: number;
  /** How many times in a row the same event happened (1 = once). */
  readonly repeated: number;
}

/** The two limits; read at every record, so a live change applies at the next event. */
export interface HistoryLimits {
  /** Events kept per cluster; 0 turns the history off. */
  readonly historyEventsPerCluster: number;
  /** Bytes (as counted by {@link eventCost}) kept over every cluster. */
  readonly historyMaxMemory: number;
}

/** The defaults of the two settings. */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = Object.freeze({
  historyEventsPerCluster: 200,
  historyMaxMemory: 4 * 1024 * 1024,
});

/**
 * What an event is charged: a fixed part for the objects (the event, its list links, the
 * numbers) and two bytes per character of its strings (V8 may store them in one).
 */
const EVENT_OVERHEAD = 200;
/** What a cluster's entry is charged, plus two bytes per character of its name. */
const CLUSTER_OVERHEAD = 200;

/** The bytes charged for `event`. */
export function eventCost(event: HistoryRecord): number {
  return EVENT_OVERHEAD +
    2 * (event.text.length + (event.address?.length ?? 0) + (event.vote?.length ?? 0) +
        (event.reason?.length ?? 0));
}

/** An event in the daemon-wide list, oldest first (doubly linked for O(1) removal). */
interface Node {
  event: HistoryEvent;
  readonly cost: number;
  readonly cluster: ClusterEvents;
  prev: Node | undefined;
  next: Node | undefined;
}

interface ClusterEvents {
  readonly name: string;
  /** Oldest first. */
  readonly nodes: Node[];
  /** Index of the oldest live node in `nodes` (dropped ones are cut off in batches). */
  head: number;
}

/** A listener of new events (and of repeats of the last one, with the same id). */
export type HistoryListener = (event: HistoryEvent) => void;

/** The history store. */
export class DecisionHistory {
  readonly #limits: HistoryLimits;
  readonly #now: () => number;
  readonly #clusters = new Map<string, ClusterEvents>();
  #oldest: Node | undefined;
  #newest: Node | undefined;
  #bytes = 0;
  #count = 0;
  #nextId = 1;
  /** The per-cluster limit at the last record, to notice when it is lowered. */
  #perClusterSeen = Infinity;
  readonly #listeners = new Set<HistoryListener>();

  /**
   * @param limits read at every record (a live settings object may be passed)
   * @param now the wall clock, ms since the epoch
   */
  constructor(limits: HistoryLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Bytes charged for what is kept now (never above `historyMaxMemory` after a record). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events kept now. */
  get size(): number {
    return this.#count;
  }

  /** Clusters with at least one event kept. */
  get clusterCount(): number {
    return this.#clusters.size;
  }

  /**
   * Keeps an event. A repeat of the cluster's newest event (same kind, node, text, vote and
   * reason) only counts up its `repeated` and refreshes its time. Returns the stored event,
   * or undefined when the history is off or the event alone exceeds the memory limit.
   */
  record(record: HistoryRecord): HistoryEvent | undefined {
    const perCluster = this.#limits.historyEventsPerCluster;
    const maxBytes = this.#limits.historyMaxMemory;
    if (!(perCluster > 0)) {
      this.clear();
      return undefined;
    }
    let cluster = this.#clusters.get(record.cluster);
    const last = cluster?.nodes[cluster.nodes.length - 1];
    if (last !== undefined && sameEvent(last.event, record)) {
      last.event = { ...last.event, time: this.#now(), repeated: last.event.repeated + 1 };
      this.#notify(last.event);
      return last.event;
    }
    const clusterCost = cluster === undefined ? clusterEntryCost(record.cluster) : 0;
    const cost = eventCost(record);
    if (cost + clusterEntryCost(record.cluster) > maxBytes) return undefined;
    if (cluster === undefined) {
      cluster = { name: record.cluster, nodes: [], head: 0 };
      this.#clusters.set(record.cluster, cluster);
    }
    const event = newEvent(record, this.#nextId++, this.#now());
    const node: Node = { event, cost, cluster, prev: this.#newest, next: undefined };
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.next = node;
    this.#newest = node;
    cluster.nodes.push(node);
    this.#bytes += cost + clusterCost;
    this.#count++;
    this.#trim(cluster, perCluster, maxBytes);
    this.#notify(event);
    return event;
  }

  /**
   * The events kept, oldest first: of one cluster, or of every cluster in the order they
   * happened. `afterId` keeps only later events.
   */
  events(options: { cluster?: string; afterId?: number } = {}): HistoryEvent[] {
    const after = options.afterId ?? 0;
    if (options.cluster !== undefined) {
      const cluster = this.#clusters.get(options.cluster);
      if (cluster === undefined) return [];
      return cluster.nodes.slice(cluster.head).map((n) => n.event).filter((e) => e.id > after);
    }
    const out: HistoryEvent[] = [];
    for (let node = this.#oldest; node !== undefined; node = node.next) {
      if (node.event.id > after) out.push(node.event);
    }
    return out;
  }

  /** Calls `listener` for every event recorded from now on; returns the unsubscribe. */
  subscribe(listener: HistoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops every event. */
  clear(): void {
    this.#clusters.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
    this.#bytes = 0;
    this.#count = 0;
  }

  #notify(event: HistoryEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #trim(cluster: ClusterEvents, perCluster: number, maxBytes: number): void {
    if (perCluster < this.#perClusterSeen) {
      // The limit was lowered: every cluster may be over it now, once.
      for (const other of [...this.#clusters.values()]) this.#trimCluster(other, perCluster);
    }
    this.#perClusterSeen = perCluster;
    this.#trimCluster(cluster, perCluster);
    while (this.#bytes > maxBytes && this.#oldest !== undefined) this.#drop(this.#oldest);
  }

  #trimCluster(cluster: ClusterEvents, perCluster: number): void {
    while (cluster.nodes.length - cluster.head > perCluster) {
      this.#drop(cluster.nodes[cluster.head]!);
    }
  }

  /** Removes a cluster's oldest node (it is always the one dropped). */
  #drop(node: Node): void {
    const cluster = node.cluster;
    if (node.prev === undefined) this.#oldest = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#newest = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    cluster.nodes[cluster.head] = undefined!;
    cluster.head++;
    this.#bytes -= node.cost;
    this.#count--;
    if (cluster.head === cluster.nodes.length) {
      this.#clusters.delete(cluster.name);
      this.#bytes -= clusterEntryCost(cluster.name);
    } else if (cluster.head > 32 && cluster.head * 2 > cluster.nodes.length) {
      cluster.nodes.splice(0, cluster.head);
      cluster.head = 0;
    }
  }
}

/** The stored event: the record's fields and its id, time and count (no spread: hot path). */
function newEvent(record: HistoryRecord, id: number, time: number): HistoryEvent {
  const event: {
    -readonly [K in keyof HistoryEvent]: HistoryEvent[K];
  } = { id, time, cluster: record.cluster, kind: record.kind, text: record.text, repeated: 1 };
  if (record.nodeId !== undefined) event.nodeId = record.nodeId;
  if (record.address !== undefined) event.address = record.address;
  if (record.vote !== undefined) event.vote = record.vote;
  if (record.reason !== undefined) event.reason = record.reason;
  return event;
}

function clusterEntryCost(name: string): number {
  return CLUSTER_OVERHEAD + 2 * name.length;
}

function sameEvent(a: HistoryEvent, b: HistoryRecord): boolean {
  return a.kind === b.kind && a.nodeId === b.nodeId && a.address === b.address &&
    a.text === b.text && a.vote === b.vote && a.reason === b.reason;
}
