import assert from "node:assert/strict";
import {
  ClientConnection,
  type ConnectionHost,
  ReadBuffers,
  SEND_STALL_MS,
} from "../../net/client_connection.ts";
import { encodeEchoRequest, encodeNodeList } from "../../core/protocol/encode_client.ts";
import { NodeListType } from "../../core/protocol/constants.ts";
import type { FrameEvent } from "../../core/protocol/frame_decoder.ts";
import { type Log, Priority } from "../../core/log.ts";
import { concatBytes } from "../../core/bytes.ts";

/**
 * A scripted socket: `read()` hands out the queued chunks (split at the caller's buffer
 * size, as a kernel would) and otherwise stays pending; `write()` records or fails.
 */
class FakeConn {
  readonly readSizes: number[] = [];
  readonly written: Uint8Array[] = [];
  writeError: Error | undefined;
  closed = false;
  #chunks: (Uint8Array | null)[] = [];
  #pending:
    | { buf: Uint8Array; resolve: (n: number | null) => void; reject: (e: Error) => void }
    | undefined;
  #waiting: PromiseWithResolvers<void> | undefined;

  /** Queues bytes (or EOF as null) for the next reads. */
  push(chunk: Uint8Array | null): void {
    this.#chunks.push(chunk);
    this.#serve();
  }

  /** Resolves once everything queued was read and a read is pending again. */
  drained(): Promise<void> {
    if (this.#chunks.length === 0 && this.#pending !== undefined) return Promise.resolve();
    this.#waiting = Promise.withResolvers();
    return this.#waiting.promise;
  }

  read(buf: Uint8Array): Promise<number | null> {
    this.readSizes.push(buf.length);
    const { promise, resolve, reject } = Promise.withResolvers<number | null>();
    if (this.closed) reject(new Deno.errors.BadResource("closed"));
    else {
      this.#pending = { buf, resolve, reject };
      this.#serve();
    }
    return promise;
  }

  /** While set, writes wait for it (a client that does not read its replies). */
  writeGate: Promise<void> | undefined;

  async write(bytes: Uint8Array): Promise<number> {
    if (this.writeGate !== undefined) await this.writeGate;
    if (this.writeError !== undefined) throw this.writeError;
    this.written.push(bytes.slice());
    return bytes.length;
  }

  close(): void {
    this.closed = true;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(new Deno.errors.BadResource("closed"));
  }

  #serve(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    if (this.#chunks.length === 0) {
      this.#waiting?.resolve();
      return;
    }
    const head = this.#chunks[0]!;
    this.#pending = undefined;
    if (head === null) {
      this.#chunks.shift();
      pending.resolve(null);
      return;
    }
    const n = Math.min(head.length, pending.buf.length);
    pending.buf.set(head.subarray(0, n));
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    pending.resolve(n);
  }
}

interface Recorded {
  readonly host: ConnectionHost;
  readonly frames: FrameEvent[];
  readonly logs: [Priority, string][];
  readonly gone: ClientConnection[];
  readonly ended: Promise<void>;
}

function recordingHost(): Recorded {
  const frames: FrameEvent[] = [];
  const logs: [Priority, string][] = [];
  const gone: ClientConnection[] = [];
  const ended = Promise.withResolvers<void>();
  const log: Log = (priority, message) => logs.push([priority, message]);
  const host: ConnectionHost = {
    log,
    tls: undefined,
    readBuffers: new ReadBuffers(),
    maxClientSendBuffers: () => 32,
    maxClientSendSize: () => 32768,
    spoke: () => true,
    frame: (_conn, event) => frames.push(event),
    tlsEstablished: () => {},
    gone: (conn) => gone.push(conn),
    ended: () => ended.resolve(),
  };
  return { host, frames, logs, gone, ended: ended.promise };
}

function connection(fake: FakeConn, host: ConnectionHost): ClientConnection {
  return new ClientConnection(1, "::1:5000", fake as unknown as Deno.TcpConn, host, 32768);
}

const bigNodeList = encodeNodeList({
  seqNumber: 7,
  nodeListType: NodeListType.Membership,
  ringId: { nodeId: 1, seq: 2n },
  nodes: Array.from({ length: 40 }, (_, i) => ({ nodeId: i + 1, dataCenterId: 0, nodeState: 0 })),
});

Deno.test("ReadBuffers.takeSlot() hands out 128-byte views of one slab and reuses released ones", () => {
  const buffers = new ReadBuffers();
  const a = buffers.takeSlot();
  const b = buffers.takeSlot();
  assert.equal(a.length, 128);
  assert.equal(a.buffer, b.buffer, "slots share one ArrayBuffer");
  assert.notEqual(a.byteOffset, b.byteOffset);
  b.fill(1);
  assert.ok(a.every((x) => x === 0), "slots do not overlap");
  buffers.releaseSlot(a);
  assert.equal(buffers.takeSlot(), a);
});

Deno.test("ReadBuffers.takeBurst() reuses a released burst buffer", () => {
  const buffers = new ReadBuffers();
  const burst = buffers.takeBurst();
  assert.ok(burst.length > 128);
  buffers.releaseBurst(burst);
  assert.equal(buffers.takeBurst(), burst);
});

Deno.test("ClientConnection.start() delivers a message longer than the idle slot whole", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const conn = connection(fake, rec.host);
  conn.start();
  const echo = encodeEchoRequest({ seqNumber: 3 });
  assert.ok(bigNodeList.length > 300);
  fake.push(concatBytes([echo, bigNodeList, echo]));
  await fake.drained();
  assert.deepEqual(
    rec.frames.map((f) => f.kind === "message" ? [...f.bytes] : f.kind),
    [[...echo], [...bigNodeList], [...echo]],
  );
  assert.equal(conn.stats.requests, 3);
  // Idle reads go into the 128-byte slot; a full read is followed by a larger buffer, and
  // once a read no longer fills it the connection is back on its slot.
  assert.equal(fake.readSizes[0], 128);
  assert.ok(fake.readSizes[1]! > 128);
  assert.equal(fake.readSizes.at(-1), 128);
  conn.close();
  await rec.ended;
});

Deno.test("ClientConnection.start() treats EOF as the client closing: debug log, gone, ended", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const conn = connection(fake, rec.host);
  conn.start();
  fake.push(null);
  await rec.ended;
  assert.deepEqual(rec.logs, [[Priority.Debug, "Client closed connection"]]);
  assert.deepEqual(rec.gone, [conn]);
  assert.ok(conn.closed && fake.closed);
});

Deno.test("ClientConnection.send() to a client that went away is a disconnect, not an error", async () => {
  for (
    const error of [
      new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
      new Deno.errors.ConnectionReset("reset"),
    ]
  ) {
    const fake = new FakeConn();
    const rec = recordingHost();
    const conn = connection(fake, rec.host);
    conn.start();
    fake.writeError = error;
    assert.equal(conn.send(encodeEchoRequest({ seqNumber: 1 })), true);
    await rec.ended;
    assert.deepEqual(rec.logs, [[Priority.Debug, "Client closed connection"]], error.name);
    assert.deepEqual(rec.gone, [conn]);
  }
});

Deno.test("ClientConnection.send() logs other write errors as the C daemon does", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const conn = connection(fake, rec.host);
  conn.start();
  fake.writeError = new Deno.errors.PermissionDenied("denied");
  conn.send(encodeEchoRequest({ seqNumber: 1 }));
  await rec.ended;
  assert.equal(rec.logs.length, 1);
  assert.equal(rec.logs[0]![0], Priority.Err);
  assert.match(rec.logs[0]![1], /^Unhandled error when sending message to client/);
});

Deno.test("ClientConnection.start() logs a reset read with NSPR's code and text", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const conn = connection(fake, rec.host);
  // A read that fails: the fake rejects the pending read with the error.
  const read = fake.read.bind(fake);
  fake.read = () => {
    fake.read = read;
    return Promise.reject(
      new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
    );
  };
  conn.start();
  await rec.ended;
  assert.deepEqual(rec.logs, [[
    Priority.Err,
    "Unhandled error when reading from client. Disconnecting client (-5961): TCP connection reset by peer",
  ]]);
  assert.deepEqual(rec.gone, [conn]);
});

Deno.test("ClientConnection.close() ends the pending read and returns the slot for reuse", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const conn = connection(fake, rec.host);
  conn.start();
  await fake.drained();
  conn.close();
  await rec.ended;
  assert.deepEqual(rec.gone, [], "closing on our side is not the peer going away");
  // The connection's slot (the first of the slab) is the next one handed out again.
  assert.equal(rec.host.readBuffers.takeSlot().byteOffset, 0);
  assert.equal(rec.host.readBuffers.takeSlot().byteOffset, 128);
});

/** A host that answers every message with an echo reply, as the arbiter does. */
function echoingHost(rec: Recorded): { host: ConnectionHost; refused: number[] } {
  const refused: number[] = [];
  const host: ConnectionHost = {
    ...rec.host,
    frame: (conn, event) => {
      rec.frames.push(event);
      if (event.kind !== "message") return;
      if (!conn.send(encodeEchoRequest({ seqNumber: rec.frames.length }))) {
        refused.push(rec.frames.length);
        conn.close();
      }
    },
  };
  return { host, refused };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("ClientConnection pauses decoding while its send queue is full and resumes when it drains", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const { host, refused } = echoingHost(rec);
  const conn = connection(fake, host);
  const gate = Promise.withResolvers<void>();
  fake.writeGate = gate.promise;
  conn.start();
  const echo = encodeEchoRequest({ seqNumber: 1 });
  fake.push(concatBytes(Array.from({ length: 100 }, () => echo)));
  await tick();
  // The first 32 replies fill the queue (max_client_send_buffers); the rest waits, unread.
  assert.equal(rec.frames.length, 32);
  assert.ok(conn.paused);
  assert.equal(conn.stats.overload, 0);
  fake.writeGate = undefined;
  gate.resolve();
  await fake.drained();
  await tick();
  assert.equal(rec.frames.length, 100);
  assert.deepEqual(refused, []);
  assert.equal(conn.stats.overload, 0);
  assert.equal(fake.written.length, 100);
  assert.ok(!conn.paused);
  conn.close();
  await rec.ended;
});

Deno.test("ClientConnection drops a client whose full send queue does not drain (it does not read)", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const { host, refused } = echoingHost(rec);
  const conn = connection(fake, host);
  fake.writeGate = new Promise(() => {}); // Never: the client never reads.
  conn.start();
  const echo = encodeEchoRequest({ seqNumber: 1 });
  fake.push(concatBytes(Array.from({ length: 100 }, () => echo)));
  await tick();
  assert.equal(rec.frames.length, 32);
  assert.ok(conn.paused);
  // After the stall the next reply does not fit: refused, and the host drops the client.
  await new Promise((r) => setTimeout(r, SEND_STALL_MS + 200));
  assert.deepEqual(refused, [33]);
  assert.equal(conn.stats.overload, 1);
  assert.ok(conn.closed);
  await rec.ended;
});

Deno.test("ClientConnection.close() while paused reports ended() (no read is pending)", async () => {
  const fake = new FakeConn();
  const rec = recordingHost();
  const { host } = echoingHost(rec);
  const conn = connection(fake, host);
  fake.writeGate = new Promise(() => {});
  conn.start();
  const echo = encodeEchoRequest({ seqNumber: 1 });
  fake.push(concatBytes(Array.from({ length: 40 }, () => echo)));
  await tick();
  assert.ok(conn.paused);
  conn.close();
  await rec.ended;
});
