/**
 * A port of a test's own range that is free now. A fixed port can be taken by chance: the
 * ranges the tests use lie inside Linux's ephemeral range (32768-60999), so an outgoing
 * connection of any process may hold it for a while.
 *
 * @module
 */

function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "::", port }).close();
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The first port of `from..to` that nothing holds on 127.0.0.1 and [::] now; when every one
 * is held (a machine flooded with connections), one the kernel picks as free.
 */
export function freePort(from: number, to: number): number {
  for (let port = from; port <= to; port++) if (isFree(port)) return port;
  for (let attempt = 0; attempt < 10; attempt++) {
    const listener = Deno.listen({ hostname: "::", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (isFree(port)) return port;
  }
  throw new Error(`no free port in ${from}..${to}, nor one from the kernel`);
}
