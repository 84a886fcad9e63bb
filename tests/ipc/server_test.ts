import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { IpcServer, type IpcServerOptions } from "../../ipc/server.ts";
import { qnetdIpcHandlers } from "../../ipc/commands.ts";
import type { ServerSnapshot } from "../../core/arbiter/snapshot.ts";
import { exchange, fourClusters, ipcRawExchanges, twoClusters } from "../support/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Fixture {
  server: IpcServer;
  path: string;
  shutdowns: number[];
  setSnapshot(s: ServerSnapshot): void;
  [Symbol.asyncDispose](): Promise<void>;
}

async function start(options: Partial<IpcServerOptions> = {}): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "qnet_ipc_" });
  const path = `${dir}/q.sock`;
  let snapshot = fourClusters;
  const shutdowns: number[] = [];
  const server = IpcServer.listen({
    path,
    handlers: qnetdIpcHandlers({
      snapshot: () => snapshot,
      shutdown: () => shutdowns.push(Date.now()),
    }),
    ...options,
  });
  return {
    server,
    path,
    shutdowns,
    setSnapshot: (s) => snapshot = s,
    async [Symbol.asyncDispose]() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("IpcServer replies byte for byte like the recorded C daemon", async () => {
  await using f = await start();
  let checked = 0;
  for (const { request, reply } of await ipcRawExchanges()) {
    if (dec(reply).startsWith("<<TIMEOUT")) continue;
    f.setSnapshot(dec(reply).includes("Connected clients:\t\t4\n") ? twoClusters : fourClusters);
    assertEquals(dec(await exchange(f.path, request)), dec(reply), dec(request));
    checked++;
  }
  assertEquals(checked, 11);
});

Deno.test("IpcServer.listen() replaces a stale file, sets the mode, and close() removes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet_ipc_" });
  const path = `${dir}/q.sock`;
  await Deno.writeTextFile(path, "stale");
  const server = IpcServer.listen({ path, handlers: new Map(), mode: 0o640 });
  assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o640);
  assertEquals(dec(await exchange(path, enc("status\n"))), "Error\nUnknown command 'status'\n");
  await server.close();
  await rejects(Deno.lstat(path), Deno.errors.NotFound);
  await server.close(); // idempotent
  await Deno.remove(dir, { recursive: true });
});

Deno.test("IpcServer closes an oversized request without a reply", async () => {
  await using f = await start();
  assertEquals(dec(await exchange(f.path, enc("x".repeat(4096) + "\n"))), "");
  const longest = dec(await exchange(f.path, enc("x".repeat(4095) + "\n")));
  assertEquals(longest, `Error\nUnknown command '${"x".repeat(4095)}'\n`);
  // A newline in a later chunk than the overflow does not save the request.
  assertEquals(dec(await exchange(f.path, enc("y".repeat(5000) + "\n"))), "");
  // A newline in the first chunk answers even though more bytes follow.
  const early = dec(await exchange(f.path, enc("nope\n" + "z".repeat(6000))));
  assertEquals(early, "Error\nUnknown command 'nope'\n");
});

Deno.test("IpcServer accepts then closes clients over maxClients", async () => {
  await using f = await start({ maxClients: 2 });
  const held = [
    await Deno.connect({ transport: "unix", path: f.path }),
    await Deno.connect({ transport: "unix", path: f.path }),
  ];
  assertEquals(dec(await exchange(f.path, new Uint8Array())), "");
  for (const conn of held) {
    await conn.write(enc("status\n"));
    const buf = new Uint8Array(3);
    assertEquals(await conn.read(buf), 3);
    assertEquals(dec(buf), "OK\n");
    conn.close();
  }
});

Deno.test("IpcServer survives a client that leaves mid-line", async () => {
  await using f = await start();
  const conn = await Deno.connect({ transport: "unix", path: f.path });
  await conn.write(enc("status"));
  conn.close();
  assertEquals(dec(await exchange(f.path, enc("status\n"))).slice(0, 3), "OK\n");
});

Deno.test("IpcServer runs shutdown's action after writing OK", async () => {
  await using f = await start();
  assertEquals(dec(await exchange(f.path, enc("shutdown \n"))), "OK\n");
  assertEquals(f.shutdowns.length, 1);
});

Deno.test("IpcServer sends the C errors when a reply does not fit maxSendSize", async () => {
  await using f = await start({ maxSendSize: 1024 });
  assertEquals(dec(await exchange(f.path, enc("list\n"))), "Error\nCan't get QNetd cluster list\n");
  assertEquals(dec(await exchange(f.path, enc("status\n"))).slice(0, 3), "OK\n");
});

Deno.test("IpcServer drops a client that does not read its reply", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet_ipc_" });
  const path = `${dir}/q.sock`;
  let failed!: (e: unknown) => void;
  const writeFailed = new Promise((resolve) => failed = resolve);
  const big = new Uint8Array(64 * 1024 * 1024);
  const server = IpcServer.listen({
    path,
    writeTimeoutMs: 100,
    handlers: new Map([["flood", async (request) => {
      await request.write(big).catch(failed);
      return undefined;
    }]]),
  });
  const stuck = await Deno.connect({ transport: "unix", path });
  await stuck.write(enc("flood\n"));
  assertEquals((await writeFailed as Error).name, "IpcWriteTimeoutError");
  // The server keeps serving others meanwhile.
  assertEquals(dec(await exchange(path, enc("other\n"))), "Error\nUnknown command 'other'\n");
  stuck.close();
  await server.close();
  assertEquals(server.clientCount, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("IpcServer aborts a streaming handler's signal when the client leaves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet_ipc_" });
  const path = `${dir}/q.sock`;
  let aborted!: () => void;
  const wasAborted = new Promise<void>((resolve) => aborted = resolve);
  await using server = IpcServer.listen({
    path,
    handlers: new Map([["track", async (request) => {
      await request.write(enc("OK\nfirst\n"));
      await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
      aborted();
      return undefined;
    }]]),
  });
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(enc("TRACK\n"));
  const buf = new Uint8Array(9);
  let got = 0;
  while (got < 9) got += (await conn.read(buf.subarray(got)))!;
  assertEquals(dec(buf), "OK\nfirst\n");
  conn.close();
  await wasAborted;
  await server.close();
  await Deno.remove(dir, { recursive: true });
});
