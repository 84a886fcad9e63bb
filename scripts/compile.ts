// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Builds the `qnet` executable with `deno compile`. The binary is built with the widest
 * grants any valid command line may need (cli/permission_sets.ts widestSet(): read, write,
 * net and run open, ffi, env and sys bounded), held only by its launcher (cli/sandbox.ts),
 * which runs each command line in a worker with the least set computed for it at run time
 * and revokes its own. No rebuild for another port, path or key directory.
 *
 *   scripts/deno run --allow-read --allow-env=DENORT_BIN --allow-run scripts/compile.ts \
 *     [--output dist/qnet]
 *   scripts/deno run scripts/compile.ts --print-flags
 *
 * `--print-flags` prints the flags baked into the binary, on one line: the tests run
 * `deno run <those flags> mod.ts ...` to run what the binary runs.
 *
 * `deno compile` needs a runtime (`denort`) of the same Deno version. It downloads it from
 * dl.deno.land unless DENORT_BIN names a local copy; when neither works this script says so
 * and exits 1. After a build it prints the size of the embedded files, which should stay
 * small (a few MB): a large number means something unintended got embedded.
 *
 * @module
 */

import { bakedFlags, V8_FLAGS, WORKER_FLAG } from "../cli/baked_flags.ts";

export { bakedFlags, V8_FLAGS, WORKER_FLAG };

/** Modules loaded with `import()` or as a Worker, embedded explicitly for the analysis. */
const LAZY_MODULES: readonly string[] = [
  "cli/sandbox_worker.ts",
  "cli/qnetd.ts",
  "cli/qnetd_tool.ts",
  "cli/cmapctl.ts",
  "cli/certutil.ts",
  "net/tls_server.ts",
];

/** Embedded files above this size point at an accidental embedding. */
const EMBEDDED_WARN_BYTES = 20 * 1024 * 1024;

const ROOT = new URL("../", import.meta.url).pathname;

const RUNTIME_HELP = (version: string) =>
  `deno compile could not get the Deno runtime (denort ${version}) it builds on.\n` +
  `Download it on a machine with network access:\n` +
  `  https://dl.deno.land/release/v${version}/denort-x86_64-unknown-linux-gnu.zip\n` +
  `(aarch64: denort-aarch64-unknown-linux-gnu.zip), unzip it here, then run again with\n` +
  `  DENORT_BIN=/path/to/denort\n` +
  `The full 'deno' binary is not a valid denort: the result would run as plain deno.\n`;

/** Sum of the "Files:" line of deno compile's "Embedded Files" report, in bytes. */
export function embeddedBytes(report: string): number | undefined {
  // deno-lint-ignore no-control-regex
  const plain = report.replace(/\x1b\[[0-9;]*m/g, "");
  const match = /^Files:\s*([\d.]+)\s*(B|KB|MB|GB)\s*$/m.exec(plain);
  if (match === null) return undefined;
  const unit = new Map([["B", 1], ["KB", 1024], ["MB", 1024 ** 2], ["GB", 1024 ** 3]]);
  return Number(match[1]) * (unit.get(match[2]!) ?? 1);
}

/** Why the build failed, in words an operator can act on. */
function explain(stderr: string, denortBin: string | undefined, version: string): string {
  if (/Download|dl\.deno\.land|denort|Setting up base binary|Not an ELF/.test(stderr)) {
    const which = denortBin === undefined
      ? "No DENORT_BIN was set and the download failed."
      : `DENORT_BIN=${denortBin} is not a usable denort ${version}.`;
    return `${which}\n${RUNTIME_HELP(version)}`;
  }
  return "deno compile failed (see above).\n";
}

/** Runs the build; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let output = `${ROOT}dist/qnet`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--output" && args[i + 1] !== undefined) output = args[++i]!;
    else if (arg === "--print-flags") {
      console.log(bakedFlags().join(" "));
      return 0;
    } else if (arg === "--with-import") {
      // Accepted for old scripts: run is in every build now (see cli/permission_sets.ts).
    } else {
      console.error("usage: compile.ts [--output FILE] | --print-flags");
      return 2;
    }
  }
  const version = Deno.version.deno;
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  if (denortBin !== undefined) {
    let ok = false;
    try {
      ok = Deno.statSync(denortBin).isFile;
    } catch {
      // reported below
    }
    if (!ok) {
      console.error(`DENORT_BIN=${denortBin} does not exist or is not a file.\n`);
      console.error(RUNTIME_HELP(version));
      return 1;
    }
  }
  const compileArgs = [
    "compile",
    "--no-prompt",
    "--exclude-unused-npm",
    ...bakedFlags(),
    ...LAZY_MODULES.flatMap((m) => ["--include", `${ROOT}${m}`]),
    "--output",
    output,
    `${ROOT}mod.ts`,
  ];
  console.error(`deno ${compileArgs.join(" ")}`);
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(result.stdout);
  const err = new TextDecoder().decode(result.stderr);
  const embedded = embeddedBytes(out + err);
  const mb = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (!result.success) {
    console.error(err.trimEnd());
    if (embedded !== undefined) console.error(`(embedded files would be ${mb(embedded)})`);
    console.error(`\ncompile.ts: ${explain(err, denortBin, version)}`);
    return 1;
  }
  const size = (await Deno.stat(output)).size;
  console.error(
    `Built ${output} (${mb(size)}; embedded files ${
      embedded === undefined ? "unknown" : mb(embedded)
    })`,
  );
  if (embedded !== undefined && embedded > EMBEDDED_WARN_BYTES) {
    console.error(
      `Warning: more than ${mb(EMBEDDED_WARN_BYTES)} embedded: check the "Embedded Files" ` +
        "list of deno compile (a package.json in a parent directory gets embedded whole).",
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
