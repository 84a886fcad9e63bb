/**
 * sd_notify(3) without libsystemd: the daemon tells systemd it is ready, as the C daemon does
 * (`sd_notify(0, "READY=1")` in corosync-qnetd.c, once it serves). With that, Debian's own
 * unit for corosync-qnetd (`Type=notify`) runs qnet unchanged; without it systemd would wait
 * for the message and kill the daemon at the start timeout.
 *
 * The message is one datagram to the unix socket named by `NOTIFY_SOCKET` (a path, or an
 * abstract name written with a leading `@`); the variable is empty or unset outside
 * `Type=notify`, and then nothing is sent.
 *
 * @module
 */
import { errorText } from "../core/error_text.ts";
import { UnixDatagramSender } from "./unix_datagram.ts";

/** The variable systemd sets for a `Type=notify` service (systemd.exec(5)). */
export const NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET";

/** The state a daemon sends once it serves (sd_notify(3)). */
export const READY_STATE = "READY=1";

/**
 * Sends `state` to `socketPath`; undefined when sent, else why not (the caller logs it:
 * systemd then gives up on the service at its start timeout).
 */
export function sdNotify(socketPath: string, state: string): string | undefined {
  try {
    using sender = UnixDatagramSender.open(socketPath);
    return sender.send(new TextEncoder().encode(state));
  } catch (error) {
    return errorText(error);
  }
}
