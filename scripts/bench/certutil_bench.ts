/**
 * `scripts/bench/certutil_bench.ts`: `qnet certutil` side by side with corosync-qnetd-certutil
 * 3.0.3 (NSS's certutil underneath), as ratios: `-i` (a new NSS database with CA and server
 * certificate) and `-s` (signing a node's request with the CA key from the database), each run
 * `--runs N` times alternately on fresh directories, wall time of the whole command. Ours runs
 * as the binary runs (the baked flags, see cli/baked_flags.ts).
 *
 *   scripts/deno run -A scripts/bench/certutil_bench.ts [--runs 5] [--json]
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line script: stdout is its interface
import { parseArgs } from "node:util";
import { bakedFlags } from "../../cli/baked_flags.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const C_TOOL = "/usr/bin/corosync-qnetd-certutil";

/** Wall time of one command, in milliseconds; throws with its output when it fails. */
async function timed(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .output();
  const ms = performance.now() - started;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
  });
  const runs = Math.max(1, Math.min(50, Number(values.runs) || 5));
  const root = await Deno.makeTempDir({ prefix: "qnet-certutil-bench-" });
  try {
    const c = { init: [] as number[], sign: [] as number[] };
    const ours = { init: [] as number[], sign: [] as number[] };
    for (let run = 0; run < runs; run++) {
      const r = await measure(root, run);
      c.init.push(r.c.init);
      c.sign.push(r.c.sign);
      ours.init.push(r.ours.init);
      ours.sign.push(r.ours.sign);
    }
    const rows = [
      ["certutil -i (ms, median)", median(ours.init), median(c.init)],
      ["certutil -s (ms, median)", median(ours.sign), median(c.sign)],
    ] as const;
    if (values.json) {
      console.log(
        JSON.stringify({
          runs,
          rows: rows.map(([name, q, k]) => ({ name, qnet: q, c: k, ratio: q / k })),
        }),
      );
    } else {
      console.log(
        `${"figure".padEnd(28)}${"qnet".padStart(10)}${"C".padStart(10)}${"qnet/C".padStart(10)}`,
      );
      for (const [name, q, k] of rows) {
        console.log(
          `${name.padEnd(28)}${q.toFixed(0).padStart(10)}${k.toFixed(0).padStart(10)}${
            (q / k).toFixed(2).padStart(10)
          }`,
        );
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Both tools' -i and -s times of one run. */
export async function measure(
  root: string,
  run: number,
): Promise<{ c: { init: number; sign: number }; ours: { init: number; sign: number } }> {
  const base = `${root}/run${run}`;
  await Deno.mkdir(`${base}/qnetd`, { recursive: true });
  await Deno.mkdir(`${base}/ours`);
  const tool = `${base}/corosync-qnetd-certutil`;
  await Deno.writeTextFile(
    tool,
    (await Deno.readTextFile(C_TOOL)).replace(/^CONFIG_DIR=.*$/m, `CONFIG_DIR="${base}/qnetd"`),
    { mode: 0o755 },
  );
  const qnet = [
    "run",
    "--quiet",
    "--no-prompt",
    ...bakedFlags(),
    `${ROOT}mod.ts`,
    "certutil",
  ];
  const ourDir = `${base}/ours/nssdb`;
  const request = `${base}/node.crq`;
  await timed("openssl", [
    "req",
    ...["-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `${base}/node.key`],
    ...["-subj", "/CN=Bench", "-outform", "DER", "-out", request],
  ]);
  const initC = () => timed(tool, ["-i"]);
  const initOurs = () => timed(Deno.execPath(), [...qnet, "-i", "-d", ourDir]);
  const signC = () => timed(tool, ["-s", "-c", request, "-n", "Bench"]);
  const signOurs = () =>
    timed(Deno.execPath(), [...qnet, "-s", "-c", request, "-n", "Bench", "-d", ourDir]);
  // Alternate which tool goes first, so that neither always meets a warm cache.
  if (run % 2 === 0) {
    const ci = await initC(), oi = await initOurs();
    const cs = await signC(), os = await signOurs();
    return { c: { init: ci, sign: cs }, ours: { init: oi, sign: os } };
  }
  const oi = await initOurs(), ci = await initC();
  const os = await signOurs(), cs = await signC();
  return { c: { init: ci, sign: cs }, ours: { init: oi, sign: os } };
}
