/**
 * The daemon's configuration file: TOML with the `-S` names and the daemon options (see
 * core/cmap/config_toml.ts), read at start from {@link DEFAULT_CONFIG_FILE} (or the path in
 * the `QNETD_CONFIG_FILE` environment variable) when it exists; one that exists but cannot be
 * read stops the daemon at start (exit 1, the path and why). What the command line sets
 * wins over the file. On SIGHUP the daemon builds its options again the same way
 * ({@link loadOptions}) and applies what may change live.
 *
 * @module
 */
import { ConfigFileError, parseConfigToml, type QnetdConfig } from "../core/cmap/config_toml.ts";
import { asciiLower } from "../core/c_parse.ts";
import { TlsSupported } from "../core/protocol/constants.ts";
import { tokenizeSettings } from "../core/settings.ts";
import { Getopt } from "./getopt.ts";
import { parseQnetdArgs, QNETD_OPTSTRING, type QnetdOptions } from "./qnetd_args.ts";
import { errorText } from "../core/error_text.ts";

/** Where the daemon looks for its configuration file. */
export const DEFAULT_CONFIG_FILE = "/etc/corosync/qnetd/qnetd.toml";

/** The environment variable that names another configuration file. */
export const CONFIG_FILE_ENV = "QNETD_CONFIG_FILE";

/** The configuration file could not be used; the message says which file and why. */
export class ConfigLoadError extends Error {
  override name = "ConfigLoadError";
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Can't load configuration file ${path}: ${message}`, options);
  }
}

/** The configuration file's path: `$QNETD_CONFIG_FILE` if set (and readable), else the default. */
export function configFilePath(): string {
  try {
    return Deno.env.get(CONFIG_FILE_ENV) || DEFAULT_CONFIG_FILE;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return DEFAULT_CONFIG_FILE;
    throw error;
  }
}

/**
 * Reads and parses the file at `path`; undefined when there is none. A file that exists but
 * cannot be read (a directory, no read access for the daemon's user, or outside the daemon's
 * permission set) is an error, never a silent run without it. Throws {@link ConfigLoadError}.
 */
export function readConfigFile(path: string): QnetdConfig | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigLoadError(
      path,
      error instanceof Deno.errors.NotCapable
        ? "the daemon's permission set does not allow reading it"
        : errorText(error),
      { cause: error },
    );
  }
  try {
    return parseConfigToml(text);
  } catch (error) {
    if (error instanceof ConfigFileError) {
      throw new ConfigLoadError(path, error.message, { cause: error });
    }
    throw error;
  }
}

/** The config-file names the command line sets (they win over the file). */
export function commandLineNames(args: readonly string[]): Set<string> {
  const names = new Set<string>();
  const byOption = new Map([
    ["d", "debug"],
    ["c", "client_cert_required"],
    ["l", "listen_address"],
    ["m", "max_clients"],
    ["p", "port"],
    ["s", "tls"],
  ]);
  const getopt = new Getopt(args, QNETD_OPTSTRING, { programName: "", posixlyCorrect: false });
  for (let step = getopt.next(); step !== undefined; step = getopt.next()) {
    const option = byOption.get(step.opt);
    if (option !== undefined) names.add(option);
    if (step.opt === "S" && "arg" in step) {
      for (const [name] of tokenizeSettings(step.arg ?? "")) names.add(asciiLower(name));
    }
  }
  return names;
}

const TLS_FROM_CONFIG = new Map([
  ["off", TlsSupported.Unsupported],
  ["on", TlsSupported.Supported],
  ["req", TlsSupported.Required],
]);

/** Puts the file's values that the command line did not set into `options`. */
export function mergeConfig(options: QnetdOptions, config: QnetdConfig, given: Set<string>): void {
  const d = config.daemon;
  const take = (name: string) => !given.has(name);
  if (d.listenAddress !== undefined && take("listen_address")) options.listenAddr = d.listenAddress;
  if (d.port !== undefined && take("port")) options.port = d.port;
  if (d.tls !== undefined && take("tls")) options.tls = TLS_FROM_CONFIG.get(d.tls)!;
  if (d.clientCertRequired !== undefined && take("client_cert_required")) {
    options.clientCertRequired = d.clientCertRequired;
  }
  if (d.maxClients !== undefined && take("max_clients")) options.maxClients = d.maxClients;
  if (d.debug !== undefined && take("debug")) options.debugLevel = d.debug as 0 | 1 | 2;
  const settings = options.settings as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(config.settings)) {
    const name = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (take(name)) settings[field] = value;
  }
}

/** The options to run with: the command line over the configuration file over the defaults. */
export interface LoadedOptions {
  readonly options: QnetdOptions;
  /** Messages about deprecated keys in the file. */
  readonly warnings: readonly string[];
  /** The file that was read, or undefined when there was none. */
  readonly file: string | undefined;
}

/**
 * Builds the options from `args` (which must parse: the daemon checked them at start) and
 * the configuration file at `path`. Throws {@link ConfigLoadError}.
 */
export function loadOptions(args: string[], path: string, argv0?: string): LoadedOptions {
  const parsed = parseQnetdArgs(args, argv0 === undefined ? {} : { argv0 });
  if (!parsed.ok) throw new Error("The command line no longer parses");
  return applyConfigFile(parsed.options, args, path);
}

/** Merges the configuration file at `path` into already parsed `options`. */
export function applyConfigFile(
  options: QnetdOptions,
  args: readonly string[],
  path: string,
): LoadedOptions {
  const config = readConfigFile(path);
  if (config === undefined) return { options, warnings: [], file: undefined };
  mergeConfig(options, config, commandLineNames(args));
  return { options, warnings: config.warnings, file: path };
}
