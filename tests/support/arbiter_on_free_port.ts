/**
 * {@linkcode startArbiter} on a free port of a test's range, started again on another one when
 * the daemon still finds its port taken: on a busy machine another program's outgoing
 * connection may hold a port of the ephemeral range between {@linkcode freePort}'s check and
 * the daemon's bind (corosync-qnetd binds without SO_REUSEADDR, so even a connection in
 * TIME-WAIT stops it: "Local Network address is in use").
 *
 * @module
 */
import {
  type ArbiterKind,
  type RunningArbiter,
  startArbiter,
  type StartOptions,
} from "./daemons.ts";
import { freePort } from "./ports.ts";

/** The bind failures of both daemons. */
const PORT_TAKEN = /Local Network address is in use|Address already in use|address not available/i;
/** Attempts before giving up. */
const ATTEMPTS = 5;

/** Starts `kind` on a free port in `first..last` (see the module text). */
export async function startArbiterOnFreePort(
  kind: ArbiterKind,
  range: readonly [first: number, last: number],
  options: Omit<StartOptions, "port"> = {},
): Promise<RunningArbiter> {
  let last: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await startArbiter(kind, { ...options, port: freePort(...range) });
    } catch (error) {
      if (!PORT_TAKEN.test(String(error))) throw error;
      last = error;
    }
  }
  throw new Error(`${kind}: no port of ${range.join("-")} could be bound`, { cause: last });
}
