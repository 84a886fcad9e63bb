import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  BIN1,
  BIN1_SHOWN,
  bytes,
  cmapctl,
  corosyncStore,
  FakeStdin,
  settleMicrotasks,
} from "../support/mod.ts";
import { CmapStore } from "../../core/cmap/store.ts";

Deno.test("cmapctl main() -s/-g round-trips every type as in 03-set-get-types", async () => {
  const store = corosyncStore();
  const cases: [string, string, string][] = [
    ["i8", "127", "127"],
    ["u8", "255", "255"],
    ["u16", "65535", "65535"],
    ["u32", "4294967295", "4294967295"],
    ["i64", "9223372036854775807", "9223372036854775807"],
    ["u64", "18446744073709551615", "18446744073709551615"],
    ["flt", "3.14159", "3.141590"],
    ["flt", "1e40", "inf"],
    ["flt", "nan", "nan"],
    ["dbl", "2.718281828459045", "2.718282"],
    ["dbl", "1e-7", "0.000000"],
    ["i32", " 42", "42"],
    ["i32", "+7", "7"],
    ["i32", "010", "10"],
    ["dbl", "0x1p3", "8.000000"],
    ["flt", "16777217", "16777216.000000"],
    ["dbl", "123456789.123456789", "123456789.123457"],
  ];
  for (const [type, input, shown] of cases) {
    const key = `test.types.${type}`;
    const set = await cmapctl(store, ["-s", key, type, input]);
    assertEquals(set, { out: "", err: "", exit: 0 }, `${type} ${input}`);
    const got = await cmapctl(store, ["-g", key]);
    assertEquals(got, { out: `${key} (${type}) = ${shown}\n`, err: "", exit: 0 });
  }
  const dbl1e300 = await cmapctl(store, ["-s", "test.big", "dbl", "1e300"]);
  assertEquals(dbl1e300.exit, 0);
  assertEquals(
    (await cmapctl(store, ["-q", "-g", "test.big"])).out,
    "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000\n",
  );
});

Deno.test("cmapctl main() reports range and syntax errors like the C tool", async () => {
  const store = corosyncStore();
  const cases: [string[], string][] = [
    [["-s", "k.k", "i8", "128"], "128 is not valid i8 integer\n"],
    [["-s", "k.k", "u8", "256"], "256 is not valid u8 integer\n"],
    [["-s", "k.k", "i16", "32768"], "32768 is not valid i16 integer\n"],
    [["-s", "k.k", "u16", "65536"], "65536 is not valid u16 integer\n"],
    [["-s", "k.k", "i32", "2147483648"], "2147483648 is not valid i32 integer\n"],
    [["-s", "k.k", "u32", "4294967296"], "4294967296 is not valid u32 integer\n"],
    [["-s", "k.k", "i32", "abc"], "abc is not valid i32 type value\n"],
    [["-s", "k.k", "flt", "abc"], "abc is not valid flt type value\n"],
    [["-s", "k.k", "xyz", "1"], "Unknown type xyz\n"],
    [["-s", "k.k", "I32", "1"], "Unknown type I32\n"],
    [["-s", "k.k", "i8", "--", "-129"], "-129 is not valid i8 integer\n"],
    [["-s", "k.k", "u8", "--", "-1"], "-1 is not valid u8 integer\n"],
    [["-s", "k.k", "u8"], "At least 3 parameters are expected for set\n"],
    [["-s"], "Expected key after options\n"],
    [["-g"], "Expected key after options\n"],
    [["-d"], "Expected key after options\n"],
    [["-D"], "Expected key after options\n"],
    [["-t"], "Expected key after options\n"],
    [["-T"], "Expected key after options\n"],
  ];
  for (const [args, err] of cases) {
    assertEquals(await cmapctl(store, args), { out: "", err, exit: 1 }, args.join(" "));
  }
  assertEquals(store.has("k.k"), false);
});

Deno.test("cmapctl main() rejects the C tool's sscanf traps", async () => {
  const store = corosyncStore();
  const cases: [string[], string][] = [
    [["-s", "k.k", "i32", "12abc"], "12abc is not valid i32 type value\n"],
    [["-s", "k.k", "i32", "0x10"], "0x10 is not valid i32 type value\n"],
    [["-s", "k.k", "u32", "0x10"], "0x10 is not valid u32 type value\n"],
    [["-s", "k.k", "dbl", "1,5"], "1,5 is not valid dbl type value\n"],
    [["-s", "k.k", "i64", "9223372036854775808"], "9223372036854775808 is not valid i64 integer\n"],
    [
      ["-s", "k.k", "u64", "18446744073709551616"],
      "18446744073709551616 is not valid u64 integer\n",
    ],
    [["-s", "k.k", "u64", "-5"], "-5 is not valid u64 integer\n"],
  ];
  for (const [args, err] of cases) {
    assertEquals(await cmapctl(store, args), { out: "", err, exit: 1 }, args.join(" "));
  }
  assertEquals(store.has("k.k"), false);
});

Deno.test("cmapctl main() takes negative numbers as operands, with or without --", async () => {
  const store = corosyncStore();
  const cases: [string[], string][] = [
    [["-s", "test.neg.i8", "i8", "-128"], "test.neg.i8 (i8) = -128\n"],
    [["-s", "test.neg.i16", "i16", "--", "-32768"], "test.neg.i16 (i16) = -32768\n"],
    [["-s", "--", "test.neg.i32", "i32", "-2147483648"], "test.neg.i32 (i32) = -2147483648\n"],
    [
      ["-s", "test.neg.i64", "i64", "-9223372036854775808"],
      "test.neg.i64 (i64) = -9223372036854775808\n",
    ],
    [["-s", "test.neg.flt", "flt", "-0.5"], "test.neg.flt (flt) = -0.500000\n"],
    [["-s", "test.neg.dbl", "dbl", "-1e-3"], "test.neg.dbl (dbl) = -0.001000\n"],
    [["-s", "test.neg.dbl4", "dbl", "-0.0"], "test.neg.dbl4 (dbl) = -0.000000\n"],
    [["-s", "test.neg.inf", "dbl", "-inf"], "test.neg.inf (dbl) = -inf\n"],
    [["-s", "test.neg.str", "str", "--", "-abc"], "test.neg.str (str) = -abc\n"],
  ];
  for (const [args, out] of cases) {
    assertEquals((await cmapctl(store, args)).exit, 0, args.join(" "));
    const key = args.find((a) => a.startsWith("test."))!;
    assertEquals((await cmapctl(store, ["-g", key])).out, out);
  }
  assertEquals(await cmapctl(store, ["-s", "k.k", "str", "-abc"]), {
    out: "",
    err: "corosync-cmapctl: invalid option -- 'a'\n",
    exit: 1,
  });
});

Deno.test("cmapctl main() prints strings raw and lists in byte order with -q", async () => {
  const store = corosyncStore();
  for (
    const [key, text] of [
      ["test.str.spaces", "hello world  with spaces"],
      ["test.str.empty", ""],
      ["test.str.utf8", "žluťoučký kůň"],
      ["test.str.nl", "a\nb"],
    ]
  ) {
    assertEquals((await cmapctl(store, ["-s", key!, "str", text!])).exit, 0);
  }
  assertEquals(await cmapctl(store, ["test.str."]), {
    out: "test.str.empty (str) = \ntest.str.nl (str) = a\nb\n" +
      "test.str.spaces (str) = hello world  with spaces\ntest.str.utf8 (str) = žluťoučký kůň\n",
    err: "",
    exit: 0,
  });
  assertEquals((await cmapctl(store, ["-q", "test.str.s"])).out, "hello world  with spaces\n");
  assertEquals(
    (await cmapctl(store, ["-g", "runtime.members.1.ip"])).out,
    "runtime.members.1.ip (str) = r(0) ip(127.0.0.1) \n",
  );
});

Deno.test("cmapctl main() allows type changes and enforces read-only keys (05)", async () => {
  const store = corosyncStore();
  for (
    const [type, value, shown] of [["u8", "5", "5"], ["str", "five", "five"], [
      "dbl",
      "5.5",
      "5.500000",
    ], ["u64", "5", "5"]]
  ) {
    assertEquals((await cmapctl(store, ["-s", "test.chg.k", type!, value!])).exit, 0);
    assertEquals(
      (await cmapctl(store, ["-g", "test.chg.k"])).out,
      `test.chg.k (${type}) = ${shown}\n`,
    );
  }
  for (
    const key of [
      "totem.cluster_name",
      "totem.version",
      "nodelist.newkey",
      "system.newkey",
      "runtime.config.totem.token",
      "runtime.totem.foo",
      "uidgid.config.uid.1000",
      "quorum.wait_for_all",
    ]
  ) {
    assertEquals(await cmapctl(store, ["-s", key, "str", "x"]), {
      out: "",
      err: `Failed to set key ${key}. Error CS_ERR_ACCESS\n`,
      exit: 1,
    });
  }
  assertEquals(await cmapctl(store, ["-d", "totem.cluster_name"]), {
    out: "",
    err: "Can't delete key totem.cluster_name. Error CS_ERR_ACCESS\n",
    exit: 1,
  });
  assertEquals(await cmapctl(store, ["-D", "nodelist."]), {
    out: "",
    err: "Can't delete key nodelist.local_node_pos. Error CS_ERR_ACCESS\n" +
      "Can't delete key nodelist.node.0.name. Error CS_ERR_ACCESS\n" +
      "Can't delete key nodelist.node.0.nodeid. Error CS_ERR_ACCESS\n" +
      "Can't delete key nodelist.node.0.ring0_addr. Error CS_ERR_ACCESS\n",
    exit: 0,
  });
  for (const key of ["nodelistX.a", "totem.cluster_name2", "runtime.totemX"]) {
    assertEquals((await cmapctl(store, ["-s", key, "str", "x"])).exit, 0);
  }
});

Deno.test("cmapctl main() applies the key-name rules of 06", async () => {
  const store = corosyncStore();
  for (const key of ["ab", "a b", "a*b", "a@b", "a,b", "a+b", "a=b", "a#b", "a\\$b", "test.ü"]) {
    assertEquals(await cmapctl(store, ["-s", key, "u8", "1"]), {
      out: "",
      err: `Failed to set key ${key}. Error CS_ERR_NAME_TOO_LONG\n`,
      exit: 1,
    });
    assertEquals(await cmapctl(store, ["-g", key]), {
      out: "",
      err: `Can't get key ${key}. Error CS_ERR_NOT_EXIST\n`,
      exit: 1,
    });
  }
  for (const key of ["abc", "...", ":::", "///", "___", "A.B-c_d/e:f", ".abc", "abc.", "a..b"]) {
    assertEquals((await cmapctl(store, ["-s", key, "u8", "1"])).exit, 0, key);
  }
  assertEquals(await cmapctl(store, ["-s", "---", "u8", "1"]), {
    out: "",
    err: "corosync-cmapctl: invalid option -- '-'\n",
    exit: 1,
  });
  const k255 = "k".repeat(255);
  const k256 = "k".repeat(256);
  assertEquals((await cmapctl(store, ["-s", k255, "u8", "1"])).exit, 0);
  assertEquals(
    (await cmapctl(store, ["-s", k256, "u8", "1"])).err,
    `Failed to set key ${k256}. Error CS_ERR_NAME_TOO_LONG\n`,
  );
  assertEquals(
    (await cmapctl(store, ["-g", k256])).err,
    `Can't get key ${k256}. Error CS_ERR_NAME_TOO_LONG\n`,
  );
  assertEquals(await cmapctl(store, [k256]), {
    out: "",
    err: "Failed to initialize iteration. Error CS_ERR_NAME_TOO_LONG\n",
    exit: 1,
  });
  const listing = await cmapctl(store, [""]);
  assertEquals(listing.out.split("\n").slice(0, 10).map((l) => l.split(" ")[0]), [
    "...",
    ".abc",
    "///",
    ":::",
    "A.B-c_d/e:f",
    "___",
    "a..b",
    "abc",
    "abc.",
    "internal_configuration.service.0.name",
  ]);
});

Deno.test("cmapctl main() exit codes of -g, -d and listings follow 06", async () => {
  const store = corosyncStore();
  await cmapctl(store, ["-s", "test.types.i8", "i8", "127"]);
  await cmapctl(store, ["-s", "test.types.u8", "u8", "255"]);
  assertEquals(await cmapctl(store, ["-g", "test.types.i8", "no.such.key", "test.types.u8"]), {
    out: "test.types.i8 (i8) = 127\n",
    err: "Can't get key no.such.key. Error CS_ERR_NOT_EXIST\n",
    exit: 1,
  });
  assertEquals(await cmapctl(store, ["-d", "test.types.i8", "no.such.key", "test.types.u8"]), {
    out: "",
    err: "Can't delete key no.such.key. Error CS_ERR_NOT_EXIST\n",
    exit: 1,
  });
  assertEquals(store.has("test.types.i8"), false);
  assertEquals(store.has("test.types.u8"), true);
  assertEquals(await cmapctl(store, ["no.such.prefix"]), { out: "", err: "", exit: 1 });
  assertEquals(await cmapctl(store, ["no.such.a", "no.such.b"]), { out: "", err: "", exit: 1 });
  for (const args of [["no.such.prefix", "totem.version"], ["totem.version", "no.such.prefix"]]) {
    assertEquals(await cmapctl(store, args), {
      out: "totem.version (u32) = 2\n",
      err: "",
      exit: 0,
    });
  }
  assertEquals(await cmapctl(store, ["-D", "no.such.prefix"]), { out: "", err: "", exit: 0 });
  for (const key of ["test.del.a", "test.del.b", "test.delX"]) {
    await cmapctl(store, ["-s", key, "u8", "1"]);
  }
  assertEquals(await cmapctl(store, ["-D", "test.del"]), { out: "", err: "", exit: 0 });
  assertEquals(await cmapctl(store, ["test.del"]), { out: "", err: "", exit: 1 });
  assertEquals(await cmapctl(new CmapStore(), []), { out: "", err: "", exit: 1 });
});

Deno.test("cmapctl main() sets and shows binaries as in 07", async () => {
  const store = corosyncStore();
  const files = new Map([["bin1.dat", BIN1], ["16k.dat", new Uint8Array(16384).fill(0x61)], [
    "16k1.dat",
    new Uint8Array(16385),
  ]]);
  assertEquals((await cmapctl(store, ["-s", "test.bin.a", "bin", "bin1.dat"], { files })).exit, 0);
  assertEquals((await cmapctl(store, ["-g", "test.bin.a"])).out, "test.bin.a (bin)\n");
  assertEquals(
    (await cmapctl(store, ["-b", "-g", "test.bin.a"])).out,
    `test.bin.a (bin) = ${BIN1_SHOWN}\n`,
  );
  const stdin = new FakeStdin([], bytes("hello"));
  assertEquals((await cmapctl(store, ["-s", "test.bin.stdin", "bin", "-"], { stdin })).exit, 0);
  assertEquals(
    await cmapctl(store, ["-s", "test.bin.nofile", "bin", "does-not-exist"], { files }),
    {
      out: "",
      err: "Can't open input file: No such file or directory\n",
      exit: 1,
    },
  );
  assertEquals((await cmapctl(store, ["-q", "-g", "test.bin.a"])).out, "bin)\n");
  assertEquals(
    (await cmapctl(store, ["-q", "-b", "-g", "test.bin.a"])).out,
    `bin) = ${BIN1_SHOWN}\n`,
  );
  const listed = `test.bin.a (bin) = ${BIN1_SHOWN}\ntest.bin.stdin (bin) = hello\n`;
  assertEquals((await cmapctl(store, ["-b", "test.bin."])).out, listed);
  assertEquals((await cmapctl(store, ["-bb", "test.bin."])).out, listed);
  assertEquals(
    (await cmapctl(store, ["test.bin."])).out,
    "test.bin.a (bin)\ntest.bin.stdin (bin)\n",
  );
  assertEquals(
    (await cmapctl(store, ["-s", "test.size.bin16k", "bin", "16k.dat"], { files })).exit,
    0,
  );
  assertEquals((await cmapctl(store, ["-b", "-g", "test.size.bin16k"])).out.length, 16410 - 1 + 1);
  assertEquals(await cmapctl(store, ["-s", "test.size.bin16k1", "bin", "16k1.dat"], { files }), {
    out: "",
    err: "Failed to set key test.size.bin16k1. Error CS_ERR_INVALID_PARAM\n",
    exit: 1,
  });
  assertEquals(
    (await cmapctl(store, ["-s", "test.size.str16384", "str", "a".repeat(16384)])).exit,
    0,
  );
  assertEquals(
    (await cmapctl(store, ["-s", "test.size.str16385", "str", "a".repeat(16385)])).err,
    "Failed to set key test.size.str16385. Error CS_ERR_INVALID_PARAM\n",
  );
  // Deviation: an empty file stores an empty binary (the C tool fails with INVALID_PARAM).
  const empty = new Map([["empty.dat", new Uint8Array(0)]]);
  assertEquals(
    (await cmapctl(store, ["-s", "test.bin.empty", "bin", "empty.dat"], { files: empty })).exit,
    0,
  );
  assertEquals(
    (await cmapctl(store, ["-b", "-g", "test.bin.empty"])).out,
    "test.bin.empty (bin) = \n",
  );
});

Deno.test("cmapctl main() -T streams prefix notifications as in 08", async () => {
  const store = corosyncStore();
  const stdin = new FakeStdin([], new Uint8Array(0), true);
  stdin.onFirstRead = () => void changes();
  const done = cmapctl(store, ["-T", "test.trk.", "other.trk"], { stdin });
  const sh = (args: string[], files?: Map<string, Uint8Array>) =>
    cmapctl(store, args, files ? { files } : {});
  const changes = async () => {
    await sh(["-s", "test.trk.a", "u32", "1"]);
    await sh(["-s", "test.trk.a", "u32", "2"]);
    await sh(["-s", "test.trk.a", "u32", "2"]);
    await sh(["-s", "test.trk.a", "str", "two"]);
    await sh(["-s", "test.trk.a", "str", "two"]);
    await sh(["-s", "test.trk.b", "bin", "bin1.dat"], new Map([["bin1.dat", BIN1]]));
    await sh(["-s", "test.trk.c", "dbl", "1.5"]);
    await sh(["-s", "other.trkZ", "u8", "7"]);
    await sh(["-s", "test.trkNOTMATCHED", "u8", "7"]);
    await sh(["-d", "test.trk.a"]);
    await sh(["-D", "test.trk."]);
    await sh(["-d", "other.trkZ"]);
    await settleMicrotasks();
    stdin.end();
  };
  assertEquals(await done, {
    out: `Type "q" to finish
create> test.trk.a (u32) = 1
modify> test.trk.a (u32) = 2
modify> test.trk.a (str) = two
create> test.trk.b (bin)
create> test.trk.c (dbl) = 1.500000
create> other.trkZ (u8) = 7
delete> test.trk.a (str) = two
delete> test.trk.b (bin)
delete> test.trk.c (dbl) = 1.500000
delete> other.trkZ (u8) = 7
`,
    err: "",
    exit: 0,
  });
});
