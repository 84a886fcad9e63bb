/**
 * The daemon's listening TCP socket, made as corosync-qnetd makes it
 * (nss_sock_create_listen_socket() in qdevices/nss-sock.c, 3.0.3), failing where it fails and
 * with the NSS error it logs (`NSS error (<code>): <text>`, exit 1):
 *
 * - no `-l`: the wildcard of the family (`::`, dual stack, unless `-4`: `0.0.0.0`); a failed
 *   bind gives NSPR's error for the errno (port in use: -5982 "Local Network address is in
 *   use"; a port below 1024 without the right: -5966 "Access Denied");
 * - `-l` with `-6`: NSPR's PR_GetAddrInfoByName() takes only PR_AF_INET and PR_AF_UNSPEC, so
 *   the C daemon refuses every `-6 -l ADDRESS`, even an IPv6 one: -5987 "Invalid function
 *   argument";
 * - `-l` with `-4` and an IPv6 address: no IPv4 address to resolve to: -5973 "A directory
 *   lookup on a network address has failed", as for a name that does not resolve;
 * - `-l` whose address cannot be bound (in use, not local, no right): -5986 "Network address
 *   not available (in use?)", the error C sets when no address of the name could be bound.
 *
 * Known difference: with `-4`, a host name is resolved by Deno, which may bind its IPv6
 * address where C takes only IPv4 ones (the net permission names the host as written, so the
 * daemon cannot resolve it itself and bind the result).
 *
 * @module
 */
import { errorText } from "../core/error_text.ts";

/** Address family forced by `-4` / `-6` (C PR_AF_UNSPEC / PR_AF_INET / PR_AF_INET6). */
export type ListenFamily = "any" | "ipv4" | "ipv6";

/** Where to listen: `host` as given with `-l`, or undefined for the family's wildcard. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly family: ListenFamily;
  readonly port: number;
}

/** An NSPR error as the C daemon logs it. */
export interface NsprError {
  readonly code: number;
  readonly text: string;
}

/** The NSPR errors (prerr.h) a listening socket can end with, in NSPR's words. */
export const NSPR_ERRORS = {
  /** PR_INVALID_ARGUMENT_ERROR */
  invalidArgument: { code: -5987, text: "Invalid function argument" },
  /** PR_DIRECTORY_LOOKUP_ERROR */
  directoryLookup: { code: -5973, text: "A directory lookup on a network address has failed" },
  /** PR_ADDRESS_NOT_AVAILABLE_ERROR (EADDRNOTAVAIL) */
  addressNotAvailable: { code: -5986, text: "Network address not available (in use?)" },
  /** PR_ADDRESS_IN_USE_ERROR (EADDRINUSE) */
  addressInUse: { code: -5982, text: "Local Network address is in use" },
  /** PR_NO_ACCESS_RIGHTS_ERROR (EACCES) */
  noAccessRights: { code: -5966, text: "Access Denied" },
} as const satisfies Record<string, NsprError>;

/** Thrown when the listening socket cannot be created; the message is the C daemon's line. */
export class ListenError extends Error {
  override name = "ListenError";
  /** The NSPR error code the C daemon logs, or undefined for an error it has no row for. */
  readonly code: number | undefined;

  constructor(error: NsprError | string, options?: ErrorOptions) {
    super(typeof error === "string" ? error : `NSS error (${error.code}): ${error.text}`, options);
    this.code = typeof error === "string" ? undefined : error.code;
  }
}

/** What NSPR makes of a failed bind() (_MD_unix_map_bind_error), by Deno's error class. */
function bindError(error: unknown): NsprError | undefined {
  if (error instanceof Deno.errors.AddrInUse) return NSPR_ERRORS.addressInUse;
  if (error instanceof Deno.errors.AddrNotAvailable) return NSPR_ERRORS.addressNotAvailable;
  if (error instanceof Deno.errors.PermissionDenied) return NSPR_ERRORS.noAccessRights;
  return undefined;
}

/** A failure Deno names with no error class of its own: the name did not resolve. */
function isLookupFailure(error: unknown): boolean {
  return error instanceof Error && error.constructor === Error;
}

/**
 * Listens on `address` as corosync-qnetd would, or throws {@link ListenError} with the line
 * it would log. Deno's own permission errors (NotCapable) pass through.
 */
export function listenTcp(address: ListenAddress): Deno.TcpListener {
  const { host, family, port } = address;
  const where = (hostname: string) => `${hostname}:${port}`;
  if (host === undefined) {
    const wildcard = family === "ipv4" ? "0.0.0.0" : "::";
    try {
      return Deno.listen({ hostname: wildcard, port });
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new ListenError(bindError(error) ?? unexpected(where(wildcard), error), {
        cause: error,
      });
    }
  }
  if (family === "ipv6") {
    throw new ListenError(NSPR_ERRORS.invalidArgument, {
      cause: new RangeError(`Cannot resolve ${host} for IPv6 alone: NSPR takes IPv4 or any`),
    });
  }
  if (family === "ipv4" && host.includes(":")) {
    throw new ListenError(NSPR_ERRORS.directoryLookup, {
      cause: new RangeError(`Cannot resolve the IPv6 address ${host} to an IPv4 one`),
    });
  }
  try {
    return Deno.listen({ hostname: host, port });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    const nspr = bindError(error) !== undefined
      ? NSPR_ERRORS.addressNotAvailable
      : isLookupFailure(error)
      ? NSPR_ERRORS.directoryLookup
      : unexpected(where(host), error);
    throw new ListenError(nspr, { cause: error });
  }
}

/** Our own words for a failure NSPR has no row for here. */
function unexpected(where: string, error: unknown): string {
  return `Can't create listening socket on ${where}: ${errorText(error)}`;
}
