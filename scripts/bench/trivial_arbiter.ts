/**
 * A trivial arbiter: just enough of the protocol for the load generator, with no cluster
 * state at all. Each client's vote is decided from its own lists alone (majority of its
 * config, or exactly half with the lowest node id), and the VOTE_INFO goes out at once.
 *
 * Two uses: the generator's own ceiling (the cheapest server possible, so whatever limits
 * a run against it is the generator), and a fake arbiter for the tests, which can be told
 * to answer wrongly (`fault`) so that the generator's checks can be seen to work.
 *
 * Run as a script: `deno run -A scripts/bench/trivial_arbiter.ts --port N [--fault F]`.
 *
 * @module
 */
import { FrameDecoder } from "../../core/protocol/frame_decoder.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodeServerMsg } from "../../core/protocol/encode_server.ts";
import { encodeEchoRequest } from "../../core/protocol/encode_client.ts";
import {
  MsgType,
  NodeListType,
  ReplyError,
  TlsSupported,
  Vote,
} from "../../core/protocol/constants.ts";
import type { DecodedMsg, RingId } from "../../core/protocol/types.ts";

/**
 * Deliberate mistakes: a NACK instead of an ACK, an echo reply with the wrong seq, or a
 * SERVER_ERROR in reply to every echo request.
 */
export type Fault = "none" | "wrong-vote" | "wrong-seq" | "server-error";

/** A running trivial arbiter. */
export interface TrivialArbiter extends AsyncDisposable {
  readonly port: number;
  close(): Promise<void>;
}

interface ClientState {
  config: number[];
  ring: RingId;
  voteInfoSeq: number;
}

/** What the trivial arbiter answers to one message (in order). */
function answer(msg: DecodedMsg, raw: Uint8Array, s: ClientState, fault: Fault): Uint8Array[] {
  const seqNumber = msg.seqNumber ?? 0;
  switch (msg.type) {
    case MsgType.Preinit:
      return [encodeServerMsg({
        type: MsgType.PreinitReply,
        seqNumber,
        tlsSupported: TlsSupported.Unsupported,
        tlsClientCertRequired: false,
      })];
    case MsgType.Init:
      if (msg.ringId !== undefined) s.ring = msg.ringId;
      return [encodeServerMsg({
        type: MsgType.InitReply,
        replyErrorCode: 0,
        withSupportedMessages: true,
        withSupportedOptions: true,
        seqNumber,
        serverMaximumRequestSize: 32768,
        serverMaximumReplySize: 32768,
      })];
    case MsgType.SetOption:
      return [encodeServerMsg({
        type: MsgType.SetOptionReply,
        seqNumber,
        ...(msg.keepActivePartitionTieBreaker === undefined
          ? {}
          : { keepActivePartitionTieBreaker: msg.keepActivePartitionTieBreaker }),
      })];
    case MsgType.EchoRequest: {
      if (fault === "server-error") {
        return [encodeServerMsg({
          type: MsgType.ServerError,
          seqNumber,
          replyErrorCode: ReplyError.InternalError,
        })];
      }
      if (fault !== "wrong-seq") {
        return [encodeServerMsg({ type: MsgType.EchoReply, request: raw })];
      }
      const wrong = encodeEchoRequest({ seqNumber: seqNumber + 1 });
      return [encodeServerMsg({ type: MsgType.EchoReply, request: wrong })];
    }
    case MsgType.NodeList:
      return nodeList(msg, s, fault);
    default:
      return [];
  }
}

function nodeList(msg: DecodedMsg, s: ClientState, fault: Fault): Uint8Array[] {
  const nodeListType = msg.nodeListType ?? NodeListType.Quorum;
  const ids = (msg.nodes ?? []).map((n) => n.nodeId);
  const out: Uint8Array[] = [];
  let vote: Vote = Vote.NoChange;
  if (nodeListType === NodeListType.InitialConfig || nodeListType === NodeListType.ChangedConfig) {
    s.config = ids;
    vote = Vote.AskLater;
  } else if (nodeListType === NodeListType.Membership) {
    if (msg.ringId !== undefined) s.ring = msg.ringId;
    const n = s.config.length;
    const wins = ids.length * 2 > n ||
      (ids.length * 2 === n && n > 0 && ids.includes(Math.min(...s.config)));
    let final: Vote = wins ? Vote.Ack : Vote.Nack;
    if (fault === "wrong-vote") final = wins ? Vote.Nack : Vote.Ack;
    out.push(encodeServerMsg({
      type: MsgType.VoteInfo,
      seqNumber: ++s.voteInfoSeq,
      vote: final,
      ringId: s.ring,
    }));
  }
  out.push(encodeServerMsg({
    type: MsgType.NodeListReply,
    seqNumber: msg.seqNumber ?? 0,
    nodeListType,
    ringId: s.ring,
    vote,
  }));
  return out;
}

async function serve(conn: Deno.TcpConn, fault: Fault): Promise<void> {
  const decoder = new FrameDecoder(32768);
  const state: ClientState = { config: [], ring: { nodeId: 0, seq: 0n }, voteInfoSeq: 0 };
  const buffer = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      let offset = 0;
      const out: Uint8Array[] = [];
      while (offset < n) {
        const { consumed, events } = decoder.feed(buffer.subarray(offset, n));
        offset += consumed;
        for (const e of events) {
          if (e.kind !== "message") continue;
          const d = decodeMsg(e.bytes);
          if (d.ok) out.push(...answer(d.msg, e.bytes, state, fault));
        }
      }
      for (const bytes of out) {
        let rest = bytes;
        while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
      }
    }
  } catch {
    // Peer gone.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Starts a trivial arbiter on `hostname:port` (port 0: any free port). */
export function startTrivialArbiter(
  options: { readonly port: number; readonly hostname?: string; readonly fault?: Fault },
): TrivialArbiter {
  const listener = Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port });
  const conns = new Set<Deno.TcpConn>();
  const served = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const p = serve(conn, options.fault ?? "none").finally(() => {
          conns.delete(conn);
          served.delete(p);
        });
        served.add(p);
      }
    } catch {
      // Listener closed.
    }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    await accepting;
    await Promise.all(served);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(value("--port") ?? "0");
  const fault = (value("--fault") ?? "none") as Fault;
  const arbiter = startTrivialArbiter({ port, hostname: value("--host") ?? "127.0.0.1", fault });
  Deno.addSignalListener("SIGTERM", () => void arbiter.close().then(() => Deno.exit(0)));
  Deno.addSignalListener("SIGINT", () => void arbiter.close().then(() => Deno.exit(0)));
}
