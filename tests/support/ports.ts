/**
 * Free TCP ports for a test, from the range its branch was given. The ranges lie inside
 * Linux's ephemeral port range (32768-60999), so a port can be taken at any moment by
 * another test's outgoing connection: a test that listens asks here for ports that can be
 * bound now (on the IPv6 wildcard, which also covers IPv4, and on 127.0.0.1) instead of
 * using fixed numbers.
 *
 * @module
 */

/** True if `port` can be listened on now. */
function canBind(port: number): boolean {
  for (const hostname of ["::", "127.0.0.1"]) {
    try {
      Deno.listen({ hostname, port }).close();
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * `count` ports of `from..to` that can be bound now, starting at a random place in the
 * range (so parallel test files rarely pick the same ones).
 *
 * @throws {Error} when the range has fewer free ports.
 */
export function freePorts(count: number, from: number, to: number): number[] {
  const size = to - from + 1;
  const start = Math.floor(Math.random() * size);
  const ports: number[] = [];
  for (let i = 0; i < size && ports.length < count; i++) {
    const port = from + ((start + i) % size);
    if (canBind(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`No ${count} free ports in ${from}-${to}`);
  return ports;
}
