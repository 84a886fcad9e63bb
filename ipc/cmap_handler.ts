/**
 * The daemon's IPC `cmap` command: decodes a request of ipc/cmap_protocol.ts, serves it with
 * a fresh {@link CmapBackend} from the host, and answers `OK\n<body>` or `Error\n<code name>\n`.
 * A `track` request streams: `OK\n`, then one notification line per change, until the client
 * goes away or the daemon closes the socket. Port of the request side of corosync
 * `exec/cmap.c` over our own framing.
 *
 * @module
 */
import type { CmapBackend, CmapMapName } from "../core/cmap/backend.ts";
import { CmapError, CsError } from "../core/cmap/errors.ts";
import { type Log, nullLog, Priority } from "../core/log.ts";
import {
  CMAP_COMMAND,
  CmapProtocolError,
  type CmapRequest,
  decodeRequest,
  encodeErrorMessage,
  encodeNotification,
  executeRequest,
} from "./cmap_protocol.ts";
import { bytesToByteString } from "../core/byte_string.ts";
import type { IpcHandler, IpcReply, IpcRequest } from "./server.ts";

/** What the handler needs from the daemon. */
export interface CmapIpcHost {
  /** A backend for one request on `map`. */
  backend(map: CmapMapName): CmapBackend;
  /** A tracking stream started (+1) or ended (-1): the daemon refreshes while any runs. */
  tracking?(delta: 1 | -1): void;
  readonly log?: Log;
}

const encoder = new TextEncoder();

function errorReply(error: CmapError): IpcReply {
  return { ok: false, message: encodeErrorMessage(error) };
}

/** Streams notifications of one track request until the client or the daemon ends it. */
async function serveTrack(
  backend: CmapBackend,
  request: Extract<CmapRequest, { op: "track" }>,
  ipc: IpcRequest,
  host: CmapIpcHost,
): Promise<IpcReply | undefined> {
  let tracker;
  try {
    tracker = await backend.track(request.names, request.flags);
  } catch (error) {
    if (error instanceof CmapError) return errorReply(error);
    throw error;
  }
  host.tracking?.(1);
  const stop = () => void tracker.close();
  ipc.signal.addEventListener("abort", stop, { once: true });
  try {
    if (ipc.signal.aborted) return undefined;
    await ipc.write(encoder.encode("OK\n"));
    for await (const notification of tracker.events) {
      await ipc.write(encoder.encode(encodeNotification(notification)));
    }
  } catch (error) {
    // The client went away (write failed or timed out): end quietly.
    (host.log ?? nullLog)(Priority.Debug, `cmap tracking client gone (${String(error)})`);
  } finally {
    ipc.signal.removeEventListener("abort", stop);
    await tracker.close();
    host.tracking?.(-1);
  }
  return undefined;
}

/** The `cmap` handler for the daemon's {@link IpcServer} handler table. */
export function cmapIpcHandler(host: CmapIpcHost): IpcHandler {
  return async (ipc) => {
    let request: CmapRequest;
    try {
      request = decodeRequest(ipc.tokens.map(bytesToByteString));
    } catch (error) {
      if (!(error instanceof CmapProtocolError)) throw error;
      (host.log ?? nullLog)(Priority.Debug, `Bad cmap request: ${error.message}`);
      return errorReply(new CmapError(CsError.InvalidParam, error.message));
    }
    const backend = host.backend(request.map);
    try {
      if (request.op === "track") return await serveTrack(backend, request, ipc, host);
      const body = await executeRequest(backend, request);
      return { ok: true, body: encoder.encode(body) };
    } catch (error) {
      if (error instanceof CmapError) return errorReply(error);
      throw error;
    } finally {
      await backend.close();
    }
  };
}

/** Command word of the handler, for the daemon's handler table. */
export const CMAP_IPC_COMMAND = CMAP_COMMAND;
