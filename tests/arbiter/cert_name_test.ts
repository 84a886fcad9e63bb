import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { certNameMatches, testHostName } from "../../core/arbiter/cert_name.ts";

const enc = new TextEncoder();

Deno.test({
  name: "testHostName() matches as NSS cert_TestHostName: case, wildcards",
  permissions: "none",
  fn() {
    const cases: [string, string, boolean][] = [
      ["Cluster", "cluster", true],
      ["debian", "debian", true],
      ["debian", "other", false],
      ["*.example.com", "node.example.com", true],
      ["*.example.com", "a.b.example.com", false],
      ["*.example.com", "example.com", false],
      ["*.com", "a.com", false],
      ["no*.example.com", "node.example.com", true],
      ["*.example.com", "xn--node.example.com", true],
      ["x*.example.com", "xn--node.example.com", false],
      ["*", "anything", false],
      ["", "", true],
    ];
    for (const [cn, host, expected] of cases) {
      assertEquals(testHostName(enc.encode(cn), enc.encode(host)), expected, `${cn} vs ${host}`);
    }
  },
});

Deno.test({
  name: "certNameMatches() accepts any of the names and stops the cluster name at NUL",
  permissions: "none",
  fn() {
    assertEquals(certNameMatches(["a", "Debian"], enc.encode("debian")), true);
    assertEquals(certNameMatches([], enc.encode("debian")), false);
    assertEquals(certNameMatches(["deb"], new Uint8Array([100, 101, 98, 0, 120])), true);
  },
});
