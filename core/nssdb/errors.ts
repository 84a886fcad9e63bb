/**
 * The one error of the NSS database reader and writer: what is wrong (`kind`), in which file,
 * and a one-line message that says what to do.
 *
 * @module
 */

/** What is wrong with a database. */
export type NssDbErrorKind = "legacy" | "password" | "nickname" | "corrupt" | "missing";

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
