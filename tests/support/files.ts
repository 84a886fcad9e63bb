/**
 * Files as the tests see them.
 *
 * @module
 */

/** Whether something exists at `path` (any type; a symlink counts by its target). */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
