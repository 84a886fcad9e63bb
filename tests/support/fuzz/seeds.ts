/**
 * Seed corpora for the fuzzers, from the captures of the real daemon and the reference
 * material in tests/fixtures, plus a few hand-written inputs.
 *
 * @module
 */
import { concatBytes } from "../../../core/bytes.ts";
import { CMAP_TRANSCRIPTS_DIR, loadFullSession, loadMalformed, VECTORS_DIR } from "../vectors.ts";

const utf8 = new TextEncoder();

/**
 * Client byte streams: every client write of every capture on its own, and the whole
 * client side of each capture as one stream (pipelined).
 */
export async function qnetSeeds(): Promise<Uint8Array[]> {
  const seeds: Uint8Array[] = [];
  const sessions = [await loadFullSession(), ...await loadMalformed()];
  for (const session of sessions) {
    const writes = session.events.filter((e) => e.dir === "C->S" && !e.eof).map((e) => e.bytes);
    seeds.push(...writes.filter((w) => w.length <= 4096), concatBytes(writes));
  }
  return seeds;
}

/** Decodes a Python bytes literal body (`status\n\x00`). */
function pythonBytes(body: string): Uint8Array {
  const out: number[] = [];
  const escapes = new Map([["n", 10], ["r", 13], ["t", 9], ["\\", 92], ["'", 39], ['"', 34]]);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== "\\") {
      out.push(...utf8.encode(ch));
      continue;
    }
    const next = body[++i] ?? "";
    if (next === "x") {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(escapes.get(next) ?? next.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** The request lines of `ipc_raw_exchanges.txt` plus what the real tool sends (§8.1). */
export async function ipcSeeds(): Promise<Uint8Array[]> {
  const text = await Deno.readTextFile(new URL("ipc_raw_exchanges.txt", VECTORS_DIR));
  const seeds = [...text.matchAll(/^b'((?:[^'\\]|\\.)*)' ->/gm)].map((m) => pythonBytes(m[1]!));
  for (
    const line of [
      "status \n",
      "status verbose \n",
      "list \n",
      "list verbose \n",
      'list cluster "debian" \n',
      'list verbose cluster "a\\"b\\\\c d" \n',
      "shutdown \n",
      'status cluster "x" \n',
      "json list verbose\n",
      'st"at"us\\ x\r\n',
    ]
  ) seeds.push(utf8.encode(line));
  return seeds;
}

/** The load files shown in the cmapctl transcripts (`cat -A` undone), and the files whole. */
export async function cmapLoadSeeds(): Promise<Uint8Array[]> {
  const dir = CMAP_TRANSCRIPTS_DIR;
  const seeds: Uint8Array[] = [];
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".txt"))
    .sort();
  for (const name of names) {
    const text = await Deno.readTextFile(new URL(name, dir));
    const lines = text.split("\n")
      .filter((l) => !l.startsWith("$ ") && !l.startsWith("[") && !l.startsWith("# load"))
      .map((l) => l.replace(/\$$/, "").replaceAll("^I", "\t"));
    seeds.push(utf8.encode(lines.join("\n")));
    if (name.includes("load")) seeds.push(utf8.encode(text));
  }
  seeds.push(utf8.encode("a.b u8 1\n^a.c\n^^a.\n# c\n  x str y z\n"));
  return seeds;
}

/** Configuration files for `parseConfigToml()`. */
export function tomlSeeds(): Uint8Array[] {
  return [
    'port = 5403\nlisten_address = "::"\ntls = "off"\n',
    "[daemon]\nport = 5403\nmax_clients = 10\ndebug = true\nclient_cert_required = false\n",
    "dpd_enabled = true\ndpd_interval_coefficient = 1.5\nheartbeat_interval_min = 1000\n" +
    "heartbeat_interval_max = 120000\nlisten_backlog = 10\n",
    'local_socket_file = "/run/qnetd.sock"\nlock_file = "/run/qnetd.pid"\nnss_db_dir = "/etc/x"\n',
    "max_client_send_size = 32768\nmax_client_receive_size = 32768\nipc_max_clients = 10\n" +
    'keep_active_partition_tie_breaker = "on"\ndpd_interval = 1000\n',
    "Port = 1\n[daemon]\nport = 2\n",
    'a = [1, 2]\nb = { c = 1 }\nd = 1979-05-27T07:32:00Z\ne = 1e400\nf = nan\ng = """x"""\n',
  ].map((t) => utf8.encode(t));
}

/** DER CSRs made with openssl (RSA and EC), or none when openssl is missing. */
export async function csrSeeds(): Promise<Uint8Array[]> {
  const seeds: Uint8Array[] = [];
  for (
    const key of [["-newkey", "rsa:2048"], ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]]
  ) {
    try {
      const out = await new Deno.Command("openssl", {
        args: ["req", "-new", ...key, "-nodes", "-keyout", "/dev/null", "-subj", "/CN=Cluster"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) continue;
      const pem = new TextDecoder().decode(out.stdout);
      const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
      seeds.push(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    } catch {
      // No openssl: the CSR fuzzer runs on the mutated empty input only.
    }
  }
  return seeds;
}
