import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { CmapError, CsError, csStrerror } from "../../core/cmap/errors.ts";
import { COROSYNC_READ_ONLY } from "../../core/cmap/read_only.ts";
import { CmapStore } from "../../core/cmap/store.ts";
import { TrackFlag, type TrackNotification } from "../../core/cmap/track.ts";
import { type CmapValue, storedLength } from "../../core/cmap/value.ts";

/** Asserts that `fn` throws a CmapError with `code`. */
function throwsCode(fn: () => unknown, code: CsError): void {
  throws(fn, (e: unknown) => e instanceof CmapError && e.code === code);
}

Deno.test("csStrerror() names codes as corosync prints them", () => {
  assertEquals(csStrerror(CsError.Ok), "success");
  assertEquals(csStrerror(CsError.Access), "CS_ERR_ACCESS");
  assertEquals(csStrerror(CsError.NameTooLong), "CS_ERR_NAME_TOO_LONG");
  assertEquals(csStrerror(CsError.Security), "CS_ERR_SECURITY");
  assertEquals(csStrerror(29), "unknown error");
});

Deno.test("CmapStore.set() validates names only when creating a key", () => {
  const store = new CmapStore();
  for (const bad of ["ab", "a b", "a*b", "test.ü", "k".repeat(256), ""]) {
    throwsCode(() => store.set(bad, { type: "u8", value: 1 }), CsError.NameTooLong);
  }
  for (const good of ["abc", "...", "A.B-c_d/e:f", "k".repeat(255)]) {
    store.set(good, { type: "u8", value: 1 });
  }
  assertEquals(store.size, 4);
  throwsCode(() => store.get("a b"), CsError.NotExist);
});

Deno.test("CmapStore.set() rejects bad values with CS_ERR_INVALID_PARAM", () => {
  const store = new CmapStore();
  const bad: CmapValue[] = [
    { type: "u8", value: 256 },
    { type: "i8", value: -129 },
    { type: "u32", value: 1.5 },
    { type: "u64", value: -1n },
    { type: "i64", value: 2n ** 63n },
    { type: "flt", value: 0.1 },
    { type: "str", value: "a\0b" },
    { type: "str", value: "x".repeat(16385) },
    { type: "str", value: "é".repeat(8193) },
    { type: "bin", value: new Uint8Array(16385) },
  ];
  for (const value of bad) throwsCode(() => store.set("k.k", value), CsError.InvalidParam);
  store.set("k.str", { type: "str", value: "x".repeat(16384) });
  store.set("k.bin", { type: "bin", value: new Uint8Array(16384) });
  store.set("k.bin0", { type: "bin", value: new Uint8Array(0) });
  store.set("k.flt", { type: "flt", value: Math.fround(0.1) });
  assertEquals(storedLength(store.get("k.str")), 16385);
  assertEquals(store.has("k.k"), false);
});

Deno.test("CmapStore.set() changes types silently and skips equal values", () => {
  const store = new CmapStore();
  const events: TrackNotification[] = [];
  using _t = store.track("k.k", 15, (n) => events.push(n));
  store.set("k.k", { type: "u32", value: 2 });
  store.set("k.k", { type: "u32", value: 2 });
  store.set("k.k", { type: "str", value: "x" });
  store.set("k.k", { type: "str", value: "x" });
  store.set("k.k", { type: "i32", value: 2 });
  store.set("k.k", { type: "dbl", value: 0 });
  store.set("k.k", { type: "dbl", value: -0 });
  assertEquals(events.map((e) => [e.event, e.newValue?.type, e.oldValue?.type]), [
    [TrackFlag.Add, "u32", undefined],
    [TrackFlag.Modify, "str", "u32"],
    [TrackFlag.Modify, "i32", "str"],
    [TrackFlag.Modify, "dbl", "i32"],
    [TrackFlag.Modify, "dbl", "dbl"],
  ]);
});

Deno.test("CmapStore values are copies, never shared", () => {
  const store = new CmapStore();
  const bytes = Uint8Array.of(1, 2, 3);
  store.set("k.bin", { type: "bin", value: bytes });
  bytes[0] = 9;
  const got = store.get("k.bin");
  assertEquals(got, { type: "bin", value: Uint8Array.of(1, 2, 3) });
  (got.value as Uint8Array)[1] = 9;
  assertEquals(store.get("k.bin"), { type: "bin", value: Uint8Array.of(1, 2, 3) });
});

Deno.test("CmapStore.delete() and deletePrefix() remove keys and notify the old value", () => {
  const store = new CmapStore();
  throwsCode(() => store.delete("no.such"), CsError.NotExist);
  for (const key of ["test.del.a", "test.del.b", "test.delX", "test.other"]) {
    store.set(key, { type: "u8", value: 1 });
  }
  const events: string[] = [];
  using _t = store.track(
    "test.",
    TrackFlag.Delete | TrackFlag.Prefix,
    (n) => events.push(`${n.key}=${n.oldValue?.value}`),
  );
  assertEquals(store.deletePrefix("test.del"), 3);
  assertEquals(store.keys(), ["test.other"]);
  assertEquals(events, ["test.del.a=1", "test.del.b=1", "test.delX=1"]);
});

Deno.test("CmapStore.adjust() wraps every integer type and refuses the others", () => {
  const store = new CmapStore();
  const cases: [CmapValue, CmapValue, CmapValue][] = [
    [{ type: "i8", value: 127 }, { type: "i8", value: -128 }, { type: "i8", value: 127 }],
    [{ type: "u8", value: 255 }, { type: "u8", value: 0 }, { type: "u8", value: 255 }],
    [{ type: "i16", value: 32767 }, { type: "i16", value: -32768 }, { type: "i16", value: 32767 }],
    [{ type: "u16", value: 65535 }, { type: "u16", value: 0 }, { type: "u16", value: 65535 }],
    [{ type: "i32", value: 2 ** 31 - 1 }, { type: "i32", value: -(2 ** 31) }, {
      type: "i32",
      value: 2 ** 31 - 1,
    }],
    [{ type: "u32", value: 2 ** 32 - 1 }, { type: "u32", value: 0 }, {
      type: "u32",
      value: 2 ** 32 - 1,
    }],
    [{ type: "i64", value: 2n ** 63n - 1n }, { type: "i64", value: -(2n ** 63n) }, {
      type: "i64",
      value: 2n ** 63n - 1n,
    }],
    [{ type: "u64", value: 2n ** 64n - 1n }, { type: "u64", value: 0n }, {
      type: "u64",
      value: 2n ** 64n - 1n,
    }],
  ];
  for (const [max, wrapped, back] of cases) {
    store.set("k.int", max);
    store.inc("k.int");
    assertEquals(store.get("k.int"), wrapped);
    store.dec("k.int");
    assertEquals(store.get("k.int"), back);
  }
  for (
    const value of [
      { type: "flt", value: 1.5 },
      { type: "dbl", value: 1 },
      { type: "str", value: "1" },
      { type: "bin", value: Uint8Array.of(1) },
    ] as CmapValue[]
  ) {
    store.set("k.other", value);
    throwsCode(() => store.inc("k.other"), CsError.InvalidParam);
  }
  throwsCode(() => store.inc("no.such"), CsError.NotExist);
  const events: string[] = [];
  store.set("k.cnt", { type: "u64", value: 41n });
  using _t = store.track(
    "k.cnt",
    TrackFlag.Modify,
    (n) => events.push(`${n.oldValue?.value}->${n.newValue?.value}`),
  );
  store.inc("k.cnt");
  assertEquals(events, ["41->42"]);
});

Deno.test("CmapStore.iter() walks in byte order as a live cursor", () => {
  const store = new CmapStore();
  for (const s of ["-", "/", "10", "9", ":", "B", "_", "a", "a.x", "b"]) {
    store.set(`probe.it.${s}`, { type: "u8", value: 1 });
  }
  store.set("probe.iu", { type: "u8", value: 1 });
  const seen: string[] = [];
  for (const { key } of store.iter("probe.it.")) {
    seen.push(key);
    if (seen.length === 2) {
      store.set("probe.it.c", { type: "u8", value: 1 });
      store.set("probe.it.0", { type: "u8", value: 1 });
      store.set("probe.it..", { type: "u8", value: 1 });
      store.delete("probe.it.b");
    }
  }
  assertEquals(seen.map((k) => k.slice(9)), [
    "-",
    "/",
    "0",
    "10",
    "9",
    ":",
    "B",
    "_",
    "a",
    "a.x",
    "c",
  ]);
  assertEquals([...store.iter("no.match")], []);
  assertEquals(store.keys("").length, store.size);
});

Deno.test("CmapStore.track() filters by name, prefix and flags", () => {
  const store = new CmapStore();
  throwsCode(() => store.track("x", 16, () => {}), CsError.InvalidParam);
  const log = new Map<string, string[]>();
  const add = (label: string, name: string, flags: number) => {
    log.set(label, []);
    return store.track(name, flags, (n) => log.get(label)!.push(`${n.event}:${n.key}`));
  };
  using _a = add("exact", "probe.trk", TrackFlag.Add | TrackFlag.Modify | TrackFlag.Delete);
  using _b = add("prefix-add", "probe.trk", TrackFlag.Add | TrackFlag.Prefix);
  using _c = add("none", "probe.trk", 0);
  using _d = add("all", "", 15);
  using _e = add("empty-exact", "", 7);
  const gone = add("disposed", "probe.trk", 7);
  gone.delete();
  throwsCode(() => gone.delete(), CsError.BadHandle);
  store.set("probe.trk", { type: "u32", value: 1 });
  store.set("probe.trk.child", { type: "u32", value: 9 });
  store.set("probe.trk", { type: "u32", value: 2 });
  store.delete("probe.trk.child");
  store.delete("probe.trk");
  store.set("probe.trk", { type: "u32", value: 3 });
  assertEquals(Object.fromEntries(log), {
    "exact": ["4:probe.trk", "2:probe.trk", "1:probe.trk", "4:probe.trk"],
    "prefix-add": ["4:probe.trk", "4:probe.trk.child", "4:probe.trk"],
    "none": [],
    "all": [
      "4:probe.trk",
      "4:probe.trk.child",
      "2:probe.trk",
      "1:probe.trk.child",
      "1:probe.trk",
      "4:probe.trk",
    ],
    "empty-exact": [],
    "disposed": [],
  });
});

Deno.test("CmapStore.checkClientWrite() applies corosync's read-only entries by plain prefix", () => {
  const store = new CmapStore(COROSYNC_READ_ONLY);
  for (
    const key of [
      "totem.cluster_name",
      "nodelist.newkey",
      "runtime.totem.foo",
      "system.x",
      "quorum.wait_for_all",
    ]
  ) {
    throwsCode(() => store.checkClientWrite(key), CsError.Access);
  }
  for (
    const key of [
      "totem.cluster_name2",
      "nodelistX.a",
      "runtime.totemX",
      "runtime.members.1.status",
      "uidgid.uid.1",
    ]
  ) {
    store.checkClientWrite(key);
  }
  store.readOnly.set("runtime.totem.", true, false);
  store.checkClientWrite("runtime.totem.foo");
  // The daemon's own writes ignore the list.
  store.set("nodelist.local_node_pos", { type: "u32", value: 0 });
});
