/**
 * A writer for the Prometheus text exposition format, version 0.0.4 (what `promtool check
 * metrics` and every Prometheus server read): `# HELP` and `# TYPE` once per family, then its
 * samples, label values escaped as the format requires (`\\`, `\"`, `\n`).
 *
 * It writes bytes straight into a buffer that the caller may keep from one scrape to the
 * next: an exposition of 5,000 nodes is 2.5 MB, and building it as strings (or through a
 * library's registry) left megabytes of garbage per scrape on the daemon's heap, which runs
 * with a 2 MB young generation: the promoted garbage then cost major collections on the vote
 * path (measured 2026-12-05: 40 to 140 ms per scrape, see docs/bench/metrics-overhead.md).
 * prom-client 15 runs under Deno without extra permissions, but keeps every series in its
 * registry and re-hashes the label set of each `set()`: 7 to 25 ms per scrape for 5,000 nodes
 * before any of that garbage.
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

const encoder = new TextEncoder();
/** First buffer size when the caller has none to reuse. */
const INITIAL_BUFFER = 64 * 1024;

/**
 * A growable byte buffer. Writing an ASCII string or an integer allocates nothing; other text
 * goes through `TextEncoder.encodeInto`.
 */
export class ByteSink {
  #buffer: Uint8Array;
  #length = 0;

  /** Writes into `buffer` (grown, i.e. replaced, when too small). */
  constructor(buffer?: Uint8Array) {
    this.#buffer = buffer ?? new Uint8Array(INITIAL_BUFFER);
  }

  #room(bytes: number): void {
    const need = this.#length + bytes;
    if (need <= this.#buffer.length) return;
    // 1.5×: the buffer is kept from one scrape to the next, so its slack stays resident.
    const grown = new Uint8Array(Math.max(need, Math.ceil(this.#buffer.length * 1.5)));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  /** A string known to be ASCII (names, fixed text, label values made of ASCII). */
  ascii(text: string): void {
    this.#room(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  /** Any string, as UTF-8. */
  text(text: string): void {
    this.#room(text.length * 3);
    this.#length += encoder.encodeInto(text, this.#buffer.subarray(this.#length)).written;
  }

  bytes(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** A sample value (integers without allocating). */
  number(value: number): void {
    if (Number.isSafeInteger(value) && value >= 0) {
      if (value < 10) {
        this.#room(1);
        this.#buffer[this.#length++] = 0x30 + value;
        return;
      }
      let digits = 0;
      for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
      this.#room(digits);
      let at = this.#length + digits;
      for (let v = value; v > 0; v = Math.floor(v / 10)) this.#buffer[--at] = 0x30 + (v % 10);
      this.#length += digits;
      return;
    }
    this.ascii(formatValue(value));
  }

  /**
   * A whole number of milliseconds (≥ 0) as seconds: `1500` → `1.5`, without allocating (a
   * float would need `String()`). Other values go through {@link number}.
   */
  milliseconds(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) return this.number(ms / 1000);
    this.number(Math.floor(ms / 1000));
    let fraction = ms % 1000;
    if (fraction === 0) return;
    this.#room(4);
    const buffer = this.#buffer;
    buffer[this.#length++] = 0x2e; // .
    for (let unit = 100; fraction > 0; unit /= 10) {
      const digit = Math.floor(fraction / unit);
      buffer[this.#length++] = 0x30 + digit;
      fraction -= digit * unit;
    }
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** The whole buffer (to reuse for the next exposition). */
  get buffer(): Uint8Array {
    return this.#buffer;
  }

  /** What was written: a view of {@link buffer}. */
  written(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}

/**
 * Builds one exposition. Call {@link family} once per metric name, then {@link sample} for
 * each of its series (label text from {@link labels}); hot loops write the current family's
 * samples through {@link sink} (`name{labels} value\n` each).
 */
export class ExpositionWriter {
  readonly sink: ByteSink;
  #family: string | undefined;
  readonly #seen = new Set<string>();

  /** Writes into `buffer` when given (see {@link ByteSink}). */
  constructor(buffer?: Uint8Array) {
    this.sink = new ByteSink(buffer);
  }

  /** Starts a family. Throws if the name was used before (the format forbids it). */
  family(name: string, help: string, type: MetricType): this {
    if (this.#seen.has(name)) throw new Error(`metric family ${name} written twice`);
    this.#seen.add(name);
    this.#family = name;
    this.sink.text(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
    return this;
  }

  /** One sample of the current family; `labelText` as {@link labels} makes it. */
  sample(labelText: string, value: number): this {
    const name = this.#family;
    if (name === undefined) throw new Error("sample before any family");
    const sink = this.sink;
    sink.ascii(name);
    if (labelText !== "") {
      sink.ascii("{");
      sink.text(labelText);
      sink.ascii("}");
    }
    sink.ascii(" ");
    sink.number(value);
    sink.ascii("\n");
    return this;
  }

  /** The exposition so far (a view of the sink's buffer). */
  bytes(): Uint8Array {
    return this.sink.written();
  }

  /** The exposition so far, decoded (for tests and the IPC reply). */
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}
