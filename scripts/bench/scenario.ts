/**
 * What one emulated cluster looks like at any moment, and which vote each of its nodes
 * must end up with under ffsplit. The generator alternates every cluster between "whole"
 * (all nodes in one membership) and "split" (two halves with their own ring ids), so the
 * expected final votes are known in advance and every VOTE_INFO can be checked.
 *
 * Pure: no I/O, no timers.
 *
 * @module
 */
import { Vote } from "../../core/protocol/constants.ts";
import type { RingId } from "../../core/protocol/types.ts";

/** The membership one node reports: its ring and the node ids it sees. */
export interface Membership {
  readonly ringId: RingId;
  readonly nodeIds: readonly number[];
}

/**
 * One cluster's scenario: node ids 1..size, tie-breaker LOWEST, heuristics off, every
 * node connected. Ring ids are {lowest node id of the partition, ring seq}.
 */
export class ClusterScenario {
  readonly name: string;
  readonly nodeIds: readonly number[];
  #ringSeq = 1n;
  #split = false;

  constructor(name: string, size: number) {
    this.name = name;
    this.nodeIds = Array.from({ length: size }, (_, i) => i + 1);
  }

  /** True while the cluster is split in two partitions. */
  get split(): boolean {
    return this.#split;
  }

  /** A split needs two non-empty halves. */
  get canChange(): boolean {
    return this.nodeIds.length >= 2;
  }

  /** Moves to the next state: whole → split → whole ..., each with a new ring seq. */
  change(): void {
    if (!this.canChange) throw new RangeError(`Cannot split cluster "${this.name}" of one node`);
    this.#ringSeq += 1n;
    this.#split = !this.#split;
  }

  /** The partition `nodeId` is in: the first half (rounded up) or the second. */
  partitionOf(nodeId: number): readonly number[] {
    if (!this.#split) return this.nodeIds;
    const half = Math.ceil(this.nodeIds.length / 2);
    const first = this.nodeIds.slice(0, half);
    return first.includes(nodeId) ? first : this.nodeIds.slice(half);
  }

  /** What `nodeId` reports as its membership now. */
  membershipOf(nodeId: number): Membership {
    const nodeIds = this.partitionOf(nodeId);
    return { ringId: { nodeId: nodeIds[0] ?? nodeId, seq: this.#ringSeq }, nodeIds };
  }

  /**
   * The final vote ffsplit gives `nodeId` (reference qnetd-algorithms.md §2.2): a strict
   * majority of the config wins; at exactly half, with equal scores and KAP not deciding
   * (both partitions were in the previous whole membership), the tie-breaker LOWEST gives
   * the vote to the partition holding the lowest configured node id.
   */
  expectedVote(nodeId: number): Vote {
    const part = this.partitionOf(nodeId);
    const n = this.nodeIds.length;
    if (part.length * 2 > n) return Vote.Ack;
    if (part.length * 2 < n) return Vote.Nack;
    return part.includes(Math.min(...this.nodeIds)) ? Vote.Ack : Vote.Nack;
  }
}

/** True when two ring ids are equal (both fields). */
export function sameRing(a: RingId | undefined, b: RingId | undefined): boolean {
  return a !== undefined && b !== undefined && a.nodeId === b.nodeId && a.seq === b.seq;
}
