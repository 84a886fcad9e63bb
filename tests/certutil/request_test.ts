import assert from "node:assert/strict";
import { parseCertificateRequest } from "../../core/certs/request.ts";
import { CertificateRequestError } from "../../core/certs/errors.ts";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { generateKeyPair } from "../../core/certs/keys.ts";
import {
  needRealTools,
  ours,
  pathExists,
  runCommand,
  Scratch,
  testNeeding,
} from "../support/mod.ts";

const NEED = needRealTools();

/** A real node request: qnetd `-i`, node `-i -c` and `-r -n Cluster1` with the C tools. */
async function realRequest(s: Scratch): Promise<Uint8Array<ArrayBuffer>> {
  for (
    const r of [
      await s.qnetd("-i"),
      await s.node("-i", "-c", `${s.realDb}/qnetd-cacert.crt`),
      await s.node("-r", "-n", "Cluster1"),
    ]
  ) assert.equal(r.code, 0, r.stderr);
  return await Deno.readFile(`${s.nodeDb}/qdevice-net-node.crq`);
}

function rejects(message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof CertificateRequestError && message.test(e.message);
}

testNeeding(NEED, {
  name: "parseCertificateRequest() reads and verifies the DER request of the real node tool",
  async fn() {
    await using s = await Scratch.create();
    const request = await parseCertificateRequest(await realRequest(s), "node.crq");
    assert.equal(request.subject, "CN=Cluster1");
  },
});

testNeeding(NEED, {
  name: "parseCertificateRequest() rejects a PEM request and says how to convert it",
  async fn() {
    await using s = await Scratch.create();
    await realRequest(s);
    const crq = `${s.nodeDb}/qdevice-net-node.crq`;
    const r = await runCommand("openssl", [
      "req",
      "-inform",
      "DER",
      "-in",
      crq,
      "-out",
      `${s.root}/req.pem`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(
      parseCertificateRequest(await Deno.readFile(`${s.root}/req.pem`), "req.pem"),
      rejects(/req\.pem is PEM.*openssl req -inform PEM -outform DER/),
    );
  },
});

testNeeding(NEED, {
  name: "parseCertificateRequest() rejects a request whose signature does not verify",
  async fn() {
    await using s = await Scratch.create();
    const der = await realRequest(s);
    const damaged = der.slice();
    damaged[damaged.length - 1]! ^= 0x01; // last byte of the signature
    await assert.rejects(
      parseCertificateRequest(damaged, "bad.crq"),
      rejects(/signature of certificate request bad\.crq does not verify/),
    );
    const otherSubject = der.slice();
    const at = new TextDecoder("latin1").decode(der).indexOf("Cluster1");
    otherSubject[at] = "K".charCodeAt(0); // signed data changed, signature kept
    await assert.rejects(
      parseCertificateRequest(otherSubject, "k.crq"),
      rejects(/does not verify/),
    );
  },
});

Deno.test("parseCertificateRequest() rejects empty, garbage and truncated input", async () => {
  await assert.rejects(parseCertificateRequest(new Uint8Array(), "e.crq"), rejects(/is empty/));
  await assert.rejects(
    parseCertificateRequest(new TextEncoder().encode("not a request at all"), "g.crq"),
    rejects(/Cannot parse certificate request g\.crq/),
  );
  await assert.rejects(
    parseCertificateRequest(Uint8Array.of(0x30, 0x82, 0x02, 0x58, 0x30), "t.crq"),
    rejects(/Cannot parse certificate request t\.crq/),
  );
});

/** A DER request for `name`, made with a fresh key. */
async function requestFor(name: x509.JsonName | string): Promise<Uint8Array<ArrayBuffer>> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys: await generateKeyPair(),
    signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  });
  return new Uint8Array(csr.rawData);
}

Deno.test("parseCertificateRequest() refuses two CNs or a NUL in a subject name, saying why", async () => {
  await assert.rejects(
    parseCertificateRequest(await requestFor("CN=clusterX, CN=clusterA"), "two.crq"),
    rejects(/two\.crq has 2 CNs in its subject \("clusterX", "clusterA"\): corosync-qnetd/),
  );
  await assert.rejects(
    parseCertificateRequest(await requestFor([{ CN: ["clusterX", "clusterA"] }]), "rdn.crq"),
    rejects(/rdn\.crq has 2 CNs/),
  );
  await assert.rejects(
    parseCertificateRequest(await requestFor([{ CN: ["clusterA\0.evil"] }]), "nul.crq"),
    rejects(/nul\.crq has a NUL character in its subject's CN "clusterA\\u0000\.evil"/),
  );
  await assert.rejects(
    parseCertificateRequest(await requestFor([{ O: ["a\0b"] }, { CN: ["c1"] }]), "o.crq"),
    rejects(/o\.crq has a NUL character in its subject's O/),
  );
  const one = await parseCertificateRequest(await requestFor("O=QNet, CN=c1"), "one.crq");
  assert.equal(one.subject, "O=QNet, CN=c1");
});

Deno.test("qnet certutil -s refuses a request with two CNs: exit 1, no certificate, no serial used", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qnet-certnames-sign-" });
  try {
    const init = await ours(["-d", dir, "-i"]);
    assert.equal(init.code, 0, init.stderr);
    const serial = await Deno.readTextFile(`${dir}/serial.txt`);
    const crq = `${dir}/two.crq`;
    await Deno.writeFile(crq, await requestFor("CN=clusterX, CN=clusterA"));
    const r = await ours(["-d", dir, "-s", "-c", crq, "-n", "clusterA"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /has 2 CNs in its subject/);
    assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), serial);
    assert.equal(pathExists(`${dir}/cluster-clusterA.crt`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
