import assert from "node:assert/strict";
import {
  asn1Layout,
  needAll,
  needRealTools,
  needRoot,
  ours,
  runCommand,
  type RunResult,
  Scratch,
  snapshot,
  testNeeding,
  withProgram,
} from "../support/mod.ts";

const NEED = needRealTools();

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

/** Our directory inside a scratch tree: `<root>/ours/nssdb`, parent created. */
async function oursDir(s: Scratch): Promise<string> {
  await Deno.mkdir(`${s.root}/ours`, { recursive: true });
  return `${s.root}/ours/nssdb`;
}

/** The real tool's server certificate, exported from its NSS DB as DER. */
async function realServerCert(s: Scratch): Promise<string> {
  const out = `${s.root}/real-server.der`;
  const cmd = new Deno.Command("certutil", {
    args: ["-L", "-d", s.realDb, "-n", "QNetd Cert", "-r"],
    stdout: "piped",
  });
  const result = await cmd.output();
  assert.ok(result.success, "certutil -L -r");
  await Deno.writeFile(out, result.stdout);
  return out;
}

async function x509Text(path: string, inform: "PEM" | "DER"): Promise<string> {
  const r = await runCommand("openssl", [
    "x509",
    "-inform",
    inform,
    "-in",
    path,
    "-noout",
    "-text",
  ]);
  ok(r, `openssl x509 ${path}`);
  return r.stdout;
}

/** The fields the brief compares, from `openssl x509 -text`. */
function fields(text: string): Record<string, string | undefined> {
  const get = (re: RegExp) => re.exec(text)?.[1]?.trim();
  const notBefore = get(/Not Before: (.*)/), notAfter = get(/Not After : (.*)/);
  const years = notBefore && notAfter
    ? new Date(notAfter).getUTCFullYear() - new Date(notBefore).getUTCFullYear()
    : undefined;
  const sameInstant = notBefore && notAfter
    ? notBefore.replace(/\d{4} GMT/, "") === notAfter.replace(/\d{4} GMT/, "")
    : false;
  return {
    version: get(/Version: (.*)/),
    serial: get(/Serial Number: (.*)/),
    signature: get(/Signature Algorithm: (.*)/),
    issuer: get(/Issuer: (.*)/),
    subject: get(/Subject: (.*)/),
    key: get(/Public-Key: (.*)/),
    exponent: get(/Exponent: (.*)/),
    extensions: text.includes("X509v3 extensions")
      ? text.slice(
        text.indexOf("X509v3 extensions"),
        text.indexOf("Signature Algorithm", text.indexOf("X509v3 extensions")),
      ).trim()
      : "none",
    validity: `${years} years, same time of day: ${sameInstant}`,
  };
}

testNeeding(NEED, {
  name: "main() prints the C usage for -h and when no operation is given",
  async fn() {
    await using s = await Scratch.create();
    const real = await s.qnetd("-h");
    for (const args of [["-h"], [], ["-G"], ["-n", "x", "-h", "-i"]]) {
      const r = await ours(args);
      assert.equal(r.code, real.code, args.join(" "));
      assert.ok(r.stdout.startsWith(withProgram(real.stdout, "qnet certutil")), args.join(" "));
      assert.equal(r.stderr, "");
    }
  },
});

testNeeding(NEED, {
  name: "main() rejects bad options and missing inputs with the C messages and exit codes",
  async fn() {
    await using s = await Scratch.create();
    const crq = `${s.root}/some.crq`;
    await Deno.writeFile(crq, Uint8Array.of(1, 2, 3));
    const cases = [
      ["-x"],
      ["-c"],
      ["-i", "-n"],
      ["-s", "-c", `${s.root}/missing.crq`, "-n", "c1"],
      ["-s", "-c", crq],
      ["-s", "-n", "c1"],
    ];
    for (const args of cases) {
      const real = await s.qnetd(...args);
      const r = await ours(["-d", `${s.root}/ours`, ...args]);
      assert.deepEqual(
        [r.code, r.stdout, r.stderr],
        [real.code, real.stdout, real.stderr],
        args.join(" "),
      );
    }
    assert.equal(await Deno.stat(`${s.root}/ours`).catch(() => null), null);
  },
});

testNeeding(NEED, {
  name: "main() -i makes CA and server certificates laid out byte for byte like the real tool's",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const dir = await oursDir(s);
    const r = await ours(["-d", dir, "-i"]);
    ok(r, "our -i");
    assert.equal(
      r.stdout,
      `Creating ${dir}\nCreating new CA\nQNetd CA certificate is exported as ${dir}/qnetd-cacert.crt\n`,
    );
    const realCa = `${s.realDb}/qnetd-cacert.crt`, realServer = await realServerCert(s);
    const pairs: [string, "PEM" | "DER", string, "PEM" | "DER"][] = [
      [realCa, "PEM", `${dir}/qnet-ca.pem`, "PEM"],
      [realCa, "PEM", `${dir}/qnetd-cacert.crt`, "PEM"],
      [realServer, "DER", `${dir}/qnetd-cert.pem`, "PEM"],
    ];
    for (const [real, realForm, mine, myForm] of pairs) {
      assert.equal(await asn1Layout(mine, myForm), await asn1Layout(real, realForm), mine);
      assert.deepEqual(
        fields(await x509Text(mine, myForm)),
        fields(await x509Text(real, realForm)),
        mine,
      );
    }
    const ca = fields(await x509Text(`${dir}/qnet-ca.pem`, "PEM"));
    assert.equal(ca.serial, "101 (0x65)");
    assert.equal(ca.key, "(2048 bit)");
    assert.match(ca.extensions!, /Basic Constraints: critical\s+CA:TRUE, pathlen:0$/);
    assert.equal(ca.validity, "100 years, same time of day: true");
    assert.equal(fields(await x509Text(`${dir}/qnetd-cert.pem`, "PEM")).serial, "102 (0x66)");
    assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), "102\n");
    // Not -x509_strict: the C layout (copied here) has no SKI/AKI/keyUsage, which strict mode wants.
    const verify = await runCommand("openssl", [
      "verify",
      "-CAfile",
      `${dir}/qnet-ca.pem`,
      `${dir}/qnetd-cert.pem`,
    ]);
    ok(verify, "openssl verify");
    const pub = await runCommand("openssl", [
      "x509",
      "-in",
      `${dir}/qnetd-cert.pem`,
      "-noout",
      "-pubkey",
    ]);
    const keyPub = await runCommand("openssl", ["pkey", "-in", `${dir}/qnetd-key.pem`, "-pubout"]);
    assert.equal(pub.stdout, keyPub.stdout);
  },
});

testNeeding(NEED, {
  name: "main() -i gives files the modes of the real tool, the server key 0640, the CA key 0600",
  async fn() {
    for (const extra of [[], ["-G"]]) {
      await using s = await Scratch.create();
      ok(await s.qnetd("-i", ...extra), "real -i");
      const dir = await oursDir(s);
      ok(await ours(["-d", dir, "-i", ...extra]), "our -i");
      const label = extra.join("") || "default";
      assert.equal(await mode(dir), await mode(s.realDb), `dir ${label}`);
      for (const f of ["serial.txt", "qnetd-cacert.crt"]) {
        assert.equal(await mode(`${dir}/${f}`), await mode(`${s.realDb}/${f}`), `${f} ${label}`);
      }
      for (const f of ["qnet-ca.pem", "qnetd-cert.pem"]) {
        assert.equal(
          await mode(`${dir}/${f}`),
          await mode(`${s.realDb}/cert9.db`),
          `${f} ${label}`,
        );
      }
      assert.equal(await mode(`${dir}/qnet-ca-key.pem`), 0o600, `CA key ${label}`);
      assert.equal(await mode(`${dir}/qnetd-key.pem`), 0o640, `server key ${label}`);
    }
  },
});

testNeeding(needAll(NEED, needRoot()), {
  name: "main() -i as root gives every file the owner of the directory's parent, as the C tool",
  async fn() {
    await using s = await Scratch.create();
    await Deno.chown(`${s.root}/qnetd`, 4242, 4243);
    ok(await s.qnetd("-i"), "real -i");
    const dir = await oursDir(s);
    await Deno.chown(`${s.root}/ours`, 4242, 4243);
    ok(await ours(["-d", dir, "-i"]), "our -i");
    const owners = async (d: string) => {
      const seen = new Set<string>();
      for await (const e of Deno.readDir(d)) {
        const st = await Deno.stat(`${d}/${e.name}`);
        seen.add(`${st.uid}:${st.gid}`);
      }
      const st = await Deno.stat(d);
      seen.add(`${st.uid}:${st.gid}`);
      return [...seen];
    };
    assert.deepEqual(await owners(s.realDb), ["4242:4243"]);
    assert.deepEqual(await owners(dir), ["4242:4243"]);
  },
});

testNeeding(NEED, {
  name: "main() -i refuses an existing CA or NSS database and changes nothing",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const real = await s.qnetd("-i");
    const dir = await oursDir(s);
    ok(await ours(["-d", dir, "-i"]), "our -i");
    for (const d of [dir, s.realDb]) {
      const before = await snapshot(d);
      const r = await ours(["-d", d, "-i"]);
      assert.deepEqual(
        [r.code, r.stdout, r.stderr],
        [real.code, "", real.stderr.replace(s.realDb, d)],
      );
      assert.equal(await snapshot(d), before);
    }
  },
});

testNeeding(NEED, {
  name: "main() -i where no directory can be made fails cleanly",
  async fn() {
    await using s = await Scratch.create();
    await Deno.writeTextFile(`${s.root}/plainfile`, "x");
    const r = await ours(["-d", `${s.root}/plainfile/nssdb`, "-i"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /plainfile\/nssdb/);
    assert.equal(await Deno.readTextFile(`${s.root}/plainfile`), "x");
  },
});

/** Our CA, a real node DB that imported our export, and a real request for Cluster1. */
async function enrol(s: Scratch): Promise<string> {
  const dir = await oursDir(s);
  ok(await ours(["-d", dir, "-i"]), "our -i");
  ok(await s.node("-i", "-c", `${dir}/qnetd-cacert.crt`), "real node -i -c ours");
  ok(await s.node("-r", "-n", "Cluster1"), "real node -r");
  return dir;
}

testNeeding(NEED, {
  name: "main() -s signs the real node's request and the real node tool imports the result",
  async fn() {
    await using s = await Scratch.create();
    const dir = await enrol(s);
    const crq = `${s.nodeDb}/qdevice-net-node.crq`;
    const r = await ours(["-d", dir, "-s", "-c", crq, "-n", "Cluster1"]);
    ok(r, "our -s");
    const crt = `${dir}/cluster-Cluster1.crt`;
    assert.equal(r.stdout, `Signing cluster certificate\nCertificate stored in ${crt}\n`);
    assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), "103\n");
    assert.equal(await mode(crt), 0o660 & ~Deno.umask());
    ok(await s.node("-M", "-c", crt), "real node -M");
    const valid = await runCommand("certutil", [
      "-V",
      "-u",
      "C",
      "-n",
      "Cluster Cert",
      "-d",
      s.nodeDb,
    ]);
    ok(valid, "certutil -V");
    const pem = `${s.root}/cluster.pem`;
    ok(await runCommand("openssl", ["x509", "-inform", "DER", "-in", crt, "-out", pem]), "to PEM");
    ok(
      await runCommand("openssl", ["verify", "-CAfile", `${dir}/qnet-ca.pem`, pem]),
      "openssl verify",
    );

    // The real qnetd tool signing the same request: same layout, same fields.
    ok(await s.qnetd("-i"), "real -i");
    ok(await s.qnetd("-s", "-c", crq, "-n", "Cluster1"), "real -s");
    const realCrt = `${s.realDb}/cluster-Cluster1.crt`;
    assert.equal(await asn1Layout(crt, "DER"), await asn1Layout(realCrt, "DER"));
    assert.deepEqual(fields(await x509Text(crt, "DER")), fields(await x509Text(realCrt, "DER")));
    assert.equal(await mode(crt), await mode(realCrt));
  },
});

testNeeding(NEED, {
  name: "main() -s rejects PEM, garbage and forged requests, using no serial and leaving no file",
  async fn() {
    await using s = await Scratch.create();
    const dir = await enrol(s);
    const crq = `${s.nodeDb}/qdevice-net-node.crq`;
    const pem = `${s.root}/req.pem`;
    ok(await runCommand("openssl", ["req", "-inform", "DER", "-in", crq, "-out", pem]), "to PEM");
    const garbage = `${s.root}/garbage.crq`;
    await Deno.writeFile(garbage, crypto.getRandomValues(new Uint8Array(600)));
    const forged = `${s.root}/forged.crq`;
    const bytes = await Deno.readFile(crq);
    bytes[bytes.length - 5]! ^= 0x40;
    await Deno.writeFile(forged, bytes);
    const empty = `${s.root}/empty.crq`;
    await Deno.writeFile(empty, new Uint8Array());
    const cases: [string, RegExp][] = [
      [pem, /is PEM; it must be DER/],
      [garbage, /Cannot parse certificate request .*garbage\.crq/],
      [forged, /signature of certificate request .*forged\.crq does not verify/],
      [empty, /empty\.crq is empty/],
    ];
    const before = await snapshot(dir);
    for (const [file, message] of cases) {
      const r = await ours(["-d", dir, "-s", "-c", file, "-n", "Bad"]);
      assert.equal(r.code, 1, file);
      assert.match(r.stderr, message);
      assert.equal(await snapshot(dir), before, file);
    }
  },
});

testNeeding(NEED, {
  name: "main() -s without a CA says how to make one, and points at an NSS database",
  async fn() {
    await using s = await Scratch.create();
    const crq = `${s.root}/x.crq`;
    await Deno.writeFile(crq, Uint8Array.of(1));
    const real = await s.qnetd("-s", "-c", crq, "-n", "c1");
    const r = await ours(["-d", `${s.root}/ours`, "-s", "-c", crq, "-n", "c1"]);
    assert.deepEqual(
      [r.code, r.stdout, r.stderr],
      [real.code, real.stdout, real.stderr.replace(s.qnetdTool, "qnet certutil")],
    );
    ok(await s.qnetd("-i"), "real -i");
    const nss = await ours(["-d", s.realDb, "-s", "-c", crq, "-n", "c1"]);
    assert.equal(nss.code, 1);
    assert.match(nss.stderr, /--import-nssdb/);
  },
});

testNeeding(NEED, {
  name: "main() -s that cannot store the certificate keeps serial.txt as it was",
  async fn() {
    await using s = await Scratch.create();
    const dir = await enrol(s);
    await Deno.mkdir(`${dir}/cluster-Blocked.crt`); // a directory where the file should go
    const before = await snapshot(dir);
    const crq = `${s.nodeDb}/qdevice-net-node.crq`;
    const r = await ours(["-d", dir, "-s", "-c", crq, "-n", "Blocked"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot write .*cluster-Blocked\.crt/);
    assert.equal(await snapshot(dir), before);
    const bad = await ours(["-d", dir, "-s", "-c", crq, "-n", "../escape"]);
    assert.equal(bad.code, 2);
    assert.equal(await snapshot(dir), before);
  },
});

testNeeding(NEED, {
  name: "main() --list shows CA, server and cluster certificates with serial and expiry",
  async fn() {
    await using s = await Scratch.create();
    const dir = await enrol(s);
    ok(
      await ours(["-d", dir, "-s", "-c", `${s.nodeDb}/qdevice-net-node.crq`, "-n", "Cluster1"]),
      "-s",
    );
    const r = await ours(["-d", dir, "--list"]);
    ok(r, "--list");
    const rows = r.stdout.trim().split("\n").map((l) => l.split(/ {2,}/));
    assert.deepEqual(rows.map((row) => row.slice(0, 3)), [
      ["FILE", "SUBJECT", "SERIAL"],
      ["qnet-ca.pem", "CN=QNet CA", "101"],
      ["qnetd-cert.pem", "CN=Qnetd Server", "102"],
      ["cluster-Cluster1.crt", "CN=Cluster1", "103"],
    ]);
    const end = await runCommand("openssl", [
      "x509",
      "-in",
      `${dir}/qnet-ca.pem`,
      "-noout",
      "-enddate",
    ]);
    const expected = new Date(end.stdout.trim().replace("notAfter=", "")).toISOString();
    assert.equal(rows[1]![3], expected.replace(".000Z", "Z"));
  },
});

testNeeding(NEED, {
  name: "main() --import-nssdb turns a real NSS database into PEM files whose CA keeps signing",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    ok(await s.node("-i", "-c", `${s.realDb}/qnetd-cacert.crt`), "node -i");
    ok(await s.node("-r", "-n", "Old"), "node -r");
    ok(await s.qnetd("-s", "-c", `${s.nodeDb}/qdevice-net-node.crq`, "-n", "Old"), "real -s");
    const dir = await oursDir(s);
    const r = await ours(["-d", dir, "--import-nssdb", s.realDb]);
    ok(r, "--import-nssdb");
    assert.match(r.stdout, /next serial number is 104/);
    assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), "103\n");
    assert.equal(await mode(`${dir}/qnet-ca-key.pem`), 0o600);
    assert.equal(await mode(`${dir}/qnetd-key.pem`), 0o640);
    assert.deepEqual(
      await Deno.readFile(`${dir}/qnetd-cacert.crt`),
      await Deno.readFile(`${s.realDb}/qnetd-cacert.crt`),
    );
    const pub = await runCommand("openssl", [
      "x509",
      "-in",
      `${dir}/qnetd-cert.pem`,
      "-noout",
      "-pubkey",
    ]);
    const keyPub = await runCommand("openssl", ["pkey", "-in", `${dir}/qnetd-key.pem`, "-pubout"]);
    assert.equal(pub.stdout, keyPub.stdout);

    // A new node request signed with the imported key verifies against the old CA export.
    await Deno.remove(s.nodeDb, { recursive: true });
    ok(await s.node("-i", "-c", `${s.realDb}/qnetd-cacert.crt`), "node -i again");
    ok(await s.node("-r", "-n", "New"), "node -r New");
    const signed = await ours([
      "-d",
      dir,
      "-s",
      "-c",
      `${s.nodeDb}/qdevice-net-node.crq`,
      "-n",
      "New",
    ]);
    ok(signed, "our -s");
    const crt = `${dir}/cluster-New.crt`;
    assert.match(await x509Text(crt, "DER"), /Serial Number: 104 /);
    const pem = `${s.root}/new.pem`;
    ok(await runCommand("openssl", ["x509", "-inform", "DER", "-in", crt, "-out", pem]), "to PEM");
    ok(
      await runCommand("openssl", ["verify", "-CAfile", `${s.realDb}/qnetd-cacert.crt`, pem]),
      "verify against the old CA",
    );
    ok(await s.node("-M", "-c", crt), "real node -M");
  },
});

testNeeding(NEED, {
  name: "main() --import-nssdb says which package to install when a tool is missing",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const dir = await oursDir(s);
    const path = Deno.env.get("PATH") ?? "";
    Deno.env.set("PATH", `${s.root}/empty-bin`);
    let r: RunResult;
    try {
      r = await ours(["-d", dir, "--import-nssdb", s.realDb]);
    } finally {
      Deno.env.set("PATH", path);
    }
    assert.equal(r.code, 1);
    assert.match(r.stderr, /certutil is needed .* install the package libnss3-tools/);
    assert.equal(await Deno.stat(dir).catch(() => null), null);
  },
});

testNeeding(NEED, {
  name: "main() --import-nssdb refuses a directory without an NSS database or with a CA",
  async fn() {
    await using s = await Scratch.create();
    const dir = await oursDir(s);
    const none = await ours(["-d", dir, "--import-nssdb", `${s.root}/nowhere`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Can't find an NSS certificate database in .*nowhere/);
    ok(await s.qnetd("-i"), "real -i");
    ok(await ours(["-d", dir, "-i"]), "our -i");
    const before = await snapshot(dir);
    const again = await ours(["-d", dir, "--import-nssdb", s.realDb]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(await snapshot(dir), before);
  },
});
