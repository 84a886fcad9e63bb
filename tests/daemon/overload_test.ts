/**
 * Overload against the running daemon, ours and the real corosync-qnetd with the same test
 * body: more TCP clients than `-m`, a client that never reads, a client that writes one byte
 * at a time, clients that never speak, oversized and endless messages, a connect/close storm
 * on the TCP port and on the local socket. After every abuse a normal cluster still gets its
 * votes, and the daemon's resident memory stays under a generous bound.
 *
 * Every loop has a fixed count and every wait a deadline; nothing here measures time.
 */
import assert from "node:assert/strict";
import { encodeEchoRequest, encodePreinit } from "../../core/protocol/encode_client.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { MsgType, ReplyError } from "../../core/protocol/constants.ts";
import {
  ARBITER_KINDS,
  type ArbiterKind,
  joinFfsplit,
  needAll,
  needKind,
  needProgram,
  procFile,
  settle,
  startArbiter,
  testNeeding,
  WireConn,
} from "../support/mod.ts";

/** Kinds to run: ours always, the C daemon where it is installed. */
const KINDS = ARBITER_KINDS;
/** Ports per kind: [the -m daemon, the main daemon, the shutdown daemon]. */
const PORTS: Record<ArbiterKind, [number, number, number]> = {
  qnet: [16400, 16401, 16404],
  c: [16402, 16403, 16405],
};
/** Resident memory may grow by at most this much across one abuse (a bound, not a measure). */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
/**
 * Silent clients in the "never speak" steps: for ours more than qnetd_server.ts's admission
 * window (512), which silent clients do not enter (they wait for their first bytes). The C daemon has no such window, and 600 connects to it take ~40 s (its
 * listen backlog is 10), so it gets fewer.
 */
const IDLE_CLIENTS: Record<ArbiterKind, number> = { qnet: 600, c: 150 };
/** Default max_client_receive_size of both daemons. */
const MAX_RECEIVE_SIZE = 32768;

/** The daemon's resident set size in bytes, from /proc/PID/status. */
function rss(pid: number): number {
  const status = procFile(pid, "status");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kib !== undefined, "VmRSS missing from /proc/PID/status");
  return Number(kib) * 1024;
}

/** A fresh two-node cluster named `cluster`: both nodes must end with ACK. Closes them after. */
async function assertClusterVotes(port: number, cluster: string): Promise<void> {
  using a = await joinFfsplit(port, cluster, 1, [1, 2]);
  using b = await joinFfsplit(port, cluster, 2, [1, 2]);
  await settle([a, b]);
  assert.deepEqual([a.lastAckNack, b.lastAckNack], ["ACK", "ACK"], `cluster ${cluster}`);
}

/** Reads one message and decodes it; fails on EOF or timeout. */
async function readMsg(conn: WireConn) {
  const r = await conn.readMessage();
  assert.equal(r.kind, "data", `expected a message, got ${r.kind}`);
  const d = decodeMsg(r.kind === "data" ? r.bytes : new Uint8Array());
  assert.ok(d.ok, "undecodable reply");
  return d.msg;
}

/** A message header: type and a body length that need not match what follows. */
function header(type: number, length: number): Uint8Array {
  const h = new Uint8Array(6);
  const v = new DataView(h.buffer);
  v.setUint16(0, type);
  v.setUint32(2, length);
  return h;
}

for (const kind of KINDS) {
  testNeeding(needKind(kind), {
    name: `overload (${kind}): more TCP clients than -m are closed at accept`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using daemon = await startArbiter(kind, {
        port: PORTS[kind][0],
        args: ["-s", "off", "-m", "2"],
        settings: { dpd_enabled: "off" },
      });
      using a = await joinFfsplit(daemon.port, "capped", 1, [1, 2]);
      using b = await joinFfsplit(daemon.port, "capped", 2, [1, 2]);
      await settle([a, b]);
      // C (qnetd_client_net_accept): accepts, logs "Maximum clients reached. Not accepting
      // connection" and closes the socket at once, before reading anything.
      for (let i = 0; i < 5; i++) {
        using surplus = await WireConn.connect(daemon.port);
        await surplus.write(encodePreinit({ seqNumber: 1, clusterName: "capped" })).catch(
          () => {},
        );
        assert.ok(await surplus.expectEof(), `surplus client ${i} was not closed`);
      }
      assert.match(daemon.stderr(), /Maximum clients reached\. Not accepting connection/);
      // The two admitted nodes keep their votes and their connections.
      await settle([a, b]);
      assert.deepEqual([a.lastAckNack, b.lastAckNack], ["ACK", "ACK"]);
    },
  });

  // The real tool reads either daemon's state afterwards.
  testNeeding(
    needAll(needKind(kind), needProgram("/usr/bin/corosync-qnetd-tool", "corosync-qnetd")),
    {
      name: `overload (${kind}): abusive clients do not take votes from a normal cluster`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async (t) => {
        await using daemon = await startArbiter(kind, {
          port: PORTS[kind][1],
          args: ["-s", "off"],
          settings: { dpd_enabled: "off" },
        });
        const pid = daemon.process.pid;
        await assertClusterVotes(daemon.port, "warmup");
        const baseline = rss(pid);
        const assertMemoryBounded = (what: string) => {
          const growth = rss(pid) - baseline;
          assert.ok(
            growth < RSS_GROWTH_BOUND,
            `${what}: resident memory grew by ${growth} bytes (bound ${RSS_GROWTH_BOUND})`,
          );
        };

        await t.step("a client that never reads is dropped at the send queue limit", async () => {
          using keeper = await joinFfsplit(daemon.port, "reader", 1, [1, 2]);
          using stuck = await joinFfsplit(daemon.port, "reader", 2, [1, 2]);
          await settle([keeper, stuck]);
          // Up to 400 batches of 1000 echo requests (14 bytes each, 5.6 MB in all), never
          // reading a reply. Once the kernel buffers are full the replies pile up in the
          // daemon's send queue (max_client_send_buffers = 32); past it the daemon logs "Can't
          // alloc echo reply msg from list" and drops the client, and our writes fail. The C
          // daemon handles one message per poll wake-up, so our writes may all land in kernel
          // buffers first: then keep nudging (bounded) until the drop shows.
          const batch = new Uint8Array(1000 * 14);
          for (let i = 0; i < 1000; i++) batch.set(encodeEchoRequest({ seqNumber: i }), i * 14);
          const droppedLogged = () => /Can't alloc echo reply msg from list/.test(daemon.stderr());
          let writeFailed = false;
          for (let i = 0; i < 400 && !writeFailed && !droppedLogged(); i++) {
            writeFailed = await stuck.conn.write(batch).then(() => false, () => true);
          }
          for (let i = 0; i < 200 && !droppedLogged(); i++) {
            await new Promise((r) => setTimeout(r, 50));
            if (!writeFailed) {
              writeFailed = await stuck.conn.write(batch.subarray(0, 14)).then(
                () => false,
                () => true,
              );
            }
          }
          assert.match(daemon.stderr(), /Can't alloc echo reply msg from list/);
          // The other node of that cluster is still served and re-decided alone.
          await settle([keeper]);
          assert.equal(keeper.lastAckNack, "ACK");
          await assertClusterVotes(daemon.port, "after-reader");
          assertMemoryBounded("slow reader");
        });

        await t.step("a client writing one byte at a time is served", async () => {
          using slow = await WireConn.connect(daemon.port);
          const preinit = encodePreinit({ seqNumber: 7, clusterName: "slowwriter" });
          // One byte every ~50 ms for the whole message; a normal cluster joins meanwhile.
          const trickle = (async () => {
            for (const byte of preinit) {
              await slow.write(Uint8Array.of(byte));
              await new Promise((r) => setTimeout(r, 50));
            }
          })();
          await assertClusterVotes(daemon.port, "beside-slow");
          await trickle;
          const reply = await readMsg(slow);
          assert.equal(reply.type, MsgType.PreinitReply);
          assert.equal(reply.seqNumber, 7);
        });

        await t.step("clients that connect and never speak do not block others", async () => {
          const idle: WireConn[] = [];
          try {
            // More than our admission window (512 clients in setup): silent connections take no
            // place in it, so the cluster's clients are served at once.
            for (let i = 0; i < IDLE_CLIENTS[kind]; i++) {
              idle.push(await WireConn.connect(daemon.port));
            }
            await assertClusterVotes(daemon.port, "beside-idle");
            assertMemoryBounded(`${IDLE_CLIENTS[kind]} idle clients`);
          } finally {
            for (const c of idle) c[Symbol.dispose]();
          }
        });

        await t.step("an oversized message is skipped with error 5, the client stays", async () => {
          using big = await WireConn.connect(daemon.port);
          const length = MAX_RECEIVE_SIZE * 4;
          await big.write(header(MsgType.Preinit, length));
          await big.write(new Uint8Array(length));
          // C (qnetd_client_net_read): msgio_read returns -6, the body is read and thrown
          // away, then a SERVER_ERROR without a sequence number carries MESSAGE_TOO_LONG.
          const error = await readMsg(big);
          assert.equal(error.type, MsgType.ServerError);
          assert.equal(error.replyErrorCode, ReplyError.MessageTooLong);
          // The connection still works afterwards.
          await big.write(encodePreinit({ seqNumber: 9, clusterName: "oversized" }));
          const reply = await readMsg(big);
          assert.equal(reply.type, MsgType.PreinitReply);
          assert.equal(reply.seqNumber, 9);
        });

        await t.step("an endless message is read and dropped without holding it", async () => {
          using endless = await WireConn.connect(daemon.port);
          await endless.write(header(MsgType.Preinit, 0xffff_fff0));
          // 64 MiB of body in 64 KiB writes: the daemon skips it, it never buffers it.
          const chunk = new Uint8Array(65536).fill(0x5a);
          for (let i = 0; i < 1024; i++) await endless.write(chunk);
          assertMemoryBounded("64 MiB of an endless message");
          await assertClusterVotes(daemon.port, "beside-endless");
          // No reply while the message has not ended.
          const r = await endless.readExactly(1, 200);
          assert.equal(r.kind, "timeout");
        });

        await t.step("a storm of 2000 TCP connects and closes", async () => {
          // The C daemon accepts slower than a loopback client connects: its listen backlog
          // (10) overflows and the kernel retries the dropped SYNs after a second. Ours keeps up.
          // So the storm stops at 2000 connects or after 8 s, whichever comes first.
          const until = Date.now() + 8000;
          for (let i = 0; i < 2000 && Date.now() < until; i++) {
            const conn = await Deno.connect({ hostname: "127.0.0.1", port: daemon.port });
            if (i % 3 === 0) {
              await conn.write(encodePreinit({ seqNumber: 1, clusterName: "storm" }));
            }
            conn.close();
          }
          await assertClusterVotes(daemon.port, "after-storm");
          assertMemoryBounded("2000 connect/close");
        });

        await t.step("a storm of 1000 local socket connects and closes", async () => {
          const garbage = new TextEncoder().encode("no-such-command\n");
          // A full accept backlog refuses a local connect at once (EAGAIN): that is the
          // kernel turning the storm away, not a failure, so it only counts as an attempt.
          for (let i = 0; i < 1000; i++) {
            let conn: Deno.UnixConn;
            try {
              conn = await Deno.connect({ transport: "unix", path: daemon.socketPath });
            } catch (error) {
              if (error instanceof Deno.errors.WouldBlock) continue;
              throw error;
            }
            if (i % 2 === 0) await conn.write(garbage).catch(() => 0);
            conn.close();
          }
          await assertClusterVotes(daemon.port, "after-ipc-storm");
          // The local socket still serves the real tool (closes are asynchronous: bounded retry).
          let out = "";
          for (let i = 0; i < 50 && !out.includes("Connected clusters:"); i++) {
            const r = await new Deno.Command("/usr/bin/corosync-qnetd-tool", {
              args: ["-s", "-p", daemon.socketPath],
              stdout: "piped",
              stderr: "null",
            }).output();
            out = new TextDecoder().decode(r.stdout);
            if (!out.includes("Connected clusters:")) await new Promise((r) => setTimeout(r, 100));
          }
          assert.match(out, /Connected clients:/);
          assertMemoryBounded("1000 local connect/close");
        });
      },
    },
  );
}

for (const kind of KINDS) {
  testNeeding(needKind(kind), {
    name: `overload (${kind}): SIGTERM with ${
      IDLE_CLIENTS[kind]
    } silent clients exits 0 and closes them`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const daemon = await startArbiter(kind, {
        port: PORTS[kind][2],
        args: ["-s", "off"],
        settings: { dpd_enabled: "off" },
      });
      const idle: WireConn[] = [];
      try {
        for (let i = 0; i < IDLE_CLIENTS[kind]; i++) {
          idle.push(await WireConn.connect(daemon.port));
        }
        // Ours waits for their first bytes with a read pending on each: shutdown ends them all.
        const status = await daemon.stop("SIGTERM");
        assert.equal(status.code, 0, daemon.stderr());
        assert.equal(status.signal, null, "killed after the stop deadline");
        for (const [i, conn] of idle.entries()) {
          assert.equal((await conn.readMessage()).kind, "eof", `client ${i} not closed`);
        }
      } finally {
        for (const c of idle) c[Symbol.dispose]();
        await daemon[Symbol.asyncDispose]();
      }
    },
  });
}
