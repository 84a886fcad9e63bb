import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { certNameMatches, escapeName, testHostName } from "../../core/arbiter/cert_name.ts";
import { parseIpLiteral } from "../../core/arbiter/ip_literal.ts";
import type { AltName, PeerCertNames } from "../../core/certs/peer_names.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function dns(name: string): AltName {
  return { kind: "dns", value: enc.encode(name) };
}

function names(altNames: AltName[] | undefined, cn?: string | Uint8Array): PeerCertNames {
  return {
    altNames,
    commonName: typeof cn === "string" ? enc.encode(cn) : cn,
  };
}

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
  name: "escapeName() escapes as alg1485.c: hex for control bytes, quotes only SAN names",
  permissions: "none",
  fn() {
    const cases: [string, boolean, string][] = [
      ["clusterA\0.evil", false, "clusterA\\00.evil"],
      ["a\x7fb", false, "a\\7fb"],
      ['a"b\\c', false, 'a\\"b\\\\c'],
      ["a,b", false, "a,b"],
      ["a,b", true, '"a,b"'],
      [" a", true, '" a"'],
      ["a  b", true, '"a  b"'],
      ["a b", true, "a b"],
      ["plain", true, "plain"],
      ['a"b', true, 'a\\"b'],
      ["a\\b", true, "a\\\\b"],
      ["a\nb", true, "a\\0ab"],
      ["\n a", true, '"\\0a a"'],
    ];
    for (const [input, quote, expected] of cases) {
      assertEquals(dec.decode(escapeName(enc.encode(input), quote)), expected, input);
    }
  },
});

Deno.test({
  name: "certNameMatches() follows CERT_VerifyCertName: SAN first, last CN as fallback",
  permissions: "none",
  fn() {
    const cases: [string, PeerCertNames, string, boolean][] = [
      ["the CN", names(undefined, "clusterA"), "clusterA", true],
      ["a NUL in the CN", names(undefined, "clusterA\0.evil"), "clusterA", false],
      ["the escaped CN, literally", names(undefined, "clusterA\0.evil"), "clusterA\\00.evil", true],
      ["a SAN DNS name", names([dns("clusterA")], "other"), "clusterA", true],
      ["a SAN DNS name hides the CN", names([dns("other")], "clusterA"), "clusterA", false],
      ["a SAN without DNS names", names([{ kind: "other" }], "clusterA"), "clusterA", true],
      ["a quoted SAN name", names([dns("a,b")], "x"), "a,b", false],
      ["the same name as CN", names(undefined, "a,b"), "a,b", true],
      ["no name at all", names(undefined), "clusterA", false],
      ["an empty cluster name", names(undefined, ""), "", false],
      ["the cluster name stops at NUL", names(undefined, "deb"), "deb\0x", true],
      ["an IP cluster name and SAN DNS", names([dns("10.0.0.1")], "10.0.0.1"), "10.0.0.1", true],
      ["an IP cluster name and SAN DNS only", names([dns("10.0.0.1")], "x"), "10.0.0.1", false],
      [
        "an IP cluster name and a SAN address",
        names([{ kind: "ip", value: Uint8Array.of(10, 0, 0, 1) }], "x"),
        "10.0.0.1",
        true,
      ],
      [
        "an IPv4-mapped SAN address",
        names([{ kind: "ip", value: Uint8Array.of(...Array(10).fill(0), 255, 255, 10, 0, 0, 1) }]),
        "10.0.0.1",
        true,
      ],
      ["no wildcard for IP names", names(undefined, "*.0.0.1"), "10.0.0.1", false],
    ];
    for (const [what, certNames, cluster, expected] of cases) {
      assertEquals(certNameMatches(certNames, enc.encode(cluster)), expected, what);
    }
  },
});

Deno.test({
  name: "parseIpLiteral() agrees with NSPR's PR_StringToNetAddr on glibc",
  permissions: "none",
  fn() {
    // Outcomes of PR_StringToNetAddr() (libnspr4 4.35, glibc 2.36) for these strings.
    const ip = [
      "123",
      "1.2.3.4",
      "1.2.3.4 x",
      "0x1f",
      "010",
      "1.256",
      "4294967296",
      "99999999999",
      "1.2.3.04",
      "1 ",
      "::1",
      "::ffff:1.2.3.4",
      "::1.2.3.08",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::",
      "::",
      "1:2:3:4:5:6:1.2.3.4",
      "0001:2::",
      "fe80::1%1",
      "::1%0",
      "fe80::1%4294967295",
    ];
    const not = [
      "1.2.3.4x",
      "08",
      "1.2.3.4.5",
      "",
      " 1",
      "0x",
      "1..2",
      "1.",
      ".1",
      "::1.2.3.256",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      ":1",
      "1:",
      "::1 ",
      "1:2:3:4:5:6:7:1.2.3.4",
      "00001::",
      "::1.2.3",
      "fe80::1%1x",
      "fe80::1%",
      "1.2.3.4%1",
      "fe80::1%99999999999",
      "clusterA",
    ];
    for (const s of ip) assertEquals(parseIpLiteral(enc.encode(s)) !== undefined, true, s);
    for (const s of not) assertEquals(parseIpLiteral(enc.encode(s)), undefined, s);
    assertEquals([...parseIpLiteral(enc.encode("1.2"))!], [1, 0, 0, 2]);
    assertEquals([...parseIpLiteral(enc.encode("0x7f.1"))!], [127, 0, 0, 1]);
    assertEquals([...parseIpLiteral(enc.encode("4294967297"))!], [0, 0, 0, 1]);
    assertEquals(
      [...parseIpLiteral(enc.encode("1::2"))!],
      [0, 1, ...Array(12).fill(0), 0, 2],
    );
  },
});
