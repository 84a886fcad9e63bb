/**
 * Certificate rotation without a restart: on SIGHUP the daemon reads its key material again
 * (server_keys.ts: the NSS database, else the PEM files) and builds a new TLS context. Only
 * when that succeeds does the server switch to it: every later StartTLS gets the new server
 * certificate and trusts the new CA, while sessions already established keep the context
 * they started from and stay up (the arbiter, and so their votes, never notice). A missing,
 * partial or bad key directory keeps the old keys and logs why.
 *
 * The C daemon reads its NSS database only at start; this is qnet's addition. It means the
 * daemon keeps read access to its key directory after start (cli/privilege_drop.ts).
 *
 * @module
 */
import { certificateNames, type PeerCertNames } from "../core/certs/peer_names.ts";
import { errorText } from "../core/error_text.ts";
import { type Log, Priority } from "../core/log.ts";
import type { TlsServerContext } from "../net/tls_server.ts";
import { findNotCapable } from "./permission_error.ts";
import { type LoadedKeys, loadServerKeyMaterial } from "./server_keys.ts";

/** What a rotation needs from the daemon. */
export interface KeyRotationOptions {
  /** `nss_db_dir` as the daemon started with it (its read grant covers this path only). */
  readonly dir: string;
  /** `cert_nickname`. */
  readonly nickname: string;
  /** Read at each reload: `-c` / `tls_client_cert_required`. */
  readonly requireClientCert: () => boolean;
  /** Builds a context (the lazily imported `TlsServerContext.create`). */
  readonly createContext: (keys: LoadedKeys, requireClientCert: boolean) => TlsServerContext;
  /** Installs the new context and returns the previous one (`QnetdServer.replaceTls`). */
  readonly install: (next: TlsServerContext) => TlsServerContext | undefined;
  readonly log: Log;
}

/** `AB:CD:...`: the SHA-256 fingerprint of a DER certificate, as `openssl x509 -fingerprint`. */
export async function certificateFingerprint(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", Uint8Array.from(der)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** The DNS names and the CN of a certificate, quoted, for a log line. */
function nameList(names: PeerCertNames): string {
  const utf8 = new TextDecoder();
  const dns = (names.altNames ?? []).flatMap((n) => n.kind === "dns" ? [utf8.decode(n.value)] : []);
  const cn = names.commonName === undefined ? [] : [utf8.decode(names.commonName)];
  const all = [...new Set([...dns, ...cn])];
  return all.length === 0 ? "(no names)" : all.map((n) => JSON.stringify(n)).join(", ");
}

/** One line describing the server certificate of `keys`, for the log. */
export async function describeServerCertificate(keys: LoadedKeys): Promise<string> {
  const leaf = keys.keys.certChainDer[0];
  if (leaf === undefined) return "no server certificate";
  let names: string;
  try {
    names = nameList(certificateNames(leaf));
  } catch {
    names = "(names unreadable)";
  }
  return `server certificate ${names} (SHA-256 ${await certificateFingerprint(leaf)}) ` +
    `from ${keys.keys.origin.cert}`;
}

/** Reloads the key material on demand; concurrent requests collapse into one more reload. */
export class KeyRotation {
  readonly #options: KeyRotationOptions;
  #running: Promise<boolean> | undefined;
  #again = false;

  constructor(options: KeyRotationOptions) {
    this.#options = options;
  }

  /**
   * Reads the key material and, when a context can be built from it, installs it. Resolves
   * with whether the new keys are in use. Never rejects for bad key material (that is
   * logged); a revoked permission (NotCapable) is logged the same way.
   */
  reload(): Promise<boolean> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let ok = false;
      try {
        do {
          this.#again = false;
          ok = await this.#reloadOnce();
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
      return ok;
    })();
    return this.#running;
  }

  async #reloadOnce(): Promise<boolean> {
    const { dir, nickname, log } = this.#options;
    let next: TlsServerContext;
    let loaded: LoadedKeys;
    try {
      loaded = await loadServerKeyMaterial(dir, nickname);
      next = this.#options.createContext(loaded, this.#options.requireClientCert());
    } catch (error) {
      const denied = findNotCapable(error);
      const reason = denied === undefined
        ? errorText(error)
        : `${errorText(denied)} (the daemon's read grant of ${dir} is missing)`;
      log(Priority.Err, `Can't reload TLS key material, keeping the old keys: ${reason}`);
      return false;
    }
    this.#options.install(next)?.[Symbol.dispose]();
    log(Priority.Info, `TLS key material reloaded: ${await describeServerCertificate(loaded)}`);
    return true;
  }

  /** Reloads on every SIGHUP until disposed. */
  onSighup(): Disposable {
    const onHup = () => {
      this.#options.log(Priority.Debug, "SIGHUP received - reloading TLS key material");
      void this.reload();
    };
    Deno.addSignalListener("SIGHUP", onHup);
    return { [Symbol.dispose]: () => Deno.removeSignalListener("SIGHUP", onHup) };
  }
}
