/**
 * An arbiter host in a private mount namespace, for the pcs and crmsh flows: `/etc/corosync` and
 * `/run/corosync-qnetd` are bind mounts of a scratch directory (the machine's own files stay
 * untouched), `systemctl` is a stub that records its arguments (pcs stops and disables the
 * service on `destroy`), and with `kind` "qnet" the C tools' names `corosync-qnetd`,
 * `corosync-qnetd-tool` and `corosync-qnetd-certutil` run qnet, as after `install-links`.
 * With `kind` "c" the real tools run, so one flow can be compared between the two.
 *
 * Every command runs through `unshare --mount` afresh; the scratch directory carries the state
 * from one to the next, as the disk does on a real host. The node side
 * (`corosync-qdevice-net-certutil`, `/etc/corosync/qdevice`) shares the same scratch
 * `/etc/corosync`. No init script or start-stop-daemon runs here.
 *
 * @module
 */
import type { ArbiterKind } from "./daemons.ts";
import { freePort } from "./ports.ts";
import { QNET_ARGV } from "./qnet_command.ts";

/**
 * How qnet runs under a C tool's name: as the binary runs (the launcher computes the least set
 * of each command line and runs the subcommand in its worker, tests/support/qnet_command.ts),
 * with the subcommand.
 */
const QNET_COMMAND = QNET_ARGV;

/** The C names qnet takes over, and its subcommand behind each. */
const C_NAMES: ReadonlyMap<string, string> = new Map([
  ["corosync-qnetd", "qnetd"],
  ["corosync-qnetd-tool", "qnetd-tool"],
  ["corosync-qnetd-certutil", "certutil"],
]);

/** The daemon did not come up; `log` is what it wrote. */
export class DaemonStartError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = "DaemonStartError";
  }
}

/**
 * Starts `corosync-qnetd` in `box` on a free port of `first..last` (tests/support/ports.ts) and
 * returns it. Another program's client socket may still take the port between the check and
 * the daemon's bind (the range lies in the kernel's ephemeral range): then another port is
 * tried, up to 8 times.
 */
export async function startOnFreePort(
  box: CNamesSandbox,
  first: number,
  last: number,
  args: readonly string[] = [],
): Promise<number> {
  // Deno's words, then NSS's (the C daemon).
  const taken = /Address already in use|Local Network address is in use/;
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = freePort(first, last);
    try {
      await box.startDaemon(["-p", String(port), ...args]);
      return port;
    } catch (error) {
      if (!(error instanceof DaemonStartError) || !taken.test(error.log)) throw error;
    }
  }
  throw new Error(`no port of ${first}-${last} stayed free long enough`);
}

/** The result of one command. */
export interface SandboxOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Single-quotes `text` for sh. */
function shQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** See the module text. Dispose to stop what still runs and delete the scratch directory. */
export class CNamesSandbox implements AsyncDisposable {
  readonly kind: ArbiterKind;
  /** The scratch directory. */
  readonly root: string;
  /** What `/etc/corosync` shows inside the sandbox. */
  readonly etc: string;
  readonly #daemons: Deno.ChildProcess[] = [];

  private constructor(kind: ArbiterKind, root: string) {
    this.kind = kind;
    this.root = root;
    this.etc = `${root}/etc-corosync`;
  }

  /** A fresh sandbox with an empty `/etc/corosync/qnetd`, as the corosync-qnetd package leaves it. */
  static create(kind: ArbiterKind): CNamesSandbox {
    const root = Deno.makeTempDirSync({ prefix: `qnet-nssops-cnames-${kind}-` });
    const box = new CNamesSandbox(kind, root);
    Deno.mkdirSync(`${box.etc}/qnetd`, { recursive: true });
    Deno.mkdirSync(`${root}/run`);
    Deno.mkdirSync(`${root}/bin`);
    box.#script("systemctl", `echo "$*" >> ${shQuote(`${root}/systemctl.log`)}\nexit 0`);
    if (kind === "qnet") {
      for (const [name, sub] of C_NAMES) {
        box.#script(name, `exec ${[...QNET_COMMAND, sub].map(shQuote).join(" ")} "$@"`);
      }
    }
    return box;
  }

  #script(name: string, body: string): void {
    const path = `${this.root}/bin/${name}`;
    Deno.writeTextFileSync(path, `#!/bin/sh\n${body}\n`);
    Deno.chmodSync(path, 0o755);
  }

  /** The shell lines that set the sandbox up inside the new mount namespace. */
  #setup(): string {
    const binds: Array<[string, string]> = [
      [this.etc, "/etc/corosync"],
      [`${this.root}/run`, "/run/corosync-qnetd"],
      [`${this.root}/bin/systemctl`, "/usr/bin/systemctl"],
      ...(this.kind === "qnet"
        ? [...C_NAMES.keys()].map((
          n,
        ): [string, string] => [`${this.root}/bin/${n}`, `/usr/bin/${n}`])
        : []),
    ];
    return binds.map(([from, to]) => `mount --bind ${shQuote(from)} ${shQuote(to)}`).join(" && ");
  }

  #argv(argv: readonly string[]): string[] {
    return [
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      `${this.#setup()} && exec "$@"`,
      "sh",
      ...argv,
    ];
  }

  /** Runs `argv` inside the sandbox (a shell line with `sh -c`), `stdin` on its standard input. */
  async run(argv: readonly string[], stdin?: Uint8Array | string): Promise<SandboxOutput> {
    const child = new Deno.Command("unshare", {
      args: this.#argv(argv),
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin);
      await writer.close();
    }
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      const out = await child.output();
      const decoder = new TextDecoder();
      return {
        code: out.code,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    } finally {
      clearTimeout(killer);
    }
  }

  /**
   * Starts `corosync-qnetd -f ARGS` in the sandbox (the C daemon or qnet, by kind) and waits,
   * bounded, until its local socket exists. `unshare` execs the daemon, so the child's PID is
   * the daemon's.
   */
  async startDaemon(args: readonly string[]): Promise<Deno.ChildProcess> {
    const child = new Deno.Command("unshare", {
      args: this.#argv(["corosync-qnetd", "-f", ...args]),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
    this.#daemons.push(child);
    let exited = false;
    child.status.then(() => (exited = true));
    const socket = `${this.root}/run/corosync-qnetd.sock`;
    for (let i = 0; i < 300 && !exited; i++) {
      try {
        if (Deno.statSync(socket).isSocket) return child;
      } catch {
        // Not yet.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const logs = await this.stopDaemons();
    throw new DaemonStartError(
      `corosync-qnetd (${this.kind}) ${exited ? "exited" : "did not create"} ${socket}` +
        `${exited ? "" : " within 15 s"}; its log:\n${logs.join("")}`,
      logs.join(""),
    );
  }

  /** SIGTERM to every daemon started here, SIGKILL after 5 s; waits for them. */
  async stopDaemons(): Promise<string[]> {
    const logs: string[] = [];
    for (const child of this.#daemons.splice(0)) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 5000);
      const out = await child.output();
      clearTimeout(killer);
      logs.push(new TextDecoder().decode(out.stderr));
    }
    return logs;
  }

  /** What the stub systemctl was asked, one call a line. */
  systemctlCalls(): string[] {
    try {
      return Deno.readTextFileSync(`${this.root}/systemctl.log`).trim().split("\n");
    } catch {
      return [];
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopDaemons();
    Deno.removeSync(this.root, { recursive: true });
  }
}
