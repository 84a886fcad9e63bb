/**
 * Bytes the C heap (glibc malloc) currently hands out, from `mallinfo2()`: OpenSSL allocates
 * there, so a leaked `SSL` shows up here long before it shows in RSS. Linux/glibc only; tests
 * that use it skip the check where libc.so.6 cannot be opened.
 *
 * @module
 */

const FIELDS = 10; // struct mallinfo2: ten size_t
let libc:
  | Deno.DynamicLibrary<{ mallinfo2: { parameters: []; result: { struct: Deno.NativeType[] } } }>
  | null
  | undefined;

/** In-use bytes (`uordblks + hblkhd`), or undefined without glibc. */
export function mallocInUse(): number | undefined {
  if (libc === undefined) {
    try {
      libc = Deno.dlopen(`/lib/${Deno.build.arch}-linux-gnu/libc.so.6`, {
        mallinfo2: { parameters: [], result: { struct: new Array(FIELDS).fill("usize") } },
      });
    } catch {
      libc = null;
    }
  }
  if (libc === null) return undefined;
  const raw = libc.symbols.mallinfo2() as Uint8Array;
  const v = new BigUint64Array(raw.buffer, raw.byteOffset, FIELDS);
  return Number(v[7]! + v[4]!); // uordblks: arena bytes in use; hblkhd: mmapped blocks
}
