/**
 * A writer for the Prometheus text exposition format, version 0.0.4 (what `promtool check
 * metrics` and every Prometheus server read): `# HELP` and `# TYPE` once per family, then its
 * samples, label values escaped as the format requires (`\\`, `\"`, `\n`).
 *
 * Why not a library: prom-client 15 runs under Deno without extra permissions, but it keeps
 * every series in its own registry and re-hashes the label set of each `set()`: for 5,000
 * nodes (six series each) a scrape cost 7 to 25 ms (measured 2026-12-05), against about 2 ms
 * for this writer fed straight from the arbiter's snapshot. A scrape every second must stay
 * invisible next to the vote path (docs/bench/metrics-overhead.md).
 *
 * @module
 */

/** Content type of the text format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The sample types this writer emits. */
export type MetricType = "counter" | "gauge";

/** A label value as the text format writes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A HELP text as the text format writes it: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** `name="value"` pairs, escaped, joined for a sample (no braces). */
export function labels(pairs: Readonly<Record<string, string>>): string {
  let out = "";
  for (const name in pairs) {
    if (out !== "") out += ",";
    out += `${name}="${escapeLabelValue(pairs[name]!)}"`;
  }
  return out;
}

/** A sample value: Go's float syntax (`NaN`, `+Inf`, `-Inf`, decimal or exponent form). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Builds one exposition. Call {@link family} once per metric name, then {@link sample} for
 * each of its series (label text from {@link labels}, or pre-escaped by the caller).
 */
export class ExpositionWriter {
  /** Pieces joined once at the end: one flat string, cheaper to encode than a deep rope. */
  readonly #parts: string[] = [];
  #family: string | undefined;
  readonly #seen = new Set<string>();

  /** Starts a family. Throws if the name was used before (the format forbids it). */
  family(name: string, help: string, type: MetricType): this {
    if (this.#seen.has(name)) throw new Error(`metric family ${name} written twice`);
    this.#seen.add(name);
    this.#family = name;
    this.#parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
    return this;
  }

  /** One sample of the current family; `labelText` as {@link labels} makes it. */
  sample(labelText: string, value: number): this {
    const name = this.#family;
    if (name === undefined) throw new Error("sample before any family");
    this.#parts.push(
      labelText === ""
        ? `${name} ${formatValue(value)}\n`
        : `${name}{${labelText}} ${formatValue(value)}\n`,
    );
    return this;
  }

  /**
   * Samples of the current family written by the caller, each `name{labels} value\n`, with
   * label values escaped by {@link escapeLabelValue} (for hot loops).
   */
  raw(samples: readonly string[]): this {
    if (this.#family === undefined) throw new Error("samples before any family");
    for (const line of samples) this.#parts.push(line);
    return this;
  }

  /** The exposition so far. */
  text(): string {
    return this.#parts.join("");
  }
}
