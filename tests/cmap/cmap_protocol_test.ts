import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import fc from "fast-check";
import { CmapError, CmapLoadError, CsError } from "../../core/cmap/errors.ts";
import { CmapStore } from "../../core/cmap/store.ts";
import { StoreBackend } from "../../core/cmap/store_backend.ts";
import type { TrackNotification } from "../../core/cmap/track.ts";
import type { CmapValue } from "../../core/cmap/value.ts";
import {
  type CmapProtocolError,
  type CmapRequest,
  decodeEntries,
  decodeErrorMessage,
  decodeGetBody,
  decodeLoadFailures,
  decodeNotification,
  decodeRequest,
  decodeToken,
  decodeTokenBytes,
  encodeErrorMessage,
  encodeNotification,
  encodeRequest,
  encodeToken,
  executeRequest,
  splitRequestLine,
} from "../../ipc/cmap_protocol.ts";

const value: fc.Arbitrary<CmapValue> = fc.oneof(
  fc.integer({ min: -128, max: 127 }).map((v) => ({ type: "i8", value: v }) as CmapValue),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((v) => ({ type: "u32", value: v }) as CmapValue),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) =>
    ({ type: "i64", value: v }) as CmapValue
  ),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ type: "u64", value: v }) as CmapValue),
  fc.double().map((v) => ({ type: "dbl", value: v }) as CmapValue),
  fc.float().map((v) => ({ type: "flt", value: v }) as CmapValue),
  fc.string({ unit: "binary" }).filter((s) => !s.includes("\0") && s.isWellFormed())
    .map((v) => ({ type: "str", value: v }) as CmapValue),
  fc.uint8Array({ maxLength: 64 }).map((v) => ({ type: "bin", value: v }) as CmapValue),
);
const name = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => s.isWellFormed());

Deno.test("encodeToken() round-trips strings and bytes and never emits lexer specials", () => {
  fc.assert(fc.property(name, (s) => {
    const token = encodeToken(s);
    assertEquals(/^[A-Za-z0-9._\-/:%]+$/.test(token), true);
    assertEquals(decodeToken(token), s);
  }));
  fc.assert(fc.property(fc.uint8Array(), (b) => assertEquals(decodeTokenBytes(encodeToken(b)), b)));
  assertEquals(encodeToken(""), "%");
  assertEquals(encodeToken('a b\n"\\'), "a%20b%0A%22%5C");
  assertEquals(encodeToken("totem.version"), "totem.version");
});

Deno.test("decodeRequest() inverts encodeRequest() for every operation", () => {
  const request: fc.Arbitrary<CmapRequest> = fc.oneof(
    fc.record({
      map: fc.constantFrom("icmap", "stats"),
      op: fc.constantFrom("get", "delete"),
      key: name,
    }, { noNullPrototype: true }),
    fc.record({ map: fc.constant("icmap"), op: fc.constant("set"), key: name, value }, {
      noNullPrototype: true,
    }),
    fc.record({ map: fc.constant("icmap"), op: fc.constant("iter"), prefix: name }, {
      noNullPrototype: true,
    }),
    fc.record({
      map: fc.constant("icmap"),
      op: fc.constant("track"),
      flags: fc.nat(15),
      names: fc.array(name),
    }, { noNullPrototype: true }),
    fc.record({
      map: fc.constant("icmap"),
      op: fc.constant("load"),
      ops: fc.array(fc.oneof(
        fc.record({ op: fc.constant("set"), key: name, value }, { noNullPrototype: true }),
        fc.record({ op: fc.constant("delete"), key: name }, { noNullPrototype: true }),
        fc.record({ op: fc.constant("deletePrefix"), prefix: name }, { noNullPrototype: true }),
      )),
    }, { noNullPrototype: true }),
  ) as fc.Arbitrary<CmapRequest>;
  fc.assert(fc.property(request, (r) => {
    const line = encodeRequest(r);
    assertEquals(line.endsWith("\n") && line.indexOf("\n") === line.length - 1, true);
    assertEquals(decodeRequest(splitRequestLine(line)), r);
  }));
  assertEquals(
    encodeRequest({ map: "icmap", op: "get", key: "totem.version" }),
    "cmap icmap get totem.version\n",
  );
  assertEquals(
    encodeRequest({ map: "icmap", op: "set", key: "k.s", value: { type: "str", value: "a b" } }),
    "cmap icmap set k.s str a%20b\n",
  );
});

Deno.test("decodeRequest() rejects malformed requests", () => {
  for (
    const line of [
      "get x",
      "cmap nomap get x",
      "cmap icmap frob x",
      "cmap icmap get",
      "cmap icmap get a b",
      "cmap icmap set k u8 300",
      "cmap icmap set k u8 1.5",
      "cmap icmap set k xx 1",
      "cmap icmap get a%2",
      "cmap icmap get %FF",
      "cmap icmap track x",
      "cmap icmap load set k",
      'cmap icmap get a"b',
    ]
  ) {
    throws(
      () => decodeRequest(splitRequestLine(line)),
      (e: unknown) => (e as CmapProtocolError).name === "CmapProtocolError",
      line,
    );
  }
});

Deno.test("executeRequest() serves a StoreBackend and the replies decode back", async () => {
  const store = new CmapStore([{ name: "ro.", prefix: true }]);
  const backend = new StoreBackend(store);
  const exec = (r: CmapRequest) => executeRequest(backend, r);
  assertEquals(
    await exec({ map: "icmap", op: "set", key: "k.a", value: { type: "str", value: "x\ny" } }),
    "",
  );
  assertEquals(decodeGetBody(await exec({ map: "icmap", op: "get", key: "k.a" })), {
    type: "str",
    value: "x\ny",
  });
  await exec({
    map: "icmap",
    op: "set",
    key: "k.b",
    value: { type: "bin", value: Uint8Array.of(0, 255) },
  });
  assertEquals(decodeEntries(await exec({ map: "icmap", op: "iter", prefix: "k." })), [
    { key: "k.a", value: { type: "str", value: "x\ny" } },
    { key: "k.b", value: { type: "bin", value: Uint8Array.of(0, 255) } },
  ]);
  const failures = decodeLoadFailures(
    await exec({
      map: "icmap",
      op: "load",
      ops: [{ op: "delete", key: "no.such" }, {
        op: "set",
        key: "k.c",
        value: { type: "u8", value: 1 },
      }],
    }),
  );
  assertEquals(failures.map((f) => [f.key, f.error.code]), [["no.such", CsError.NotExist]]);
  assertEquals(store.get("k.c"), { type: "u8", value: 1 });
  try {
    await exec({
      map: "icmap",
      op: "load",
      ops: [{ op: "delete", key: "k.c" }, {
        op: "set",
        key: "ro.x",
        value: { type: "u8", value: 1 },
      }],
    });
    throw new Error("load should fail");
  } catch (error) {
    const message = encodeErrorMessage(error as CmapError);
    assertEquals(message, "11 CS_ERR_ACCESS 1");
    const decoded = decodeErrorMessage(message);
    assertEquals(
      decoded instanceof CmapLoadError && decoded.index === 1 && decoded.code === CsError.Access,
      true,
    );
  }
  assertEquals(store.has("k.c"), true);
  try {
    await exec({ map: "icmap", op: "get", key: "no.such" });
    throw new Error("get should fail");
  } catch (error) {
    assertEquals(encodeErrorMessage(error as CmapError), "12 CS_ERR_NOT_EXIST");
  }
  assertEquals(decodeErrorMessage("Unknown command").code, CsError.Library);
  assertEquals(decodeErrorMessage("12 CS_ERR_ACCESS").code, CsError.Library);
});

Deno.test("decodeNotification() inverts encodeNotification()", () => {
  const notification: fc.Arbitrary<TrackNotification> = fc.oneof(
    fc.record({ event: fc.constant(4 as const), key: name, newValue: value }, {
      noNullPrototype: true,
    }),
    fc.record({ event: fc.constant(2 as const), key: name, newValue: value, oldValue: value }, {
      noNullPrototype: true,
    }),
    fc.record({ event: fc.constant(1 as const), key: name, oldValue: value }, {
      noNullPrototype: true,
    }),
  );
  fc.assert(fc.property(notification, (n) => {
    const line = encodeNotification(n);
    assertEquals(line.indexOf("\n"), line.length - 1);
    assertEquals(decodeNotification(line.slice(0, -1)), n);
  }));
  assertEquals(
    encodeNotification({ event: 1, key: "k.a", oldValue: { type: "dbl", value: -0 } }),
    "delete k.a - % dbl -0\n",
  );
});

Deno.test("StoreBackend.track() streams notifications until closed", async () => {
  const store = new CmapStore();
  const backend = new StoreBackend(store);
  await (backend.track(["x"], 99).then(() => {
    throw new Error("should fail");
  }, (e: CmapError) => assertEquals(e.code, CsError.InvalidParam)));
  const tracker = await backend.track(["k."], 15);
  store.set("k.a", { type: "u8", value: 1 });
  store.delete("k.a");
  await tracker.close();
  store.set("k.b", { type: "u8", value: 1 });
  const seen: string[] = [];
  for await (const n of tracker.events) seen.push(`${n.event}:${n.key}`);
  assertEquals(seen, ["4:k.a", "1:k.a"]);
});
