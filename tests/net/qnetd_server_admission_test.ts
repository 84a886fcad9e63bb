/**
 * The admission rules of net/qnetd_server.ts, observed on a real server over loopback with a
 * few clients (the window narrowed where the order is what is tested): a connection enters
 * setup when its first bytes arrive; those that spoke while the window is full wait, oldest
 * first, newest first once the oldest has waited too long; connections that sent nothing never
 * take a place in the queue and are bounded, oldest closed first; the window is 64 with TLS.
 */
import assert from "node:assert/strict";
import { makePki, WireConn } from "../support/mod.ts";
import { Arbiter } from "../../core/arbiter/arbiter.ts";
import { defaultArbiterSettings } from "../../core/arbiter/settings.ts";
import { systemClock } from "../../core/clock.ts";
import { nullLog } from "../../core/log.ts";
import { decodeMsg } from "../../core/protocol/decode.ts";
import { encodePreinit } from "../../core/protocol/encode_client.ts";
import { MsgType } from "../../core/protocol/constants.ts";
import {
  ADMISSION_WINDOW,
  type AdmissionPolicy,
  type AdmissionState,
  QnetdServer,
} from "../../net/qnetd_server.ts";
import { TlsServerContext } from "../../net/tls_server.ts";
import { readPemFiles } from "../../cli/tls_files.ts";

/**
 * Each server listens on a port the kernel picks (port 0), read back from the server: a fixed
 * port can be held in TIME_WAIT by another test's client, whose ephemeral port it was.
 */
const ANY_PORT = 0;
/** Long enough that nobody leaves the window by timing out during a test. */
const NO_EXPIRY_MS = 60_000;
/** How long "not answered" is watched for. */
const QUIET_MS = 300;

function server(
  admission: Partial<AdmissionPolicy>,
  tls?: TlsServerContext,
  maxClients = 0,
): QnetdServer {
  const arbiter = new Arbiter({
    settings: { ...defaultArbiterSettings(), tlsSupported: tls === undefined ? 0 : 1, maxClients },
    clock: systemClock,
    log: nullLog,
  });
  const s = QnetdServer.listen({
    listen: { host: "127.0.0.1", family: "any", port: ANY_PORT },
    arbiter,
    log: nullLog,
    limits: {
      maxClientSendBuffers: 32,
      maxClientSendSize: 32768,
      maxClientReceiveSize: 32768,
      maxClients,
    },
    admission,
    ...(tls === undefined ? {} : { tls }),
  });
  void s.serve();
  return s;
}

/** Polls the server's admission counters until `pred` holds (bounded: 5 s). */
async function until(s: QnetdServer, pred: (a: AdmissionState) => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (pred(s.admission)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`admission state never reached: ${JSON.stringify(s.admission)}`);
}

const PREINIT = encodePreinit({ seqNumber: 1, clusterName: "admission" });

/** A connection that sent one byte of a PREINIT: it spoke, and holds a place in setup. */
async function holder(port: number): Promise<WireConn> {
  const c = await WireConn.connect(port);
  await c.write(PREINIT.subarray(0, 1));
  return c;
}

async function speak(port: number): Promise<WireConn> {
  const c = await WireConn.connect(port);
  await c.write(PREINIT);
  return c;
}

async function answered(c: WireConn, timeoutMs = 5000): Promise<boolean> {
  const r = await c.readMessage(timeoutMs);
  if (r.kind !== "data") return false;
  const d = decodeMsg(r.bytes);
  return d.ok && d.msg.type === MsgType.PreinitReply;
}

function closeAll(conns: WireConn[]): void {
  for (const c of conns) c[Symbol.dispose]();
}

Deno.test("admission: once the oldest has waited too long, the newest speaker is served first", async () => {
  await using s = server({ window: 2, timeoutMs: NO_EXPIRY_MS, lifoAfterMs: 200 });
  const holders = [await holder(s.addr.port), await holder(s.addr.port)];
  try {
    await until(s, (a) => a.inSetup === 2);
    using early = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 1);
    await new Promise((r) => setTimeout(r, 400)); // The queue is now behind.
    using late = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 2);
    holders.shift()![Symbol.dispose]();
    assert.ok(await answered(late), "the newest was not served when a place came free");
    assert.equal(await answered(early, QUIET_MS), false, "the oldest went first");
    holders.shift()![Symbol.dispose]();
    assert.ok(await answered(early), "the oldest was not served at the next place");
  } finally {
    closeAll(holders);
  }
});

Deno.test("admission: while not behind, speakers are served in the order they spoke", async () => {
  await using s = server({
    window: 2,
    timeoutMs: NO_EXPIRY_MS,
    lifoAfterMs: NO_EXPIRY_MS,
  });
  const holders = [await holder(s.addr.port), await holder(s.addr.port)];
  try {
    await until(s, (a) => a.inSetup === 2);
    using first = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 1);
    using second = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 2);
    holders.shift()![Symbol.dispose]();
    assert.ok(await answered(first));
    assert.equal(await answered(second, QUIET_MS), false);
    holders.shift()![Symbol.dispose]();
    assert.ok(await answered(second));
  } finally {
    closeAll(holders);
  }
});

Deno.test("admission: connections that sent nothing never push a speaker back", async () => {
  // Newest first at once (lifoAfterMs 0): silent connections newer than the speaker would be
  // served before it if they queued at all.
  await using s = server({ window: 1, timeoutMs: NO_EXPIRY_MS, lifoAfterMs: 0 });
  const conns = [await holder(s.addr.port)];
  try {
    await until(s, (a) => a.inSetup === 1);
    using speaker = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 1);
    for (let i = 0; i < 20; i++) conns.push(await WireConn.connect(s.addr.port));
    await until(s, (a) => a.silent === 20);
    assert.equal(s.admission.inSetup, 1, "a silent connection took a place in setup");
    conns.shift()![Symbol.dispose]();
    assert.ok(await answered(speaker), "the speaker was not served first");
    await until(s, (a) => a.silent === 20 && a.waiting === 0);
  } finally {
    closeAll(conns);
  }
});

Deno.test("admission: beyond the silent budget the oldest silent connection is closed", async () => {
  await using s = server({ silentBudget: 3, silentMinAgeMs: 0 });
  const silent: WireConn[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      silent.push(await WireConn.connect(s.addr.port));
      await until(s, (a) => a.silent === Math.min(i + 1, 3));
    }
    assert.ok(await silent[0]!.expectEof(5000), "the oldest silent connection is open");
    assert.ok(await silent[1]!.expectEof(5000), "the second oldest silent connection is open");
    for (const c of silent.slice(2)) {
      assert.equal((await c.readExactly(1, 100)).kind, "timeout", "a newer one was closed");
    }
    // The newest silent connections still speak and are served.
    await silent[4]!.write(PREINIT);
    assert.ok(await answered(silent[4]!));
    using speaker = await speak(s.addr.port);
    assert.ok(await answered(speaker));
  } finally {
    closeAll(silent);
  }
});

Deno.test(`admission: with TLS the window is ${ADMISSION_WINDOW.tls} clients in setup (${ADMISSION_WINDOW.plain} without)`, async () => {
  await using pki = await makePki();
  using tls = TlsServerContext.create({
    keys: await readPemFiles({
      certFile: pki.serverCert,
      keyFile: pki.serverKey,
      caFile: pki.caCert,
    }),
    requireClientCert: true,
  });
  {
    await using plain = server({});
    assert.equal(plain.admissionPolicy.window, ADMISSION_WINDOW.plain);
  }
  await using s = server({ timeoutMs: NO_EXPIRY_MS }, tls);
  assert.equal(s.admissionPolicy.window, ADMISSION_WINDOW.tls);
  const holders: WireConn[] = [];
  try {
    for (let i = 0; i < ADMISSION_WINDOW.tls; i++) holders.push(await holder(s.addr.port));
    await until(s, (a) => a.inSetup === ADMISSION_WINDOW.tls);
    using probe = await speak(s.addr.port);
    await until(s, (a) => a.waiting === 1);
    assert.equal(await answered(probe, QUIET_MS), false, "served beyond the window");
    holders.shift()![Symbol.dispose]();
    assert.ok(await answered(probe), "not served when a place came free");
  } finally {
    closeAll(holders);
  }
});

Deno.test("admission: a connection silent for less than the minimum age is not closed for the budget", async () => {
  // A storm: many connections accepted before their first bytes are read look silent.
  await using s = server({ silentBudget: 2, silentMinAgeMs: NO_EXPIRY_MS });
  const conns: WireConn[] = [];
  try {
    for (let i = 0; i < 6; i++) conns.push(await WireConn.connect(s.addr.port));
    await until(s, (a) => a.silent === 6);
    for (const c of conns) {
      assert.equal((await c.readExactly(1, 50)).kind, "timeout", "a young connection was closed");
    }
  } finally {
    closeAll(conns);
  }
});

Deno.test("admission: at max_clients a new connection takes the place of the oldest silent one", async () => {
  await using s = server({ silentMinAgeMs: 0 }, undefined, 3);
  const silent: WireConn[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      silent.push(await WireConn.connect(s.addr.port));
      await until(s, (a) => a.silent === i + 1);
    }
    using speaker = await speak(s.addr.port);
    assert.ok(await answered(speaker), "the new client was refused");
    assert.ok(await silent[0]!.expectEof(5000), "the oldest silent connection is still open");
    for (const c of silent.slice(1)) {
      assert.equal((await c.readExactly(1, 100)).kind, "timeout", "a newer one was closed");
    }
  } finally {
    closeAll(silent);
  }
});

Deno.test("admission: at max_clients with no silent connection old enough, a new one is refused", async () => {
  await using s = server({ silentMinAgeMs: NO_EXPIRY_MS }, undefined, 2);
  const silent = [await WireConn.connect(s.addr.port), await WireConn.connect(s.addr.port)];
  try {
    await until(s, (a) => a.silent === 2);
    using surplus = await speak(s.addr.port);
    assert.ok(await surplus.expectEof(5000), "a client beyond max_clients was served");
  } finally {
    closeAll(silent);
  }
});
