/**
 * A tiny TCP server on 127.0.0.1 (ports 16100-16199) that drives a {@link TlsSession} per
 * connection the way the daemon does, and runners for the real TLS clients (`openssl
 * s_client`, NSS `tstclnt`). The server greets after the handshake, answers the client's
 * first line with "PONG <line>" and closes; each connection's outcome is recorded.
 *
 * @module
 */

import { TlsError, type TlsServerContext } from "../../../net/tls_server.ts";
import { describeNames } from "../peer_names.ts";

/** What happened on one server-side connection. */
export interface TlsOutcome {
  handshakeDone: boolean;
  protocol: string | undefined;
  names: string[] | undefined;
  verifyResult: number;
  /** Application bytes received, as text. */
  received: string;
  error: TlsError | undefined;
}

const PORTS = { first: 16100, last: 16199 };
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The echo server; dispose to stop listening (connections end on their own). */
export class EchoServer implements AsyncDisposable {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #outcomes: Promise<TlsOutcome>[] = [];
  readonly #waiters: ((o: Promise<TlsOutcome>) => void)[] = [];
  readonly #loop: Promise<void>;

  constructor(readonly context: TlsServerContext) {
    let listener: Deno.Listener | undefined;
    let port = PORTS.first;
    for (; port <= PORTS.last && listener === undefined; port++) {
      try {
        listener = Deno.listen({ hostname: "127.0.0.1", port });
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      }
    }
    if (listener === undefined) throw new Error("Cannot find a free port in 16100-16199");
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const outcome = serve(this.context, conn);
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter(outcome);
        else this.#outcomes.push(outcome);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** The outcome of the next connection (in accept order). */
  next(): Promise<TlsOutcome> {
    const ready = this.#outcomes.shift();
    if (ready !== undefined) return ready;
    return new Promise<Promise<TlsOutcome>>((resolve) => this.#waiters.push(resolve)).then((o) =>
      o
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#loop;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

async function serve(context: TlsServerContext, conn: Deno.Conn): Promise<TlsOutcome> {
  using session = context.newSession();
  const outcome: TlsOutcome = {
    handshakeDone: false,
    protocol: undefined,
    names: undefined,
    verifyResult: -1,
    received: "",
    error: undefined,
  };
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let result;
      try {
        result = session.receive(buf.subarray(0, n));
      } catch (error) {
        if (!(error instanceof TlsError)) throw error;
        outcome.error = error;
        outcome.verifyResult = error.verifyResult;
        await writeAll(conn, session.takeOutgoing()); // the alert
        break;
      }
      if (result.handshakeDone) {
        outcome.handshakeDone = true;
        outcome.protocol = session.protocol;
        outcome.names = describeNames(session.peerCertificateNames());
        outcome.verifyResult = session.verifyResult;
        session.send(encoder.encode(`HELLO ${session.protocol}\n`));
      }
      outcome.received += decoder.decode(result.plaintext);
      const newline = outcome.received.indexOf("\n");
      if (newline >= 0) {
        session.send(encoder.encode(`PONG ${outcome.received.slice(0, newline)}\n`));
        session.shutdown();
      }
      await writeAll(conn, session.takeOutgoing());
      if (newline >= 0 || session.peerClosed) break;
    }
  } catch (error) {
    // The client may reset the connection after an alert; that is part of the outcome.
    if (
      !(error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe)
    ) {
      throw error;
    }
  } finally {
    conn.close();
  }
  return outcome;
}

/** Result of running a client process. */
export interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a client with `input` on stdin, kept open until the client exits (stdin is /dev/null
 * when `input` is undefined), and kills it by PID if it still runs after `timeoutMs`.
 */
export async function runClient(
  cmd: string,
  args: string[],
  input?: string,
  timeoutMs = 15_000,
): Promise<ClientResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const writer = input === undefined ? undefined : child.stdin.getWriter();
  try {
    await writer?.write(encoder.encode(input));
  } catch {
    // the client may already have exited (handshake refused)
  }
  const status = await child.output();
  clearTimeout(timer);
  try {
    await writer?.close();
  } catch {
    // already closed
  }
  return {
    code: status.code,
    stdout: decoder.decode(status.stdout),
    stderr: decoder.decode(status.stderr),
  };
}

/** Options for {@link sClient}. */
export interface SClientOptions {
  port: number;
  caFile: string;
  cert?: string;
  key?: string;
  /** e.g. "-tls1_2"; default: whatever OpenSSL negotiates (TLS 1.3). */
  version?: string[];
}

/** `openssl s_client` as the qdevice would connect: SNI "Qnetd Server", CA-verified. */
export function sClient(opts: SClientOptions): Promise<ClientResult> {
  const args = [
    "s_client",
    "-connect",
    `127.0.0.1:${opts.port}`,
    "-servername",
    "Qnetd Server",
    "-verify_hostname",
    "Qnetd Server",
    "-CAfile",
    opts.caFile,
    "-verify_return_error",
    "-quiet",
    ...(opts.cert !== undefined ? ["-cert", opts.cert] : []),
    ...(opts.key !== undefined ? ["-key", opts.key] : []),
    ...(opts.version ?? []),
  ];
  return runClient("openssl", args, "ping\n");
}

/**
 * NSS `tstclnt` like the real qdevice: SNI/URL "Qnetd Server", client cert "Cluster Cert".
 * It sends `requestFile` (-A) and exits once the server closes; with stdin it would not.
 */
export function tstclnt(
  opts: {
    port: number;
    nssDb: string;
    requestFile: string;
    /** Client certificate nickname; null sends no certificate. */
    nickname?: string | null;
    extra?: string[];
  },
): Promise<ClientResult> {
  const nickname = opts.nickname === undefined ? "Cluster Cert" : opts.nickname;
  return runClient("tstclnt", [
    "-h",
    "127.0.0.1",
    "-p",
    String(opts.port),
    "-4",
    "-d",
    opts.nssDb,
    ...(nickname === null ? [] : ["-n", nickname]),
    "-a",
    "Qnetd Server",
    "-A",
    opts.requestFile,
    ...(opts.extra ?? []),
  ]);
}
