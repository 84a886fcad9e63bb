/**
 * The daemon tells whoever started it that it serves: lock held, keys loaded, both sockets
 * bound. A daemon started without -f (cli/daemon_mode.ts) uses it to let its starter return
 * with exit code 0 only then; in the foreground nobody listens and it does nothing.
 *
 * @module
 */

let listener: (() => void) | undefined;

/** Calls `onReady` once, when the daemon reports {@link daemonReady}. */
export function onDaemonReady(onReady: () => void): void {
  listener = onReady;
}

/** The daemon serves. */
export function daemonReady(): void {
  const notify = listener;
  listener = undefined;
  notify?.();
}

/**
 * What a daemon started without -f writes on stderr, last, once it is ready: its starter
 * (cli/daemon_mode.ts) relays everything before it and then returns with exit code 0.
 */
export const READY_MARKER = "\u0000qnet-daemon-ready\u0000\n";
