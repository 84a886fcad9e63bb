import assert from "node:assert/strict";
import { sockaddrUn, UnixDatagramError, UnixDatagramSender } from "../../net/unix_datagram.ts";
import { NotifyReceiver } from "../support/mod.ts";

Deno.test("sockaddrUn(): family, then the path with its NUL, or NUL and the abstract name", () => {
  assert.deepEqual([...sockaddrUn("/a")], [1, 0, 0x2f, 0x61, 0]);
  assert.deepEqual([...sockaddrUn("@a")], [1, 0, 0, 0x61]);
  // sun_path is 108 bytes: 107 and a NUL fit, 108 do not.
  assert.equal(sockaddrUn(`/${"x".repeat(106)}`).length, 2 + 108);
  assert.throws(() => sockaddrUn(`/${"x".repeat(107)}`), UnixDatagramError);
  assert.throws(() => sockaddrUn(""), UnixDatagramError);
  assert.throws(() => sockaddrUn("@"), UnixDatagramError);
});

Deno.test("UnixDatagramSender: datagrams arrive whole; a missing or full receiver is a reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const address of [`${dir}/sock`, `@qnet-datagram-test-${crypto.randomUUID()}`]) {
      using receiver = new NotifyReceiver(address);
      using sender = UnixDatagramSender.open(address);
      assert.equal(sender.send(new TextEncoder().encode("one")), undefined);
      assert.equal(sender.send(new TextEncoder().encode("two")), undefined);
      assert.equal(await receiver.next(1000), "one");
      assert.equal(await receiver.next(1000), "two");
    }
    using nowhere = UnixDatagramSender.open(`${dir}/nobody`);
    assert.equal(nowhere.send(new Uint8Array(1)), "No such file or directory");
    // A receiver that never reads: once its queue is full the sender is told so at once
    // (non-blocking), never held up. Bounded: at most 100,000 datagrams.
    using stuck = new NotifyReceiver(`${dir}/stuck`);
    using sender = UnixDatagramSender.open(stuck.address);
    let refused: string | undefined;
    for (let i = 0; i < 100_000 && refused === undefined; i++) {
      refused = sender.send(new Uint8Array(1024));
    }
    assert.equal(refused, "Resource temporarily unavailable");
    sender.close();
    assert.equal(sender.send(new Uint8Array(1)), "socket closed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
