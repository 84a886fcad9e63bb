// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Long-running fuzzing: the fuzzers of tests/fuzz/ with random seeds for a given time. Every
 * failing input is written to tests/fuzz/regressions/<target>/<hash>.bin, which
 * tests/fuzz/regressions_test.ts replays in the normal suite.
 *
 * ```sh
 * scripts/deno run -A scripts/fuzz.ts --minutes 10 --target decoder
 * scripts/deno run -A scripts/fuzz.ts --minutes 2            # every target, 2 minutes each
 * scripts/deno run -A scripts/fuzz.ts --list
 * ```
 *
 * Options: `--minutes N` per target (default 1), `--target NAME` (repeatable; default all),
 * `--seed N` (default random), `--slow-ms N` (an input running longer counts as a hang,
 * default 5000), `--max-failures N` per target (default 20).
 *
 * @module
 */
import { fuzz } from "../tests/support/fuzz/runner.ts";
import { inputName } from "../tests/support/fuzz/mutate.ts";
import { TARGETS } from "../tests/support/fuzz/targets.ts";

const REGRESSIONS = new URL("../tests/fuzz/regressions/", import.meta.url);

interface Args {
  minutes: number;
  targets: string[];
  seed: number | undefined;
  slowMs: number;
  maxFailures: number;
  list: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    minutes: 1,
    targets: [],
    seed: undefined,
    slowMs: 5000,
    maxFailures: 20,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Option ${flag} needs a value`);
      return v;
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) throw new RangeError(`Option ${flag} needs a number`);
      return n;
    };
    if (flag === "--minutes") args.minutes = number();
    else if (flag === "--target") args.targets.push(value());
    else if (flag === "--seed") args.seed = number() >>> 0;
    else if (flag === "--slow-ms") args.slowMs = number();
    else if (flag === "--max-failures") args.maxFailures = number();
    else if (flag === "--list") args.list = true;
    else throw new TypeError(`Unknown option ${flag}`);
  }
  return args;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split("\n")[0]!.slice(0, 200);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (args.list) {
    for (const name of TARGETS.keys()) console.log(name);
    return 0;
  }
  const names = args.targets.length > 0 ? args.targets : [...TARGETS.keys()];
  let total = 0;
  for (const name of names) {
    const target = TARGETS.get(name);
    if (target === undefined) {
      console.error(`Unknown target ${name}; known: ${[...TARGETS.keys()].join(", ")}`);
      return 2;
    }
    const seed = args.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    const dir = new URL(`${name}/`, REGRESSIONS);
    const started = Date.now();
    console.log(`${name}: seed ${seed}, ${args.minutes} min`);
    let saved = 0;
    const report = await fuzz(target, {
      seed,
      deadline: started + args.minutes * 60_000,
      slowMs: args.slowMs,
      onFailure: async (failure) => {
        if (saved >= args.maxFailures) return;
        saved++;
        await Deno.mkdir(dir, { recursive: true });
        const file = new URL(`${inputName(failure.input)}.bin`, dir);
        await Deno.writeFile(file, failure.input);
        console.log(`  FAIL ${file.pathname}: ${firstLine(failure.error)}`);
      },
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `${name}: ${report.tried} inputs in ${seconds.toFixed(0)} s ` +
        `(${Math.round(report.tried / seconds)}/s), ${report.failures.length} failures`,
    );
    total += report.failures.length;
  }
  return total === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
