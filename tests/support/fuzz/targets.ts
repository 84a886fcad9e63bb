/**
 * The fuzz targets: each takes one input and throws if a property does not hold. Allowed
 * exceptions (the documented error classes of the code under test) are caught here; anything
 * else escapes and counts as a failure. Every per-input choice (chunking, limits) comes from
 * the input's hash, so a saved failing input replays the same way.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../../core/clock.ts";
import { nullLog } from "../../../core/log.ts";
import { Arbiter } from "../../../core/arbiter/arbiter.ts";
import { defaultArbiterSettings } from "../../../core/arbiter/settings.ts";
import { parseCertificateRequest } from "../../../core/certs/request.ts";
import { CertificateRequestError } from "../../../core/certs/errors.ts";
import {
  ConfigFileError,
  type DaemonOptions,
  parseConfigToml,
  type QnetdConfig,
} from "../../../core/cmap/config_toml.ts";
import { type QnetdSettings, SETTINGS_TABLE } from "../../../core/settings.ts";
import { stringify as stringifyToml } from "smol-toml";
import { parseLoadFile } from "../../../core/cmap/load_file.ts";
import { isValidMsgType, MSG_HEADER_LENGTH } from "../../../core/protocol/constants.ts";
import { decodeMsg } from "../../../core/protocol/decode.ts";
import { encodeClientMsg } from "../../../core/protocol/encode_client.ts";
import { encodeServerMsg } from "../../../core/protocol/encode_server.ts";
import { FrameDecoder, type FrameEvent } from "../../../core/protocol/frame_decoder.ts";
import { EncodeError } from "../../../core/protocol/tlv_writer.ts";
import { parseQnetdCommand, tokenize, TokenTooLongError } from "../../../ipc/line_lexer.ts";
import { Choices, runScenario } from "./arbiter_scenario.ts";
import { chunkCuts, hash32, Rng } from "./mutate.ts";
import { nssdbTarget } from "./nssdb_target.ts";
import { cmapLoadSeeds, csrSeeds, ipcSeeds, qnetSeeds, tomlSeeds } from "./seeds.ts";

/** One fuzz target. */
export interface FuzzTarget {
  readonly name: string;
  /** Inputs longer than this are cut by the mutator. */
  readonly maxLength: number;
  seeds(): Promise<Uint8Array[]>;
  /** Checks one input; throws on a property violation or an unexpected exception. */
  run(input: Uint8Array): void | Promise<void>;
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
}

function u16(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(at);
}

/**
 * Feeds `stream` to a FrameDecoder cut at `cuts` and checks its contract on every call:
 * progress, never consuming past the end of the current message, completion exactly at the
 * end the header announced and as the last event of its call, the event the header calls
 * for (message / skip 4 / skip 5 / the len-0 quirk), and never more buffered than `limit`.
 * Returns the whole messages.
 */
export function feedChecked(stream: Uint8Array, limit: number, cuts: number[]): Uint8Array[] {
  const decoder = new FrameDecoder(limit);
  const messages: Uint8Array[] = [];
  const bounds = [0, ...cuts, stream.length];
  let offset = 0;
  let start = 0;
  let calls = 0;
  let announced = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    let chunk = stream.subarray(bounds[i], bounds[i + 1]);
    while (chunk.length > 0) {
      assert.ok(++calls <= stream.length + bounds.length, "feed() made no progress");
      const { consumed, events } = decoder.feed(chunk);
      assert.ok(consumed >= 1 && consumed <= chunk.length, `feed() consumed ${consumed}`);
      assert.ok(decoder.bufferedBytes <= limit, `${decoder.bufferedBytes} bytes buffered`);
      offset += consumed;
      const headerIn = offset - start >= MSG_HEADER_LENGTH;
      const end = headerIn ? start + MSG_HEADER_LENGTH + u32(stream, start + 2) : Infinity;
      assert.ok(offset <= end, `consumed past the message end (${offset} > ${end})`);
      const done = events.findIndex((e) => e.kind !== "skipStarted");
      announced += events.filter((e) => e.kind === "skipStarted").length;
      if (offset === end) {
        assert.equal(done, events.length - 1, "the completion must be the last event");
        checkCompletion(stream.subarray(start, end), limit, events.at(-1)!, announced, messages);
        start = end;
        announced = 0;
      } else {
        assert.equal(done, -1, "completion before the message end");
        assert.equal(consumed, chunk.length, "stopped short without completing a message");
      }
      chunk = chunk.subarray(consumed);
    }
  }
  assert.equal(decoder.idle, offset === start, "idle() disagrees with the stream position");
  return messages;
}

/** The completion event is the one the header calls for; skips 4/5 were announced once. */
function checkCompletion(
  message: Uint8Array,
  limit: number,
  last: FrameEvent,
  announced: number,
  out: Uint8Array[],
): void {
  const type = u16(message, 0);
  let reason: number | undefined;
  if (!isValidMsgType(type)) reason = message.length === MSG_HEADER_LENGTH ? 0 : 4;
  else if (message.length > limit) reason = 5;
  if (reason !== undefined) {
    assert.deepEqual(last, { kind: "skipped", reason });
    assert.equal(announced, reason === 0 ? 0 : 1, "skip announcements");
    return;
  }
  assert.equal(announced, 0, "a kept message was announced as skipped");
  assert.equal(last.kind, "message");
  assert.deepEqual(last.kind === "message" ? last.bytes : null, message);
  out.push(message);
}

/**
 * decodeMsg() never throws and keeps its contract; a decoded client message re-encodes with
 * the real client's builder to a canonical form that decodes and encodes to itself.
 */
function checkDecode(message: Uint8Array): void {
  const result = decodeMsg(message);
  assert.equal(result.ok ? result.msg.type : result.partial.type, u16(message, 0));
  if (!result.ok) return;
  let canonical: Uint8Array;
  try {
    canonical = encodeClientMsg(result.msg);
  } catch (error) {
    if (error instanceof EncodeError) return;
    throw error;
  }
  // A builder given no fields writes an empty body, which is a decode error as in C.
  if (canonical.length === MSG_HEADER_LENGTH) return;
  const again = decodeMsg(canonical);
  assert.ok(again.ok, "a re-encoded message does not decode");
  assert.deepEqual(encodeClientMsg(again.msg), canonical, "re-encoding is not stable");
}

const decoderTarget: FuzzTarget = {
  name: "decoder",
  maxLength: 40_000,
  seeds: qnetSeeds,
  run(input) {
    const rng = new Rng(hash32(input));
    const limit = rng.pick([32768, 32768, 1024, 64, 12, 6]);
    for (const message of feedChecked(input, limit, chunkCuts(rng, input.length))) {
      checkDecode(message);
    }
  },
};

/**
 * The whole receive path of one to three clients: frames cut by FrameDecoder, decoded, given
 * to an Arbiter (DPD on, manual clock); every reply must encode within the send limit and
 * decode again. Covers arbitrary, also nonsensical, message orders.
 */
const arbiterWireTarget: FuzzTarget = {
  name: "arbiter_wire",
  maxLength: 40_000,
  seeds: qnetSeeds,
  run(input) {
    const rng = new Rng(hash32(input));
    const clock = new ManualClock(0);
    const settings = { ...defaultArbiterSettings(), tlsSupported: 0 as const };
    const arbiter = new Arbiter({ settings, clock, log: nullLog });
    const clients = Array.from({ length: 1 + rng.below(3) }, () => {
      const accepted = arbiter.accept("127.0.0.1:1");
      assert.ok(accepted !== undefined);
      return { id: accepted.clientId, decoder: new FrameDecoder(32768) };
    });
    const open = new Set(clients.map((c) => c.id));
    const check = (actions: ReturnType<Arbiter["closed"]>) => {
      for (const a of actions) {
        assert.ok(open.has(a.clientId), `action ${a.kind} for a closed client`);
        if (a.kind === "disconnect") open.delete(a.clientId);
        if (a.kind !== "send") continue;
        const bytes = encodeServerMsg(a.msg);
        assert.ok(bytes.length <= settings.maxClientSendSize, "reply larger than the limit");
        assert.ok(decodeMsg(bytes).ok || bytes.length === MSG_HEADER_LENGTH, "bad reply");
      }
    };
    let rest = input;
    while (rest.length > 0 && open.size > 0) {
      const client = rng.pick(clients.filter((c) => open.has(c.id)));
      const take = Math.min(rest.length, rng.range(1, 600));
      let chunk = rest.subarray(0, take);
      rest = rest.subarray(take);
      while (chunk.length > 0 && open.has(client.id)) {
        const { consumed, events } = client.decoder.feed(chunk);
        chunk = chunk.subarray(consumed);
        for (const e of events) {
          if (e.kind === "skipStarted") {
            arbiter.skipStarted(client.id, e.reason, e.msgType, e.length);
          } else if (e.kind === "skipped") check(arbiter.skipped(client.id, e.reason));
          else check(arbiter.received(client.id, e.bytes, decodeMsg(e.bytes)));
        }
      }
      if (rng.chance(0.05)) {
        clock.advance(rng.pick([1, 1000, 180_000]));
        check(arbiter.expireTimers());
      }
      if (rng.chance(0.02)) check(arbiter.closed(client.id));
    }
    for (const c of clients) check(arbiter.closed(c.id));
    assert.equal(arbiter.clientCount, 0);
  },
};

const IPC_LIMIT = 4096;

/**
 * The IPC request line: tokenize() fails only with TokenTooLongError, never returns a token
 * beyond the buffer, ignores everything after the first line end, and the parser always
 * gives a command or an error text.
 */
const ipcLineTarget: FuzzTarget = {
  name: "ipc_line",
  maxLength: 6000,
  seeds: ipcSeeds,
  run(input) {
    let tokens: Uint8Array[];
    try {
      tokens = tokenize(input, IPC_LIMIT);
    } catch (error) {
      if (error instanceof TokenTooLongError) return;
      throw error;
    }
    assert.ok(tokens.length <= input.length + 1);
    for (const t of tokens) assert.ok(t.length <= IPC_LIMIT - 2, `token of ${t.length} bytes`);
    const end = input.findIndex((b) => b === 0x0a || b === 0x0d);
    if (end >= 0) {
      const tail = new Rng(hash32(input)).bytes(8);
      const changed = new Uint8Array(end + 1 + tail.length);
      changed.set(input.subarray(0, end + 1));
      changed.set(tail, end + 1);
      assert.deepEqual(tokenize(changed, IPC_LIMIT), tokens, "bytes after the line end count");
    }
    const parsed = parseQnetdCommand(tokens);
    if (!parsed.ok) assert.ok(parsed.message.length > 0);
  },
};

/** `corosync-cmapctl -p` files: parseLoadFile() never throws, its lines are well formed. */
const cmapLoadTarget: FuzzTarget = {
  name: "cmap_load",
  maxLength: 8000,
  seeds: cmapLoadSeeds,
  run(input) {
    const parsed = parseLoadFile(input);
    if (!parsed.ok) {
      assert.ok(parsed.message.length > 0);
      return;
    }
    let previous = 0;
    for (const line of parsed.lines) {
      assert.ok(line.line > previous, "line numbers not ascending");
      previous = line.line;
      const name = line.kind === "deletePrefix" ? line.prefix : line.key;
      assert.ok(name.length > 0 && !name.includes(" "), `bad key ${JSON.stringify(name)}`);
      if (line.kind === "set") assert.ok(!line.type.includes(" ") && !line.value.includes(" "));
    }
  },
};

/** The TOML name of each daemon option (the keys of a `[daemon]` table). */
const DAEMON_TOML_NAMES: Readonly<Record<keyof DaemonOptions, string>> = {
  listenAddress: "listen_address",
  port: "port",
  tls: "tls",
  clientCertRequired: "client_cert_required",
  maxClients: "max_clients",
  debug: "debug",
};

/**
 * A parsed configuration written back as TOML: daemon options in `[daemon]`, settings at top
 * level under their `-S` names. Integers beyond 2^53 are left out: they are kept as lossy
 * numbers on purpose (core/settings.ts), so they cannot round-trip.
 */
function configAsToml(config: QnetdConfig): string {
  const exact = (v: unknown) => typeof v !== "number" || Number.isSafeInteger(v) || v % 1 !== 0;
  const daemon = Object.fromEntries(
    Object.entries(config.daemon).filter(([, v]) => exact(v)).map((
      [k, v],
    ) => [DAEMON_TOML_NAMES[k as keyof DaemonOptions], v]),
  );
  const names = new Map([...SETTINGS_TABLE.values()].map((spec) => [spec.key, spec.name]));
  const settings = Object.fromEntries(
    Object.entries(config.settings).filter(([, v]) => exact(v)).map(([k, v]) => [
      names.get(k as keyof QnetdSettings)!,
      v,
    ]),
  );
  return stringifyToml({ ...settings, daemon });
}

/** Without the values configAsToml() cannot carry. */
function exactPart(config: QnetdConfig): Pick<QnetdConfig, "daemon" | "settings"> {
  const keep = (o: object) =>
    Object.fromEntries(
      Object.entries(o).filter(([, v]) =>
        typeof v !== "number" || Number.isSafeInteger(v) || v % 1 !== 0
      ),
    );
  return { daemon: keep(config.daemon), settings: keep(config.settings) };
}

/**
 * TOML config files: parseConfigToml() fails only with ConfigFileError, and what it accepts
 * round-trips: the parsed values written back as TOML parse to the same values.
 */
const configTomlTarget: FuzzTarget = {
  name: "config_toml",
  maxLength: 4000,
  seeds: () => Promise.resolve(tomlSeeds()),
  run(input) {
    let config: QnetdConfig;
    try {
      config = parseConfigToml(new TextDecoder().decode(input));
    } catch (error) {
      if (error instanceof ConfigFileError) return;
      throw error;
    }
    const again = parseConfigToml(configAsToml(config));
    assert.deepEqual(exactPart(again), exactPart(config), "the parsed values do not round-trip");
  },
};

/**
 * DER certificate requests: parseCertificateRequest() fails only with its own error, and a
 * request it accepts is one OpenSSL (an independent parser) also parses and verifies, with
 * the same subject.
 */
const csrTarget: FuzzTarget = {
  name: "csr",
  maxLength: 4000,
  seeds: csrSeeds,
  async run(input) {
    let request: Awaited<ReturnType<typeof parseCertificateRequest>>;
    try {
      request = await parseCertificateRequest(input.slice(), "fuzz.crq");
    } catch (error) {
      if (error instanceof CertificateRequestError) return;
      throw error;
    }
    // Bytes after the request's outer SEQUENCE are ignored, as OpenSSL's d2i does.
    const openssl = await opensslVerify(input.subarray(0, derLength(input)));
    assert.equal(openssl.code, 0, `accepted a request OpenSSL refuses: ${openssl.stderr}`);
    assert.match(openssl.stderr, /verify OK/);
    const cn = request.subjectName.getField("CN")[0];
    if (cn !== undefined) assert.match(openssl.stdout, new RegExp(`CN ?= ?${escapeRegExp(cn)}`));
  },
};

/** Length of the first DER element of `der` (header included); the whole input if unclear. */
function derLength(der: Uint8Array): number {
  const first = der[1] ?? 0;
  if (first < 0x80) return Math.min(der.length, 2 + first);
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] ?? 0);
  return Math.min(der.length, 2 + n + length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `openssl req -verify` of a DER request: exit code, subject line, "verify OK" on stderr. */
async function opensslVerify(der: Uint8Array) {
  const child = new Deno.Command("openssl", {
    args: ["req", "-inform", "DER", "-noout", "-verify", "-subject", "-nameopt", "utf8"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(der);
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Protocol state fuzzing of the pure Arbiter; the input is the choice string. */
const arbiterStateTarget: FuzzTarget = {
  name: "arbiter_state",
  maxLength: 3000,
  seeds: () => {
    const rng = new Rng(0x5eed);
    return Promise.resolve(Array.from({ length: 16 }, () => rng.bytes(rng.range(50, 3000))));
  },
  run(input) {
    runScenario(new Choices(input), { maxSteps: 400 });
  },
};

/** Every target, by name. */
export const TARGETS: ReadonlyMap<string, FuzzTarget> = new Map(
  [
    decoderTarget,
    arbiterWireTarget,
    ipcLineTarget,
    cmapLoadTarget,
    configTomlTarget,
    csrTarget,
    arbiterStateTarget,
    nssdbTarget,
  ].map((t) => [t.name, t]),
);
