/**
 * A port of a test's own range that is free now. A fixed port can be taken by chance: the
 * ranges the tests use lie inside Linux's ephemeral range (32768-60999), so an outgoing
 * connection of any process may hold it for a while.
 *
 * @module
 */

/** The first port of `from..to` that nothing holds on 127.0.0.1 and [::] now. */
export function freePort(from: number, to: number): number {
  for (let port = from; port <= to; port++) {
    try {
      Deno.listen({ hostname: "::", port }).close();
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken: try the next one
    }
  }
  throw new Error(`no free port in ${from}..${to}`);
}
