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

/** `struct qnetd_cluster`. */
export class Cluster {
  /** A private copy of the name the first client sent. */
  readonly name: Uint8Array;
  /** Node-id order as inserted; a later change of a member's node id does not re-sort. */
  readonly clients: Client[] = [];
  /** Per-cluster data owned by the decision algorithm. */
  algorithmData: unknown = undefined;

  constructor(name: Uint8Array) {
    this.name = name.slice();
  }

  /** `qnetd_cluster_size()`. */
  get size(): number {
    return this.clients.length;
  }

  /** `qnetd_cluster_find_client_by_node_id()`: the first client with that id. */
  findByNodeId(nodeId: number): Client | undefined {
    return this.clients.find((client) => client.nodeId === nodeId);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `struct qnetd_cluster_list`. */
export class ClusterList {
  readonly #clusters: Cluster[] = [];

  /** In creation order. */
  get clusters(): readonly Cluster[] {
    return this.#clusters;
  }

  /** `qnetd_cluster_list_find_by_name()`: exact length and bytes. */
  findByName(name: Uint8Array): Cluster | undefined {
    return this.#clusters.find((cluster) => sameBytes(cluster.name, name));
  }

  /**
   * `qnetd_cluster_list_add_client()`: finds or creates the cluster of `clusterName`, and
   * inserts the client before the first member with a larger node id (after equal ids).
   */
  addClient(client: Client, clusterName: Uint8Array): Cluster {
    let cluster = this.findByName(clusterName);
    if (cluster === undefined) {
      cluster = new Cluster(clusterName);
      this.#clusters.push(cluster);
    }
    const at = cluster.clients.findIndex((member) => member.nodeId > client.nodeId);
    if (at === -1) cluster.clients.push(client);
    else cluster.clients.splice(at, 0, client);
    return cluster;
  }

  /** `qnetd_cluster_list_del_client()`: removes the client, and the cluster once empty. */
  deleteClient(cluster: Cluster, client: Client): void {
    const at = cluster.clients.indexOf(client);
    if (at !== -1) cluster.clients.splice(at, 1);
    if (cluster.clients.length === 0) {
      const index = this.#clusters.indexOf(cluster);
      if (index !== -1) this.#clusters.splice(index, 1);
    }
  }
}
