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
import { ExitStatus } from "./exit_status.ts";
import {
  type ArgsResult,
  type ArgsSpec,
  type ArgsStop,
  optstringOf,
  parseOptions,
} from "./getopt.ts";
import { basename } from "../core/path.ts";

/** The C daemon's name (QNETD_PROGRAM_NAME): used in usage and in `err()`-style messages. */
export const QNETD_PROGRAM_NAME = "corosync-qnetd";

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

/**
 * Outcome of parsing (the result shape of every tool, cli/getopt.ts): options to run with, with
 * warnings already due on stderr (deprecated `-S dpd_interval`, possibly ""), or what to print
 * and the exit code to return.
 */
export type QnetdArgsResult = ArgsResult<QnetdOptions>;

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

/** The daemon's command line as data, for `argv0` as invoked. */
function qnetdArgs(context: QnetdArgsContext): ArgsSpec<QnetdOptions> {
  const argv0 = context.argv0 ?? QNETD_PROGRAM_NAME;
  const errPrefix = `${basename(argv0)}: `;
  const fail = (message: string): ArgsStop => ({
    exitCode: ExitStatus.Failure,
    stderr: `${errPrefix}${message}\n`,
  });
  const usage: ArgsStop = { exitCode: ExitStatus.Failure, stdout: qnetdUsage() };
  return {
    programName: argv0,
    posixlyCorrect: context.posixlyCorrect === true,
    defaults: () => ({
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
    }),
    // In the C optstring's order, "46dfhvc:l:m:p:S:s:".
    options: [
      { flag: "4", set: { addressFamily: "ipv4" } },
      { flag: "6", set: { addressFamily: "ipv6" } },
      {
        flag: "d",
        apply(options) {
          options.debugLevel = options.debugLevel === 0 ? 1 : 2;
        },
      },
      { flag: "f", set: { foreground: true } },
      { flag: "h", stop: usage },
      // The C daemon exits 1 even for -v.
      { flag: "v", stop: { exitCode: ExitStatus.Failure, stdout: qnetdVersionText() } },
      {
        flag: "c",
        arg: "client_cert_required",
        apply(options, arg) {
          const required = parseBoolStr(arg);
          if (required === undefined) {
            return fail("client_cert_required should be on/yes/1, off/no/0");
          }
          options.clientCertRequired = required;
          return undefined;
        },
      },
      { flag: "l", arg: "listen_addr", store: "listenAddr" },
      {
        flag: "m",
        arg: "max_clients",
        apply(options, arg) {
          const max = strtonum(arg, 0n, LLONG_MAX);
          if (max === undefined) return fail(`max clients value ${arg} is invalid`);
          options.maxClients = Number(max);
          return undefined;
        },
      },
      {
        flag: "p",
        arg: "listen_port",
        apply(options, arg) {
          const port = strtonum(arg, 1n, BigInt(UINT16_MAX));
          if (port === undefined) return fail(`host port must be in range 1-${UINT16_MAX}`);
          options.port = Number(port);
          return undefined;
        },
      },
      {
        flag: "S",
        arg: "option=value[,option2=value2,...]",
        apply(options, arg, warn) {
          const applied = applySettings(options.settings, arg);
          for (const warning of applied.warnings) warn(`${errPrefix}${warning}\n`);
          return applied.error === undefined ? undefined : fail(applied.error);
        },
      },
      {
        flag: "s",
        arg: "tls",
        apply(options, arg) {
          const tls = TLS_MODES.get(asciiLower(arg));
          if (tls === undefined) return fail("tls must be one of on, off, req");
          options.tls = tls;
          return undefined;
        },
      },
    ],
    onError: (error) => ({ ...usage, stderr: error.message ?? "" }),
  };
}

/** The C optstring of corosync-qnetd, "46dfhvc:l:m:p:S:s:", derived from the declarations. */
export const QNETD_OPTSTRING: string = optstringOf(qnetdArgs({}));

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
  const parsed = parseOptions(args, qnetdArgs(context));
  if (parsed.ok) parsed.options.operands = [...parsed.operands];
  return parsed;
}
