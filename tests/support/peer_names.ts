/**
 * A readable form of what core/certs/peer_names.ts read from a certificate, for assertions:
 * `dns:NAME` and `ip:BYTES` for each subjectAltName entry NSS decodes (`other` for the other
 * kinds), then `cn:NAME` for the last CN. Names are shown as UTF-8.
 *
 * @module
 */
import type { PeerCertNames } from "../../core/certs/peer_names.ts";

const utf8 = new TextDecoder();

/** `names` as a list of strings; undefined stays undefined (no certificate). */
export function describeNames(names: PeerCertNames | undefined): string[] | undefined {
  if (names === undefined) return undefined;
  const out: string[] = [];
  for (const entry of names.altNames ?? []) {
    if (entry.kind === "dns") out.push(`dns:${utf8.decode(entry.value)}`);
    else if (entry.kind === "ip") out.push(`ip:${[...entry.value].join(".")}`);
    else out.push("other");
  }
  if (names.commonName !== undefined) out.push(`cn:${utf8.decode(names.commonName)}`);
  return out;
}
