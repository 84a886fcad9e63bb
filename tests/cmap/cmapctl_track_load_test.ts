import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RecordingIo } from "../../cli/io.ts";
import { CmapStore } from "../../core/cmap/store.ts";
import type { StoreBackend } from "../../core/cmap/store_backend.ts";
import {
  BIN1,
  bytes,
  CMAP_TRANSCRIPTS_DIR,
  cmapctl,
  corosyncStore,
  FakeStdin,
  settleMicrotasks,
} from "../support/mod.ts";

/** Runs a tracker while `changes` runs, then ends its input. */
async function tracking(
  store: CmapStore,
  args: string[],
  changes: (sh: (args: string[]) => Promise<unknown>) => Promise<void>,
) {
  const stdin = new FakeStdin([], new Uint8Array(0), true);
  const files = new Map([["bin1.dat", BIN1], ["ab.dat", bytes("AB")]]);
  stdin.onFirstRead = async () => {
    await changes((a) => cmapctl(store, a, { files }));
    await settleMicrotasks();
    stdin.end();
  };
  return await cmapctl(store, args, { stdin });
}

Deno.test("cmapctl main() -b -t tracks exact keys, created later, as in 09", async () => {
  const store = corosyncStore();
  const ran = await tracking(store, ["-b", "-t", "test.ex.key", "test.ex.bin"], async (sh) => {
    await sh(["-s", "test.ex.key", "u16", "10"]);
    await sh(["-s", "test.ex.key.child", "u16", "11"]);
    await sh(["-s", "test.ex.keyX", "u16", "12"]);
    await sh(["-s", "test.ex", "u16", "13"]);
    await sh(["-s", "test.ex.key", "i64", "--", "-5"]);
    await sh(["-s", "test.ex.bin", "bin", "bin1.dat"]);
    await sh(["-s", "test.ex.bin", "bin", "ab.dat"]);
    await sh(["-d", "test.ex.bin"]);
    await sh(["-D", "test.ex"]);
    await sh(["-s", "test.ex.key", "u16", "10"]);
    await sh(["-d", "test.ex.key"]);
  });
  assertEquals(ran, {
    out: `Type "q" to finish
create> test.ex.key (u16) = 10
modify> test.ex.key (i64) = -5
create> test.ex.bin (bin) = AB\\\\C\\x00\\x01\\x1F ~\\x7F\\xFFFFFF80\\xFFFFFFFF\\x0A\\x09z
modify> test.ex.bin (bin) = AB
delete> test.ex.bin (bin) = AB
delete> test.ex.key (i64) = -5
create> test.ex.key (u16) = 10
delete> test.ex.key (u16) = 10
`,
    err: "",
    exit: 0,
  });
});

Deno.test("cmapctl main() -T '' tracks everything and -t '' nothing (17)", async () => {
  const change = async (sh: (args: string[]) => Promise<unknown>) => {
    await sh(["-s", "test.empty.trk", "u8", "1"]);
    await sh(["-d", "test.empty.trk"]);
  };
  assertEquals(
    (await tracking(corosyncStore(), ["-T", ""], change)).out,
    'Type "q" to finish\ncreate> test.empty.trk (u8) = 1\ndelete> test.empty.trk (u8) = 1\n',
  );
  assertEquals((await tracking(corosyncStore(), ["-t", ""], change)).out, 'Type "q" to finish\n');
});

Deno.test("cmapctl main() tracking ends on q, on end of input, and on a lost daemon (18)", async () => {
  const store = corosyncStore();
  assertEquals(await cmapctl(store, ["-T", "test."]), {
    out: 'Type "q" to finish\n',
    err: "",
    exit: 0,
  });
  const q = new FakeStdin(["x", "quit"], new Uint8Array(0), true);
  assertEquals(await cmapctl(store, ["-q", "-T", "test."], { stdin: q }), {
    out: 'Type "q" to finish\n',
    err: "",
    exit: 0,
  });
  let backend: StoreBackend | undefined;
  const stdin = new FakeStdin([], new Uint8Array(0), true);
  stdin.onFirstRead = async () => {
    store.set("runtime.x.y", { type: "u8", value: 1 });
    await settleMicrotasks();
    backend!.disconnect();
  };
  assertEquals(await cmapctl(store, ["-T", "runtime."], { stdin, onConnect: (b) => backend = b }), {
    out: 'Type "q" to finish\ncreate> runtime.x.y (u8) = 1\n',
    err: "Dispatch error CS_ERR_LIBRARY\n",
    exit: 0,
  });
});

Deno.test("cmapctl main() without a daemon fails to initialize (18)", async () => {
  for (const args of [["-g", "totem.version"], []]) {
    assertEquals(await cmapctl(new CmapStore(), args, { down: true }), {
      out: "",
      err: "Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n",
      exit: 1,
    });
  }
  assertEquals((await cmapctl(new CmapStore(), ["-h"], { down: true })).exit, 0);
});

const LOAD1 = `# comment line
   # indented comment

   
test.load.a u32 42
   test.load.indented str indented
test.load.s str hello world
test.load.multi   u8    7
test.load.neg i32 -5
test.load.x u8 1 # trailing comment is just ignored extra token
^test.load.todelete
^test.load.notexisting
^^test.load.pfx
test.load.last dbl 2.5
`;

function loadStore(): CmapStore {
  const store = corosyncStore();
  for (
    const key of ["test.load.todelete", "test.load.pfx.a", "test.load.pfx.b", "test.load.pfxX"]
  ) {
    store.set(key, { type: "u8", value: 1 });
  }
  return store;
}

Deno.test("cmapctl main() -p loads the 12-load-file example", async () => {
  const store = loadStore();
  const files = new Map([["load1.txt", bytes(LOAD1)]]);
  assertEquals(await cmapctl(store, ["-p", "load1.txt"], { files }), {
    out: "",
    err: "Can't delete key test.load.notexisting. Error CS_ERR_NOT_EXIST\n",
    exit: 0,
  });
  assertEquals(
    (await cmapctl(store, ["test.load"])).out,
    `test.load.a (u32) = 42
test.load.indented (str) = indented
test.load.last (dbl) = 2.500000
test.load.multi (u8) = 7
test.load.neg (i32) = -5
test.load.s (str) = hello
test.load.x (u8) = 1
`,
  );
});

Deno.test("cmapctl main() -p errors leave the map unchanged", async () => {
  const cases: [string, string][] = [
    ["test.load.tab\tu8 1\n", "Both type and value for key test.load.tab\tu8 are required\n"],
    [
      "test.load.b u8 1\ntest.load.c u8\ntest.load.d u8 2\n",
      "Both type and value for key test.load.c are required\n",
    ],
    ["test.load.e u8 1\ntest.load.f xx 1\ntest.load.g u8 2\n", "Unknown type xx\n"],
    ["test.load.h u8 1\ntest.load.i u8 300\ntest.load.j u8 2\n", "300 is not valid u8 integer\n"],
    [
      "test.load.k u8 1\ntotem.cluster_name str x\ntest.load.l u8 2\n",
      "Failed to set key totem.cluster_name. Error CS_ERR_ACCESS\n",
    ],
    [
      "^^test.load.pfx\ntest.load.m u8 1\nab u8 1\n",
      "Failed to set key ab. Error CS_ERR_NAME_TOO_LONG\n",
    ],
    ["test.load.n u8 1\n^^\n", "Line 2: '^^' needs a key prefix\n"],
    [`test.load.o str ${"x".repeat(1010)}\n`, "Line 1 is longer than 1023 bytes\n"],
    ["test.load.p bin nofile.dat\n", "Can't open input file: No such file or directory\n"],
    ["test.load.q i32 12abc\n", "12abc is not valid i32 type value\n"],
  ];
  for (const [text, err] of cases) {
    const store = loadStore();
    const before = (await cmapctl(store, [])).out;
    const events: string[] = [];
    using _track = store.track("", 15, (n) => events.push(n.key));
    const files = new Map([["f.txt", bytes(text)]]);
    assertEquals(await cmapctl(store, ["-p", "f.txt"], { files }), { out: "", err, exit: 1 }, text);
    assertEquals((await cmapctl(store, [])).out, before);
    assertEquals(events, []);
  }
});

Deno.test("cmapctl main() -p handles missing newline, delete errors, bin files and missing files", async () => {
  const store = loadStore();
  const files = new Map([
    ["load6.txt", bytes("test.load.noeol u8 9")],
    [
      "load7.txt",
      bytes("^^test.load.nothing extra tokens ignored\n^totem.version\ntest.load.after u8 3\n"),
    ],
    ["load8.txt", bytes("test.load.bin bin bin1.dat\n")],
    ["bin1.dat", BIN1],
  ]);
  assertEquals(await cmapctl(store, ["-p", "load6.txt", "foo", "bar"], { files }), {
    out: "",
    err: "",
    exit: 0,
  });
  assertEquals((await cmapctl(store, ["-g", "test.load.noeol"])).out, "test.load.noeol (u8) = 9\n");
  assertEquals(await cmapctl(store, ["-p", "load7.txt"], { files }), {
    out: "",
    err: "Can't delete key totem.version. Error CS_ERR_ACCESS\n",
    exit: 0,
  });
  assertEquals((await cmapctl(store, ["-g", "test.load.after"])).out, "test.load.after (u8) = 3\n");
  assertEquals((await cmapctl(store, ["-p", "load8.txt"], { files })).exit, 0);
  assertEquals((await cmapctl(store, ["-g", "test.load.bin"])).out, "test.load.bin (bin)\n");
  // Deviation: the C tool exits 0 here.
  assertEquals(await cmapctl(store, ["-p", "nope.txt"], { files }), {
    out: "",
    err: "Couldn't open file.: No such file or directory\n",
    exit: 1,
  });
  assertEquals(await cmapctl(store, ["-p"]), {
    out: "",
    err: "corosync-cmapctl: option requires an argument -- 'p'\n",
    exit: 1,
  });
});

Deno.test("cmapctl main() options: help, errors, maps, -C, last action wins (14)", async () => {
  const store = corosyncStore();
  const help = await cmapctl(store, ["-h", "-g", "totem.version"]);
  assertEquals(help.exit, 0);
  assertEquals(help.err, "");
  assertEquals(help.out.split("\n").slice(0, 3), [
    "",
    "usage:  corosync-cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]",
    "",
  ]);
  const transcript = await Deno.readTextFile(
    new URL("14-help-options-clear.txt", CMAP_TRANSCRIPTS_DIR),
  );
  const recorded = transcript.slice(
    transcript.indexOf("$ corosync-cmapctl -h\n") + 22,
    transcript.indexOf("[exit 0]"),
  );
  assertEquals(help.out, recorded);
  for (
    const [args, err] of [
      [["-x"], "corosync-cmapctl: invalid option -- 'x'\n"],
      [["--help"], "corosync-cmapctl: invalid option -- '-'\n"],
      [["-m"], "corosync-cmapctl: option requires an argument -- 'm'\n"],
      [["-C"], "corosync-cmapctl: option requires an argument -- 'C'\n"],
      [["-C", "bogus"], "argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'\n"],
      [["-m", "nope"], "invalid map name, must be 'default', 'icmap' or 'stats'\n"],
    ] as const
  ) {
    assertEquals(await cmapctl(store, [...args]), { out: "", err, exit: 1 });
  }
  const stats = new CmapStore();
  stats.set("stats.srp.mcast_tx", { type: "u64", value: 0n });
  assertEquals(
    (await cmapctl(store, ["-m", "stats", "-g", "stats.srp.mcast_tx"], { stats })).out,
    "stats.srp.mcast_tx (u64) = 0\n",
  );
  assertEquals(
    (await cmapctl(store, ["-mstats", "-g", "totem.version"], { stats })).err,
    "Can't get key totem.version. Error CS_ERR_NOT_EXIST\n",
  );
  assertEquals(
    (await cmapctl(store, ["-m", "default", "-g", "stats.srp.mcast_tx"], { stats })).exit,
    1,
  );
  const clears: string[] = [];
  using _t = stats.track("stats.clear.", 15, (n) => clears.push(n.key));
  assertEquals(await cmapctl(store, ["-C", "totem"], { stats }), { out: "", err: "", exit: 0 });
  assertEquals(clears, ["stats.clear.totem"]);
  assertEquals(await cmapctl(store, ["-g", "-s", "test.last.wins", "u8", "1"]), {
    out: "",
    err: "",
    exit: 0,
  });
  assertEquals(
    (await cmapctl(store, ["-s", "-g", "test.last.wins"])).out,
    "test.last.wins (u8) = 1\n",
  );
  assertEquals(
    (await cmapctl(store, ["-d", "-g", "test.last.wins"])).out,
    "test.last.wins (u8) = 1\n",
  );
  assertEquals((await cmapctl(store, ["-g", "-d", "test.last.wins"])).exit, 0);
  assertEquals(store.has("test.last.wins"), false);
  assertEquals((await cmapctl(store, ["totem.version", "-q"])).out, "2\n");
  assertEquals((await cmapctl(store, ["totem.version", "-g"])).out, "totem.version (u32) = 2\n");
  const io = new RecordingIo();
  assertEquals((await cmapctl(store, ["-qb", "totem.v"], { io })).out, "2\n");
});
