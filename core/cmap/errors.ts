/**
 * corosync's `cs_error_t` codes as the cmap store and its clients return them, and the
 * text `cs_strerror()` gives for them (corosync `include/corosync/corotypes.h` and
 * `common_lib/error_conversion.c`, v3.1.7). These numbers also travel on our own IPC wire.
 *
 * @module
 */

/** `cs_error_t` values (corotypes.h). 29 is unused in corosync as well. */
export const CsError = {
  Ok: 1,
  Library: 2,
  Version: 3,
  Init: 4,
  Timeout: 5,
  TryAgain: 6,
  InvalidParam: 7,
  NoMemory: 8,
  BadHandle: 9,
  Busy: 10,
  Access: 11,
  NotExist: 12,
  NameTooLong: 13,
  Exist: 14,
  NoSpace: 15,
  Interrupt: 16,
  NameNotFound: 17,
  NoResources: 18,
  NotSupported: 19,
  BadOperation: 20,
  FailedOperation: 21,
  MessageError: 22,
  QueueFull: 23,
  QueueNotAvailable: 24,
  BadFlags: 25,
  TooBig: 26,
  NoSections: 27,
  ContextNotFound: 28,
  TooManyGroups: 30,
  Security: 100,
} as const;
export type CsError = typeof CsError[keyof typeof CsError];

/** Enum names by number, as `cs_strerror()` spells them. */
const CS_ERROR_NAMES: ReadonlyMap<number, string> = new Map([
  [CsError.Library, "CS_ERR_LIBRARY"],
  [CsError.Version, "CS_ERR_VERSION"],
  [CsError.Init, "CS_ERR_INIT"],
  [CsError.Timeout, "CS_ERR_TIMEOUT"],
  [CsError.TryAgain, "CS_ERR_TRY_AGAIN"],
  [CsError.InvalidParam, "CS_ERR_INVALID_PARAM"],
  [CsError.NoMemory, "CS_ERR_NO_MEMORY"],
  [CsError.BadHandle, "CS_ERR_BAD_HANDLE"],
  [CsError.Busy, "CS_ERR_BUSY"],
  [CsError.Access, "CS_ERR_ACCESS"],
  [CsError.NotExist, "CS_ERR_NOT_EXIST"],
  [CsError.NameTooLong, "CS_ERR_NAME_TOO_LONG"],
  [CsError.Exist, "CS_ERR_EXIST"],
  [CsError.NoSpace, "CS_ERR_NO_SPACE"],
  [CsError.Interrupt, "CS_ERR_INTERRUPT"],
  [CsError.NameNotFound, "CS_ERR_NAME_NOT_FOUND"],
  [CsError.NoResources, "CS_ERR_NO_RESOURCES"],
  [CsError.NotSupported, "CS_ERR_NOT_SUPPORTED"],
  [CsError.BadOperation, "CS_ERR_BAD_OPERATION"],
  [CsError.FailedOperation, "CS_ERR_FAILED_OPERATION"],
  [CsError.MessageError, "CS_ERR_MESSAGE_ERROR"],
  [CsError.QueueFull, "CS_ERR_QUEUE_FULL"],
  [CsError.QueueNotAvailable, "CS_ERR_QUEUE_NOT_AVAILABLE"],
  [CsError.BadFlags, "CS_ERR_BAD_FLAGS"],
  [CsError.TooBig, "CS_ERR_TOO_BIG"],
  [CsError.NoSections, "CS_ERR_NO_SECTIONS"],
  [CsError.ContextNotFound, "CS_ERR_CONTEXT_NOT_FOUND"],
  [CsError.TooManyGroups, "CS_ERR_TOO_MANY_GROUPS"],
  [CsError.Security, "CS_ERR_SECURITY"],
]);

/**
 * Port of `cs_strerror()`: the enum name (`"CS_ERR_ACCESS"`), `"success"` for CS_OK and
 * `"unknown error"` for anything else. cmapctl prints these after `Error `.
 */
export function csStrerror(code: number): string {
  if (code === CsError.Ok) return "success";
  return CS_ERROR_NAMES.get(code) ?? "unknown error";
}

/** The number for a `cs_strerror()` enum name, or undefined. */
export function csErrorFromName(name: string): CsError | undefined {
  for (const [code, text] of CS_ERROR_NAMES) if (text === name) return code as CsError;
  return undefined;
}

/** A failed cmap operation. `code` is the `cs_error_t` the C service would have returned. */
export class CmapError extends Error {
  override name = "CmapError";
  readonly code: CsError;
  constructor(code: CsError, message?: string, options?: ErrorOptions) {
    super(message ?? csStrerror(code), options);
    this.code = code;
  }
}

/** A load (`-p` file) stopped at step `index`; nothing of it was applied. */
export class CmapLoadError extends CmapError {
  override name = "CmapLoadError";
  readonly index: number;
  constructor(index: number, code: CsError, options?: ErrorOptions) {
    super(code, `Load step ${index + 1} failed: ${csStrerror(code)}`, options);
    this.index = index;
  }
}
