/**
 * File paths as text (POSIX), without touching the file system.
 *
 * @module
 */

/** POSIX dirname(3): the directory part, "." without a slash, "/" for the root. */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "" && path !== "") return "/";
  const slash = trimmed.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : trimmed.slice(0, slash);
}

/** POSIX basename(3) for a path without a trailing slash: the part after the last slash. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
