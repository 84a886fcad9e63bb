/**
 * sd_notify, against our daemon and the real corosync-qnetd with the same test body: started
 * as systemd starts a `Type=notify` service (Debian's unit for corosync-qnetd is one), with
 * `NOTIFY_SOCKET` naming a socket path or an abstract name, each daemon sends exactly
 * `READY=1`, once, and only when it serves: at that moment a TCP client is accepted. A
 * notify socket nobody listens on costs our daemon a warning, never its service.
 *
 * Outcomes are asserted, never durations; every wait has a bound.
 */
import assert from "node:assert/strict";
import {
  ARBITER_KINDS,
  freePort,
  needKind,
  NotifyReceiver,
  startArbiter,
  testNeeding,
} from "../support/mod.ts";

/** How long a daemon may take to start (a bound on a hang, not a latency). */
const START_TIMEOUT_MS = 30_000;

for (const kind of ARBITER_KINDS) {
  for (const abstract of [false, true]) {
    const where = abstract ? "an abstract name" : "a socket path";
    testNeeding(
      needKind(kind),
      `${kind}: READY=1 on NOTIFY_SOCKET (${where}) once it serves`,
      async () => {
        const dir = await Deno.makeTempDir({ prefix: "qnet-notify-" });
        const address = abstract
          ? `@qnet-notify-test-${Deno.pid}-${crypto.randomUUID()}`
          : `${dir}/notify`;
        using receiver = new NotifyReceiver(address);
        const port = freePort(47060, 47099);
        const starting = startArbiter(kind, {
          port,
          args: ["-s", "off"],
          env: { NOTIFY_SOCKET: receiver.address },
        });
        starting.catch(() => {}); // awaited below; the receiver's wait comes first
        const state = await receiver.next(START_TIMEOUT_MS);
        // At READY=1 the daemon must accept clients already.
        let accepted = false;
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          accepted = true;
        } catch {
          // Refused: READY=1 came too early.
        }
        await using arbiter = await starting;
        assert.equal(state, "READY=1", `no READY=1 from ${kind}:\n${arbiter.stderr()}`);
        assert.ok(accepted, `${kind} sent READY=1 before it accepted clients`);
        await arbiter.assertServing();
        assert.equal(await receiver.next(500), undefined, `${kind} notified more than once`);
        await Deno.remove(dir, { recursive: true });
      },
    );
  }
}

testNeeding(
  undefined,
  "qnet: a NOTIFY_SOCKET nobody listens on is a warning, not a failure",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qnet-notify-" });
    const port = freePort(47060, 47099);
    await using arbiter = await startArbiter("qnet", {
      port,
      args: ["-s", "off"],
      env: { NOTIFY_SOCKET: `${dir}/nobody` },
    });
    await arbiter.assertServing();
    assert.match(
      arbiter.stderr(),
      /warning +Can't notify systemd \(.*\/nobody\): No such file or directory/,
    );
    await Deno.remove(dir, { recursive: true });
  },
);
