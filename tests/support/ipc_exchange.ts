/** A raw local-socket client for the IPC tests. */

/** Sends raw bytes and reads until the server closes (or resets) the connection. */
export async function exchange(path: string, request: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    if (request.length > 0) await conn.write(request).catch(() => 0);
    const parts: number[] = [];
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      parts.push(...buf.subarray(0, n));
    }
    return Uint8Array.from(parts);
  } finally {
    conn.close();
  }
}
