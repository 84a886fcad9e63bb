/**
 * The few libc calls the daemon makes through `Deno.dlopen`: open(2) with O_NOFOLLOW and
 * fcntl(2) record locks for the lock file (net/lock_file.ts), which Deno's file API offers
 * neither of, and unix datagram sockets for syslog and sd_notify (net/unix_datagram.ts),
 * which Deno offers only behind `--unstable-net`. Every argument is a number or a buffer (a path, a `struct flock`), so a scoped
 * `--allow-ffi=<libc path>` suffices: no pointer view is ever made. errno is copied out of
 * `__errno_location()` with memcpy into a buffer, its text comes from `__xpg_strerror_r()`.
 *
 * Linux only (glibc), x86_64 and aarch64: the flag values below are those of both, except
 * O_NOFOLLOW, which differs and is chosen by architecture.
 *
 * @module
 */
import { errorText } from "../core/error_text.ts";

/** Where Debian/Ubuntu (multiarch, merged /usr or not), then Fedora/RHEL/SUSE keep glibc. */
export const DEFAULT_LIBC_PATHS: readonly string[] = [
  `/usr/lib/${Deno.build.arch}-linux-gnu/libc.so.6`,
  `/lib/${Deno.build.arch}-linux-gnu/libc.so.6`,
  "/usr/lib64/libc.so.6",
  "/lib64/libc.so.6",
];

/** open(2) flags (asm-generic and x86_64; O_NOFOLLOW per architecture). */
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_CLOEXEC = 0o2000000;
export const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;

/** fcntl(2) commands and lock types (64-bit Linux). */
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
export const SEEK_SET = 0;

/** errno values the lock code tells apart. */
export const EINTR = 4;
export const EAGAIN = 11;
export const EACCES = 13;

/** socket(2) and send(2) values (Linux, both architectures). */
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const MSG_NOSIGNAL = 0x4000;

/** `struct sockaddr_un`: sun_family (unsigned short), then sun_path (108 bytes). */
export const SOCKADDR_UN_PATH = 2;
export const SOCKADDR_UN_PATH_MAX = 108;

/** `struct flock` on 64-bit Linux: l_type, l_whence (short), l_start, l_len (off_t), l_pid. */
export const FLOCK_SIZE = 32;
export const FLOCK_TYPE = 0;
export const FLOCK_WHENCE = 2;
export const FLOCK_START = 8;
export const FLOCK_LEN = 16;
export const FLOCK_PID = 24;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  unlink: { parameters: ["buffer"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
  __xpg_strerror_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound libc symbols. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Raised when no libc.so.6 can be opened (missing, or no FFI permission for it). */
export class LibcLoadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LibcLoadError";
  }
}

let loaded: LibcSymbols | undefined;

/**
 * Opens libc.so.6 with `symbols`, trying {@link DEFAULT_LIBC_PATHS} in order. A refused
 * permission is rethrown as it is (the caller reports it).
 *
 * @throws {LibcLoadError} with every attempt's reason.
 */
export function dlopenLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> {
  const reasons: string[] = [];
  let refused: unknown;
  for (const path of DEFAULT_LIBC_PATHS) {
    try {
      return Deno.dlopen(path, symbols);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) refused ??= error;
      reasons.push(`${path}: ${errorText(error)}`);
    }
  }
  if (refused !== undefined) throw refused;
  throw new LibcLoadError(`Cannot load libc.so.6: ${reasons.join("; ")}`);
}

/**
 * libc.so.6's symbols the daemon uses, opened once ({@link dlopenLibc}).
 *
 * @throws {LibcLoadError} with every attempt's reason.
 */
export function libc(): LibcSymbols {
  loaded ??= dlopenLibc(SYMBOLS).symbols;
  return loaded;
}

const decoder = new TextDecoder();

/** The calling thread's errno, right after a failed call. */
export function lastErrno(lib: LibcSymbols): number {
  const value = new Int32Array(1);
  lib.memcpy(new Uint8Array(value.buffer), lib.__errno_location(), BigInt(value.byteLength));
  return value[0]!;
}

/** `strerror(errno)`. */
export function strerror(lib: LibcSymbols, errno: number): string {
  const buf = new Uint8Array(256);
  if (lib.__xpg_strerror_r(errno, buf, BigInt(buf.length)) !== 0) return `Unknown error ${errno}`;
  const end = buf.indexOf(0);
  return decoder.decode(buf.subarray(0, end === -1 ? buf.length : end));
}

/** A NUL-terminated copy of `text` to pass as a C string. */
export function cPath(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Gives up ffi for every libc path: once the lock is held, libc is never opened again (the
 * symbols already bound keep working, so the lock can still be released at exit).
 */
export async function revokeLibc(): Promise<void> {
  const paths = [...DEFAULT_LIBC_PATHS, ...GRANTED_ELSEWHERE];
  for (const path of paths) await Deno.permissions.revoke({ name: "ffi", path });
}

/** libc paths of the other architecture, which the shipped permission set also lists. */
const GRANTED_ELSEWHERE: readonly string[] = ["x86_64", "aarch64"]
  .filter((arch) => arch !== Deno.build.arch)
  .flatMap((arch) => [`/usr/lib/${arch}-linux-gnu/libc.so.6`, `/lib/${arch}-linux-gnu/libc.so.6`]);
