/**
 * The one error of the NSS database reader and writer: what is wrong (`kind`), in which file,
 * and a one-line message that says what to do.
 *
 * @module
 */

/**
 * What is wrong with a database: a legacy DBM database, a password set, no such nickname, a
 * damaged file, a file or object missing, or (`busy`) a database another program holds locked
 * while it writes it (NSS's certutil): nothing is wrong with it, try again.
 */
export type NssDbErrorKind = "legacy" | "password" | "nickname" | "corrupt" | "missing" | "busy";

/** A database that cannot be read or written; `message` is one line naming the file. */
export class NssDbError extends Error {
  constructor(
    readonly kind: NssDbErrorKind,
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "NssDbError";
  }
}
