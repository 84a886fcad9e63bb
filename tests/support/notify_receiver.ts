/**
 * The receiving end of sd_notify(3), as systemd holds it for a `Type=notify` service: a unix
 * datagram socket bound at a path or an abstract name (`@name`), read without blocking. Deno
 * has no unix datagram sockets without `--unstable-net`, so this binds one through libc (the
 * test process has ffi). The daemon under test gets the address as `NOTIFY_SOCKET`.
 *
 * @module
 */
import {
  AF_UNIX,
  dlopenLibc,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "../../net/libc_ffi.ts";
import { sockaddrUn } from "../../net/unix_datagram.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Largest datagram read (sd_notify states are short lines). */
const MAX_DATAGRAM = 4096;
/** How often {@link NotifyReceiver.next} looks for a datagram. */
const POLL_MS = 10;

/** A bound notify socket. Dispose it to close it (and remove its file). */
export class NotifyReceiver implements Disposable {
  /** What to put in NOTIFY_SOCKET. */
  readonly address: string;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #fd: number;

  /** Binds `address`: a file path, or `@name` for the abstract namespace. */
  constructor(address: string) {
    this.address = address;
    this.#lib = dlopenLibc(SYMBOLS);
    const s = this.#lib.symbols;
    this.#fd = s.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (this.#fd < 0) throw new Error("socket(AF_UNIX, SOCK_DGRAM) failed");
    const sockaddr = sockaddrUn(address);
    if (s.bind(this.#fd, sockaddr, sockaddr.length) !== 0) {
      s.close(this.#fd);
      throw new Error(`cannot bind ${address}`);
    }
  }

  /** The next datagram as text, or undefined when none came within `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | undefined> {
    const buffer = new Uint8Array(MAX_DATAGRAM);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = Number(this.#lib.symbols.recv(this.#fd, buffer, BigInt(buffer.length), 0));
      if (n >= 0) return new TextDecoder().decode(buffer.subarray(0, n));
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  [Symbol.dispose](): void {
    this.#lib.symbols.close(this.#fd);
    this.#lib.close();
    if (!this.address.startsWith("@")) {
      try {
        Deno.removeSync(this.address);
      } catch {
        // Already gone.
      }
    }
  }
}
