/**
 * Test helpers for `qnet certutil`: scratch copies of the real C scripts with their paths moved
 * into a temporary directory, a runner for external commands, and an in-process runner for ours.
 *
 * @module
 */
import { main } from "../../cli/certutil.ts";
import { RecordingIo } from "../../cli/io.ts";
import { type Missing, needAll, needProgram } from "./precondition.ts";

/** Output of a command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an external command (never through a shell). */
export async function runCommand(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", ...(cwd ? { cwd } : {}) })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs our `qnet certutil` in-process. */
export async function ours(args: string[]): Promise<RunResult> {
  const io = new RecordingIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** A temporary directory with scratch copies of the real tools; `Symbol.asyncDispose` removes it. */
export class Scratch implements AsyncDisposable {
  private constructor(readonly root: string) {}

  /** `corosync-qnetd-certutil` with `CONFIG_DIR=<root>/qnetd` (DB in `<root>/qnetd/nssdb`). */
  get qnetdTool(): string {
    return `${this.root}/qnetd-certutil`;
  }
  /** `corosync-qdevice-net-certutil` with the node DB in `<root>/node/nssdb`. */
  get nodeTool(): string {
    return `${this.root}/node-certutil`;
  }
  /** The real qnetd tool's DB dir. */
  get realDb(): string {
    return `${this.root}/qnetd/nssdb`;
  }
  /** The node DB dir of the scratch node tool. */
  get nodeDb(): string {
    return `${this.root}/node/nssdb`;
  }

  static async create(): Promise<Scratch> {
    const root = await Deno.makeTempDir({ prefix: "qnet-certutil-test-" });
    const s = new Scratch(root);
    await Deno.mkdir(`${root}/qnetd`);
    const qnetd = (await Deno.readTextFile("/usr/bin/corosync-qnetd-certutil"))
      .replace(/^CONFIG_DIR=.*$/m, `CONFIG_DIR="${root}/qnetd"`);
    const node = (await Deno.readTextFile("/usr/sbin/corosync-qdevice-net-certutil"))
      .replace(/^BASE_DIR=.*$/m, `BASE_DIR="${root}/node"`)
      .replace(/^DB_DIR_QNETD=.*$/m, `DB_DIR_QNETD="${root}/qnetd/nssdb"`);
    await Deno.writeTextFile(s.qnetdTool, qnetd, { mode: 0o755 });
    await Deno.writeTextFile(s.nodeTool, node, { mode: 0o755 });
    return s;
  }

  /** Runs the scratch real qnetd tool. */
  async qnetd(...args: string[]): Promise<RunResult> {
    return await runCommand(this.qnetdTool, args, this.root);
  }
  /** Runs the scratch real node tool. */
  async node(...args: string[]): Promise<RunResult> {
    return await runCommand(this.nodeTool, args, this.root);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.root, { recursive: true });
  }
}

/** The real tools these tests compare with (on the project's machines and in CI). */
export function needRealTools(): Missing {
  return needAll(
    needProgram("/usr/bin/corosync-qnetd-certutil", "corosync-qnetd"),
    needProgram("/usr/sbin/corosync-qdevice-net-certutil", "corosync-qdevice"),
  );
}

/** `openssl asn1parse` of a certificate, with times removed: the byte layout, minus the clock. */
export async function asn1Layout(path: string, inform: "PEM" | "DER"): Promise<string> {
  const der = await Deno.makeTempFile({ suffix: ".der" });
  try {
    const x = await runCommand("openssl", [
      "x509",
      "-inform",
      inform,
      "-in",
      path,
      "-outform",
      "DER",
      "-out",
      der,
    ]);
    if (x.code !== 0) throw new Error(`openssl x509 ${path}: ${x.stderr}`);
    const r = await runCommand("openssl", ["asn1parse", "-inform", "DER", "-in", der]);
    if (r.code !== 0) throw new Error(`openssl asn1parse ${path}: ${r.stderr}`);
    return layoutWithoutTimes(r.stdout);
  } finally {
    await Deno.remove(der);
  }
}

function layoutWithoutTimes(text: string): string {
  return text.replace(/(UTCTIME|GENERALIZEDTIME) *:\d+Z/g, "$1");
}

/** Everything about the files of a directory: name, mode, size, content. */
export async function snapshot(dir: string): Promise<string> {
  const rows: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const st = await Deno.lstat(`${dir}/${e.name}`);
    const content = st.isFile
      ? Array.from(
        new Uint8Array(
          await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${e.name}`)),
        ),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("")
      : "";
    rows.push(`${e.name} ${st.mode?.toString(8)} ${st.size} ${content}`);
  }
  return rows.sort().join("\n");
}

/** The real C usage text with our program name, to compare with ours. */
export function withProgram(usage: string, program: string): string {
  return usage.replace(/^[^:\n]*:/, `${program}:`);
}
