/**
 * The namespace plumbing of the interop harness on its own (root only): hosts get their
 * addresses, links go down and up at the switch, and leftovers of dead runs are swept.
 */
import assert from "node:assert/strict";
import {
  hostAddress,
  interopSkipReason,
  interopTest,
  Lab,
  run,
  sweepStaleLabs,
} from "../support/mod.ts";

const skip = await interopSkipReason();

async function namespaces(): Promise<string[]> {
  const list = await run(["ip", "netns", "list"]);
  return list.stdout.split("\n").map((l) => l.split(" ")[0] ?? "").filter((n) => n !== "");
}

/** Whether interface `ifName` in `ns` has a carrier (its veth peer at the switch is up). */
async function hasCarrier(ns: string, ifName: string): Promise<boolean> {
  const shown = await run(["ip", "-n", ns, "-o", "link", "show", ifName]);
  return !/[<,]NO-CARRIER[,>]/.test(shown.stdout);
}

interopTest(skip, "Lab.setLink() takes one host's port down and up again", async () => {
  let names: string[];
  {
    await using lab = await Lab.create();
    const a = await lab.addHost("a", 1, ["cluster", "arbiter"]);
    const b = await lab.addHost("b", 2, ["cluster"]);
    names = [a, b, `${lab.prefix}-sw`];
    assert.ok((await namespaces()).includes(a));
    const addrs = await run(["ip", "-n", a, "-o", "addr", "show"]);
    assert.match(addrs.stdout, new RegExp(`eth0 +inet ${hostAddress("cluster", 1)}/24`));
    assert.match(addrs.stdout, new RegExp(`eth1 +inet ${hostAddress("arbiter", 1)}/24`));

    await lab.setLink("a", "cluster", false);
    // The peer of a downed veth loses its carrier; the other host and network are untouched.
    assert.equal(await hasCarrier(a, "eth0"), false);
    assert.equal(await hasCarrier(b, "eth0"), true);
    assert.equal(await hasCarrier(a, "eth1"), true);
    await lab.setLink("a", "cluster", true);
    assert.equal(await hasCarrier(a, "eth0"), true);
    await assert.rejects(lab.setLink("b", "arbiter", false), RangeError);
  }
  const left = await namespaces();
  for (const name of names) assert.ok(!left.includes(name), `${name} was not deleted`);
});

interopTest(
  skip,
  "sweepStaleLabs() removes namespaces and directories of dead runs only",
  async () => {
    // The pid of a process that has exited: its leftovers are stale.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const staleNs = `qnt-${gone.pid}-9-sw`;
    const liveNs = `qnt-${Deno.pid}-sweeptest`;
    const tmp = await Deno.makeTempDir({ prefix: `qnt-${Deno.pid}-sweep-` });
    try {
      await run(["ip", "netns", "add", staleNs]);
      await run(["ip", "netns", "add", liveNs]);
      await Deno.mkdir(`${tmp}/qnt-${gone.pid}-9-x/sub`, { recursive: true });
      await Deno.mkdir(`${tmp}/qnt-${Deno.pid}-9-y`);

      // Just created, so a minimum age of 0 is needed to see them swept.
      assert.deepEqual(
        (await sweepStaleLabs(tmp)).filter((r) => r === staleNs || r.startsWith(tmp)),
        [],
      );
      const removed = await sweepStaleLabs(tmp, 0);
      // Other dead runs' leftovers may be swept too; ours must be, the live ones must not.
      assert.ok(removed.includes(staleNs) && removed.includes(`${tmp}/qnt-${gone.pid}-9-x`));
      assert.ok(!removed.includes(liveNs) && !removed.includes(`${tmp}/qnt-${Deno.pid}-9-y`));
      const left = await namespaces();
      assert.ok(!left.includes(staleNs));
      assert.ok(left.includes(liveNs));
      assert.ok(Deno.statSync(`${tmp}/qnt-${Deno.pid}-9-y`).isDirectory);
    } finally {
      await run(["ip", "netns", "del", staleNs], { check: false });
      await run(["ip", "netns", "del", liveNs], { check: false });
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
