/**
 * A free TCP port in a test's own range, for daemons a test starts on the host's network: on a
 * busy machine another program's outgoing connections may hold any port of the ephemeral
 * range (32768-60999 here) for a while, so a fixed port fails now and then with "Address
 * already in use". The port is found by binding it (dual stack and IPv4 loopback, as the
 * daemons bind) and letting it go; the daemon binds it a moment later. The search starts at a
 * random place so that tests sharing a range rarely pick the same port.
 *
 * @module
 */

/** Whether `port` can be bound now, dual stack and on IPv4 loopback, as the daemons bind. */
export function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "::", port }).close();
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    return false;
  }
}

/**
 * A port in `first..last` that can be bound now (tried from a random start); when every one is
 * held (a machine flooded with connections), one the kernel picks as free.
 */
export function freePort(first: number, last: number): number {
  const count = last - first + 1;
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = first + (start + i) % count;
    if (portIsFree(port)) return port;
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    const listener = Deno.listen({ hostname: "::", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (portIsFree(port)) return port;
  }
  throw new Error(`No free TCP port in ${first}-${last}, nor one from the kernel`);
}
