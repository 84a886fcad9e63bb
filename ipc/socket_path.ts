/**
 * The limit on a unix socket's path, shared by the IPC server and client.
 *
 * @module
 */

/** sockaddr_un.sun_path is 108 bytes including the NUL. */
export const SUN_PATH_MAX = 108;

/** True when `path` is not empty and fits sun_path with its NUL (else C fails ENAMETOOLONG). */
export function fitsSunPath(path: string): boolean {
  const length = new TextEncoder().encode(path).length;
  return length > 0 && length < SUN_PATH_MAX;
}
