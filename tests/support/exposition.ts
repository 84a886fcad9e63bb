/**
 * Reads a Prometheus text exposition back, for tests: each sample's name, labels (unescaped)
 * and value, and each family's TYPE. Strict about the line shapes the format allows, so that
 * a label value that escaped its quotes shows up as a parse error, not as a passing test.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition. */
export interface Exposition {
  readonly samples: readonly Sample[];
  /** Family name → type, from the `# TYPE` lines. */
  readonly types: ReadonlyMap<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses `text`; throws on any line that is not a comment, a blank or a sample. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const lines = text.split("\n");
  if (lines.pop() !== "") throw new Error("the exposition does not end with a newline");
  for (const [i, line] of lines.entries()) {
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith("#") || line === "") continue;
    samples.push(parseSample(line, i + 1));
  }
  return { samples, types };
}

function parseSample(line: string, lineNo: number): Sample {
  const fail = (why: string) => new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw fail("no metric name");
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === "{") {
    at++;
    while (line[at] !== "}") {
      const labelName = LABEL_NAME.exec(line.slice(at))?.[0];
      if (labelName === undefined || line[at + labelName.length] !== "=") throw fail("label");
      at += labelName.length + 1;
      if (line[at] !== '"') throw fail("label value not quoted");
      at++;
      let value = "";
      for (;;) {
        const c = line[at];
        if (c === undefined) throw fail("unterminated label value");
        at++;
        if (c === '"') break;
        if (c === "\\") {
          const e = line[at++];
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else throw fail(`bad escape \\${e}`);
        } else {
          value += c;
        }
      }
      if (labelName in labels) throw fail(`label ${labelName} twice`);
      labels[labelName] = value;
      if (line[at] === ",") at++;
      else if (line[at] !== "}") throw fail("expected , or }");
    }
    at++;
  }
  if (line[at] !== " ") throw fail("no space before the value");
  const valueText = line.slice(at + 1);
  const value = valueText === "+Inf"
    ? Infinity
    : valueText === "-Inf"
    ? -Infinity
    : valueText === "NaN"
    ? NaN
    : Number(valueText);
  if (valueText === "" || (Number.isNaN(value) && valueText !== "NaN")) throw fail("bad value");
  return { name, labels, value };
}

/** The samples of `name` whose labels include `match`. */
export function samplesOf(
  exposition: Exposition,
  name: string,
  match: Readonly<Record<string, string>> = {},
): Sample[] {
  return exposition.samples.filter((s) =>
    s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)
  );
}

/** Runs `promtool check metrics` on `text`; resolves with its exit code and output. */
export async function promtoolCheckMetrics(
  text: string,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}
