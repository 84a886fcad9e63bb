/**
 * Read-only keys and prefixes (corosync icmap_set_ro_access()). Clients may not set, delete or
 * adjust them; the daemon itself still writes them. Prefix entries match by plain string prefix,
 * without dot semantics: `nodelistX.a` is not under `nodelist.`.
 *
 * @module
 */

/** One entry: an exact key name, or a prefix. */
export interface ReadOnlyEntry {
  readonly name: string;
  readonly prefix: boolean;
}

/** A set of read-only entries. */
export class ReadOnlyList {
  readonly #exact = new Set<string>();
  readonly #prefixes = new Set<string>();

  constructor(entries: Iterable<ReadOnlyEntry> = []) {
    for (const entry of entries) this.set(entry.name, entry.prefix, true);
  }

  /** Port of icmap_set_ro_access(): adds (`readOnly`) or removes an entry. */
  set(name: string, prefix: boolean, readOnly: boolean): void {
    const set = prefix ? this.#prefixes : this.#exact;
    if (readOnly) set.add(name);
    else set.delete(name);
  }

  /** The entries, exact keys first. */
  *entries(): Generator<ReadOnlyEntry> {
    for (const name of this.#exact) yield { name, prefix: false };
    for (const name of this.#prefixes) yield { name, prefix: true };
  }

  /** Port of icmap_is_key_ro(): an exact entry equals `key`, or a prefix entry starts it. */
  isReadOnly(key: string): boolean {
    if (this.#exact.has(key)) return true;
    for (const prefix of this.#prefixes) if (key.startsWith(prefix)) return true;
    return false;
  }
}

/** The entries corosync 3.1.7 registers (main.c, totemconfig.c, votequorum.c). */
export const COROSYNC_READ_ONLY: readonly ReadOnlyEntry[] = [
  ...[
    "internal_configuration.",
    "runtime.services.",
    "runtime.config.",
    "runtime.totem.",
    "uidgid.config.",
    "system.",
    "nodelist.",
  ].map((name) => ({ name, prefix: true })),
  ...[
    "totem.crypto_cipher",
    "totem.crypto_hash",
    "totem.crypto_model",
    "totem.keyfile",
    "totem.key",
    "totem.secauth",
    "totem.ip_version",
    "totem.rrp_mode",
    "totem.transport",
    "totem.cluster_name",
    "totem.netmtu",
    "totem.threads",
    "totem.version",
    "totem.nodeid",
    "totem.clear_node_high_bit",
    "config.reload_in_progress",
    "config.totemconfig_reload_in_progress",
    "nodelist.local_node_pos",
    "quorum.allow_downscale",
    "quorum.wait_for_all",
  ].map((name) => ({ name, prefix: false })),
];
