/**
 * The `corosync-qnetd` command line: port of cli_parse(), usage() and display_version() in
 * qdevices/corosync-qnetd.c (v3.0.3). Parsing is pure: it returns the options, or the exact
 * stdout/stderr text and exit code the C daemon would produce, and the caller prints them.
 *
 * @module
 */
import {
  DECISION_ALGORITHM_NAMES,
  DecisionAlgorithm,
  MSG_TYPE_MAX,
  MSG_TYPE_NAMES,
  type MsgType,
  TlsSupported,
} from "../core/protocol/constants.ts";
import { asciiLower, parseBoolStr, strtonum } from "../core/c_parse.ts";
import { applySettings, defaultQnetdSettings, type QnetdSettings } from "../core/settings.ts";
import { QNET_VERSION } from "../core/version.ts";
import { Getopt } from "./getopt.ts";

/** The C daemon's name (QNETD_PROGRAM_NAME): used in usage and in `err()`-style messages. */
export const QNETD_PROGRAM_NAME = "corosync-qnetd";

/** The C optstring of corosync-qnetd, verbatim. */
export const QNETD_OPTSTRING = "46dfhvc:l:m:p:S:s:";

/** QNETD_DEFAULT_HOST_PORT. */
export const QNETD_DEFAULT_PORT = 5403;

/** Address family forced by `-4` / `-6` (C PR_AF_UNSPEC / PR_AF_INET / PR_AF_INET6). */
export type AddressFamily = "any" | "ipv4" | "ipv6";

/** Everything the qnetd command line sets. */
export interface QnetdOptions {
  /** `-4` / `-6`; the last one wins. Default "any" (IPv6 wildcard, dual-stack). */
  addressFamily: AddressFamily;
  /** 0 = no debug, 1 = `-d` (debug messages), 2 = `-dd` (also bump syslog priority to info). */
  debugLevel: 0 | 1 | 2;
  /** `-f`: stay in the foreground and log to stderr too. */
  foreground: boolean;
  /** `-l`: listen address verbatim; `undefined` = wildcard. */
  listenAddr: string | undefined;
  /** `-p`: 1..65535, default 5403. */
  port: number;
  /** `-s on|off|req` (also `required`), default Supported. */
  tls: TlsSupported;
  /** `-c`: default true. */
  clientCertRequired: boolean;
  /** `-m`: 0 = unlimited (default). */
  maxClients: number;
  /** `-S`: advanced settings. */
  settings: QnetdSettings;
  /** Non-option arguments; the C daemon ignores them and so do we. */
  operands: string[];
}

/** Outcome of parsing: options to run with, or what to print and the exit code to return. */
export type QnetdArgsResult =
  | {
    readonly ok: true;
    readonly options: QnetdOptions;
    /** Warnings already due on stderr (deprecated `-S dpd_interval`), possibly "". */
    readonly stderr: string;
  }
  | {
    readonly ok: false;
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
  };

/** How the program was invoked. */
export interface QnetdArgsContext {
  /**
   * argv[0] as invoked (e.g. `/usr/bin/corosync-qnetd`): glibc getopt prefixes its messages with
   * it verbatim, while the daemon's own errors (C `errx()`) use its basename.
   * Default `corosync-qnetd`.
   */
  readonly argv0?: string;
  /** POSIXLY_CORRECT is set in the environment: stop options at the first non-option. */
  readonly posixlyCorrect?: boolean;
}

/** Port of usage(): two lines on stdout, the second indented by 14 spaces. */
export function qnetdUsage(): string {
  return `usage: ${QNETD_PROGRAM_NAME} [-46dfhv] [-l listen_addr] [-p listen_port] [-s tls]\n` +
    `${" ".repeat(14)}[-c client_cert_required] [-m max_clients] ` +
    `[-S option=value[,option2=value2,...]]\n`;
}

/** The algorithms the daemon offers (qnetd_static_supported_decision_algorithms), in C order. */
const SUPPORTED_ALGORITHMS: readonly DecisionAlgorithm[] = [
  DecisionAlgorithm.Test,
  DecisionAlgorithm.Ffsplit,
  DecisionAlgorithm.TwoNodeLms,
  DecisionAlgorithm.Lms,
];

/**
 * Port of display_version(): our own version line, then the same algorithm and message type
 * lists as the C daemon, built from the protocol name tables.
 */
export function qnetdVersionText(): string {
  const algorithms = SUPPORTED_ALGORITHMS.map((a) => `${DECISION_ALGORITHM_NAMES[a]} (${a})`);
  const types: string[] = [];
  for (let type = 0; type <= MSG_TYPE_MAX; type++) {
    types.push(`${MSG_TYPE_NAMES[type as MsgType]} (${type})`);
  }
  return `qnet Qdevice Network Daemon (corosync-qnetd 3.0.3 compatible), ` +
    `version '${QNET_VERSION}'\n\n` +
    `Supported algorithms: ${algorithms.join(", ")}\n` +
    `Supported message types: ${types.join(", ")}\n`;
}

/** `-s` values, case-insensitive. `required` is ours: the man page documents it, C rejects it. */
const TLS_MODES: ReadonlyMap<string, TlsSupported> = new Map([
  ["on", TlsSupported.Supported],
  ["off", TlsSupported.Unsupported],
  ["req", TlsSupported.Required],
  ["required", TlsSupported.Required],
]);

const UINT16_MAX = 65535;
const LLONG_MAX = 2n ** 63n - 1n;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Port of cli_parse() in corosync-qnetd.c: parses the daemon's arguments (without argv[0]).
 * Options act in order, later ones override earlier ones, and the first error ends parsing,
 * exactly as the C daemon exits there. `-h`, `-v` and every error give `ok: false` with exit
 * code 1 (the C daemon exits 1 even for `-v`).
 */
export function parseQnetdArgs(
  args: readonly string[],
  context: QnetdArgsContext = {},
): QnetdArgsResult {
  const argv0 = context.argv0 ?? QNETD_PROGRAM_NAME;
  const errPrefix = `${basename(argv0)}: `;
  let stderr = "";
  const fail = (message: string): QnetdArgsResult => ({
    ok: false,
    exitCode: 1,
    stdout: "",
    stderr: `${stderr}${errPrefix}${message}\n`,
  });

  const options: QnetdOptions = {
    addressFamily: "any",
    debugLevel: 0,
    foreground: false,
    listenAddr: undefined,
    port: QNETD_DEFAULT_PORT,
    tls: TlsSupported.Supported,
    clientCertRequired: true,
    maxClients: 0,
    settings: defaultQnetdSettings(),
    operands: [],
  };
  const getopt = new Getopt(args, QNETD_OPTSTRING, {
    programName: argv0,
    posixlyCorrect: context.posixlyCorrect === true,
  });

  for (let step = getopt.next(); step !== undefined; step = getopt.next()) {
    const arg = "arg" in step ? step.arg ?? "" : "";
    switch (step.opt) {
      case "4":
        options.addressFamily = "ipv4";
        break;
      case "6":
        options.addressFamily = "ipv6";
        break;
      case "f":
        options.foreground = true;
        break;
      case "d":
        options.debugLevel = options.debugLevel === 0 ? 1 : 2;
        break;
      case "c": {
        const required = parseBoolStr(arg);
        if (required === undefined) {
          return fail("client_cert_required should be on/yes/1, off/no/0");
        }
        options.clientCertRequired = required;
        break;
      }
      case "l":
        options.listenAddr = arg;
        break;
      case "m": {
        const max = strtonum(arg, 0n, LLONG_MAX);
        if (max === undefined) return fail(`max clients value ${arg} is invalid`);
        options.maxClients = Number(max);
        break;
      }
      case "p": {
        const port = strtonum(arg, 1n, BigInt(UINT16_MAX));
        if (port === undefined) return fail(`host port must be in range 1-${UINT16_MAX}`);
        options.port = Number(port);
        break;
      }
      case "S": {
        const applied = applySettings(options.settings, arg);
        for (const warning of applied.warnings) stderr += `${errPrefix}${warning}\n`;
        if (applied.error !== undefined) return fail(applied.error);
        break;
      }
      case "s": {
        const tls = TLS_MODES.get(asciiLower(arg));
        if (tls === undefined) return fail("tls must be one of on, off, req");
        options.tls = tls;
        break;
      }
      case "v":
        return { ok: false, exitCode: 1, stdout: qnetdVersionText(), stderr };
      case "h":
      case "?":
        return {
          ok: false,
          exitCode: 1,
          stdout: qnetdUsage(),
          stderr: stderr + ("message" in step ? step.message ?? "" : ""),
        };
    }
  }
  options.operands = [...getopt.operands];
  return { ok: true, options, stderr };
}
