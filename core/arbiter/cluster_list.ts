/**
 * Clusters (clients whose cluster names are byte-for-byte equal), in creation order, each
 * holding its clients in node-id order.
 *
 * Port of qnetd-cluster.c and qnetd-cluster-list.c. The order is part of the behaviour:
 * every "for each client" loop of the algorithms runs in it.
 *
 * @module
 */
import type { Client } from "./client.ts";
import type { NodeInfo } from "../protocol/types.ts";
import { bytesToByteString } from "../byte_string.ts";

/** Distinct node lists a cluster keeps for sharing (config, membership, quorum, a change). */
const SHARED_NODE_LISTS = 6;

/** `struct qnetd_cluster`. */
export class Cluster {
  /** The name the first client sent; its members share these bytes. */
  readonly name: Uint8Array;
  /** Node-id order as inserted; a later change of a member's node id does not re-sort. */
  readonly clients: Client[] = [];
  /** Per-cluster data owned by the decision algorithm. */
  algorithmData: unknown = undefined;
  /** Recently stored node lists, newest last (see {@link shareNodeList}). */
  readonly #nodeLists: (readonly NodeInfo[])[] = [];

  /** @param name a private copy, never changed afterwards */
  constructor(name: Uint8Array) {
    this.name = name;
  }

  /** `qnetd_cluster_size()`. */
  get size(): number {
    return this.clients.length;
  }

  /** `qnetd_cluster_find_client_by_node_id()`: the first client with that id. */
  findByNodeId(nodeId: number): Client | undefined {
    return this.clients.find((client) => client.nodeId === nodeId);
  }

  /**
   * A frozen node list equal to `nodes`, shared by the members that sent the same list.
   * Every node of a cluster normally reports the same config, membership and quorum lists,
   * so an arbiter with thousands of clusters keeps one copy of each instead of one per node.
   */
  shareNodeList(nodes: readonly NodeInfo[]): readonly NodeInfo[] {
    const lists = this.#nodeLists;
    for (let i = lists.length - 1; i >= 0; i--) {
      if (sameNodes(lists[i]!, nodes)) return lists[i]!;
    }
    const copy = Object.freeze(nodes.map((node) => Object.freeze({ ...node })));
    if (lists.push(copy) > SHARED_NODE_LISTS) lists.shift();
    return copy;
  }
}

function sameNodes(a: readonly NodeInfo[], b: readonly NodeInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.nodeId !== y.nodeId || x.dataCenterId !== y.dataCenterId || x.nodeState !== y.nodeState
    ) return false;
  }
  return true;
}

/**
 * `struct qnetd_cluster_list`. C scans a linked list for every INIT; a map keyed by the name
 * bytes (as a byte string, so any bytes are a distinct key) keeps that lookup constant with thousands of clusters, and its insertion order is the
 * C list's creation order.
 */
export class ClusterList {
  readonly #clusters = new Map<string, Cluster>();

  /** In creation order. */
  get clusters(): readonly Cluster[] {
    return [...this.#clusters.values()];
  }

  /** `qnetd_cluster_list_find_by_name()`: exact length and bytes. */
  findByName(name: Uint8Array): Cluster | undefined {
    return this.#clusters.get(bytesToByteString(name));
  }

  /**
   * `qnetd_cluster_list_add_client()`: finds or creates the cluster of `clusterName`, and
   * inserts the client before the first member with a larger node id (after equal ids). The
   * client then shares the cluster's copy of the name.
   */
  addClient(client: Client, clusterName: Uint8Array): Cluster {
    const key = bytesToByteString(clusterName);
    let cluster = this.#clusters.get(key);
    if (cluster === undefined) {
      cluster = new Cluster(clusterName.slice());
      this.#clusters.set(key, cluster);
    }
    const at = cluster.clients.findIndex((member) => member.nodeId > client.nodeId);
    if (at === -1) cluster.clients.push(client);
    else cluster.clients.splice(at, 0, client);
    client.clusterName = cluster.name;
    return cluster;
  }

  /** `qnetd_cluster_list_del_client()`: removes the client, and the cluster once empty. */
  deleteClient(cluster: Cluster, client: Client): void {
    const at = cluster.clients.indexOf(client);
    if (at !== -1) cluster.clients.splice(at, 1);
    if (cluster.clients.length === 0) this.#clusters.delete(bytesToByteString(cluster.name));
  }
}
