/**
 * Datagrams to a unix socket named by path, sent and forgotten: syslog's `/dev/log`
 * (cli/logging.ts) and systemd's `NOTIFY_SOCKET` (net/sd_notify.ts). Deno offers unix
 * datagram sockets only behind `--unstable-net`, so this goes through libc
 * (net/libc_ffi.ts): socket(2) and sendto(2), every argument a number or a buffer.
 *
 * The socket is non-blocking and unbound, and each datagram names its destination, so a
 * receiver that restarts (journald, rsyslog) is found again by path at the next datagram. A
 * receiver that is absent or whose queue is full loses the datagram and the caller gets the
 * reason; the event loop never waits on it. (glibc's syslog(3), which the C daemon uses,
 * blocks while /dev/log's queue is full: every client of the daemon would wait on the
 * logger.)
 *
 * A path that starts with `@` is in the abstract namespace, as sd_notify(3) reads
 * `NOTIFY_SOCKET`.
 *
 * @module
 */
import {
  AF_UNIX,
  lastErrno,
  libc,
  type LibcSymbols,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCKADDR_UN_PATH,
  SOCKADDR_UN_PATH_MAX,
  strerror,
} from "./libc_ffi.ts";

/** The socket could not be made, or the path cannot be a unix socket address. */
export class UnixDatagramError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnixDatagramError";
  }
}

/** The first byte of an abstract socket name in `NOTIFY_SOCKET`; a NUL in the address. */
const ABSTRACT_PREFIX = "@";

/**
 * `struct sockaddr_un` for `path` (the family in host byte order, then the path), trimmed
 * to its used length as the kernel takes it: a file path with its NUL, an abstract name
 * without one.
 *
 * @throws {UnixDatagramError} for an empty path or one longer than sun_path.
 */
export function sockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const abstract = path.startsWith(ABSTRACT_PREFIX);
  const name = new TextEncoder().encode(abstract ? path.slice(1) : path);
  // A file path needs room for its NUL; an abstract name has a NUL in front instead.
  const pathBytes = name.length + 1;
  if (name.length === 0 || pathBytes > SOCKADDR_UN_PATH_MAX) {
    throw new UnixDatagramError(
      `"${path}" cannot be a unix socket address (1 to ${SOCKADDR_UN_PATH_MAX - 1} bytes)`,
    );
  }
  const address = new Uint8Array(SOCKADDR_UN_PATH + pathBytes);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(name, SOCKADDR_UN_PATH + (abstract ? 1 : 0));
  // File path: name then NUL (already zero). Abstract: NUL then name, no terminator.
  return address;
}

/** An unbound, non-blocking unix datagram socket that sends to one path. */
export class UnixDatagramSender implements Disposable {
  readonly #lib: LibcSymbols;
  readonly #address: Uint8Array<ArrayBuffer>;
  #fd: number;

  private constructor(lib: LibcSymbols, fd: number, address: Uint8Array<ArrayBuffer>) {
    this.#lib = lib;
    this.#fd = fd;
    this.#address = address;
  }

  /**
   * A socket for datagrams to `path`. Needs the ffi grant of libc, unless libc was loaded
   * before (the lock file loads it).
   *
   * @throws {UnixDatagramError} when the path is not an address or socket(2) fails.
   */
  static open(path: string): UnixDatagramSender {
    const address = sockaddrUn(path);
    const lib = libc();
    const fd = lib.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new UnixDatagramError(`socket(AF_UNIX, SOCK_DGRAM): ${strerror(lib, lastErrno(lib))}`);
    }
    return new UnixDatagramSender(lib, fd, address);
  }

  /** Sends `datagram`; undefined when sent, else why not (strerror text). */
  send(datagram: Uint8Array<ArrayBuffer>): string | undefined {
    if (this.#fd < 0) return "socket closed";
    const sent = this.#lib.sendto(
      this.#fd,
      datagram,
      BigInt(datagram.length),
      MSG_NOSIGNAL,
      this.#address,
      this.#address.length,
    );
    return Number(sent) < 0 ? strerror(this.#lib, lastErrno(this.#lib)) : undefined;
  }

  /** Closes the socket (again: nothing). */
  close(): void {
    if (this.#fd < 0) return;
    this.#lib.close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
