/**
 * listenTcp() fails where corosync-qnetd's nss_sock_create_listen_socket() fails, with the
 * NSPR error the C daemon logs (tests/daemon/lifecycle_test.ts compares whole start-ups with
 * the real daemon). Ports: ephemeral ones the test takes itself.
 */
import assert from "node:assert/strict";
import { ListenError, listenTcp, NSPR_ERRORS } from "../../net/listen_socket.ts";

function failure(fn: () => unknown): ListenError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ListenError, String(error));
    return error;
  }
  assert.fail("listenTcp() did not fail");
}

Deno.test("listenTcp() listens on the -l address, or the family's wildcard", () => {
  using a = listenTcp({ host: "127.0.0.1", family: "any", port: 0 });
  assert.equal(a.addr.hostname, "127.0.0.1");
  using b = listenTcp({ host: undefined, family: "ipv4", port: 0 });
  assert.equal(b.addr.hostname, "0.0.0.0");
  using c = listenTcp({ host: undefined, family: "ipv6", port: 0 });
  assert.equal(c.addr.hostname, "::");
  using d = listenTcp({ host: "::1", family: "any", port: 0 });
  assert.equal(d.addr.hostname, "::1");
});

Deno.test("listenTcp() words a taken port as NSPR does: in use (wildcard), not available (-l)", () => {
  using taken = Deno.listen({ hostname: "::", port: 0 });
  const port = taken.addr.port;
  const wildcard = failure(() => listenTcp({ host: undefined, family: "any", port }));
  assert.equal(wildcard.message, "NSS error (-5982): Local Network address is in use");
  assert.ok(wildcard.cause instanceof Deno.errors.AddrInUse);
  const named = failure(() => listenTcp({ host: "::1", family: "any", port }));
  assert.equal(named.message, "NSS error (-5986): Network address not available (in use?)");
  assert.equal(named.code, NSPR_ERRORS.addressNotAvailable.code);
});

Deno.test("listenTcp() refuses -6 with any -l, and -4 with an IPv6 -l, before binding", () => {
  for (const host of ["127.0.0.1", "::1", "localhost"]) {
    const error = failure(() => listenTcp({ host, family: "ipv6", port: 0 }));
    assert.equal(error.message, "NSS error (-5987): Invalid function argument");
  }
  const error = failure(() => listenTcp({ host: "::1", family: "ipv4", port: 0 }));
  assert.equal(
    error.message,
    "NSS error (-5973): A directory lookup on a network address has failed",
  );
});

Deno.test("listenTcp() calls an address that is not local not available", () => {
  // 192.0.2.1 (TEST-NET-1) is on no interface here: bind() gives EADDRNOTAVAIL, no packet leaves.
  const error = failure(() => listenTcp({ host: "192.0.2.1", family: "any", port: 0 }));
  assert.equal(error.message, "NSS error (-5986): Network address not available (in use?)");
  assert.ok(error.cause instanceof Deno.errors.AddrNotAvailable);
});
