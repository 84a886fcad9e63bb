import assert from "node:assert/strict";
import {
  asn1Layout,
  needAll,
  needNssTools,
  needRealTools,
  needRoot,
  nssExportKeyPem,
  nssListCertificates,
  nssListKeys,
  ours,
  publicKeyOfCert,
  publicKeyOfPem,
  runCommand,
  type RunResult,
  Scratch,
  snapshot,
  testNeeding,
  withProgram,
} from "../support/mod.ts";
import { readNssDb } from "../../cli/nss_db_files.ts";
import { CERTUTIL_ARGS } from "../../cli/certutil.ts";
import { optstringOf } from "../../cli/getopt.ts";

const NEED = needAll(needRealTools(), needNssTools());

/** The DER certificate of `nickname` in the NSS database `dir`, written to a file. */
async function certFromDb(dir: string, nickname: string, out: string): Promise<string> {
  await Deno.writeFile(out, (await readNssDb(dir, nickname)).certDer);
  return out;
}

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

Deno.test("the command line is declared for getopt: the C script's optstring plus -d", () => {
  // corosync-qnetd-certutil: getopts ":Ghisc:n:" (POSIX getopts stops at the first operand).
  assert.equal(optstringOf(CERTUTIL_ARGS), "+:Ghisc:n:d:");
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
      ["-Gx"],
      ["-c", "a.crq", "-q"],
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
  name:
    "main() -i makes the NSS database of the real tool, file for file, certificates byte for byte",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const dir = await oursDir(s);
    const r = await ours(["-d", dir, "-i"]);
    ok(r, "our -i");
    assert.equal(
      r.stdout,
      `Creating ${dir}\nCreating new key and cert db\nCreating new noise file ${dir}/noise.txt\n` +
        `Creating new CA\nQNetd CA certificate is exported as ${dir}/qnetd-cacert.crt\n`,
    );
    const names = async (d: string) => {
      const out: string[] = [];
      for await (const e of Deno.readDir(d)) out.push(e.name);
      return out.sort();
    };
    assert.deepEqual(await names(dir), await names(s.realDb));
    // NSS's own tools list the same nicknames, trust flags and keys.
    assert.equal(await nssListCertificates(dir), await nssListCertificates(s.realDb));
    assert.equal(await nssListKeys(dir), await nssListKeys(s.realDb));
    for (const nickname of ["QNet CA", "QNetd Cert"]) {
      const cert = (await readNssDb(dir, nickname)).certDer;
      assert.equal(
        await publicKeyOfPem(await nssExportKeyPem(dir, nickname)),
        await publicKeyOfCert(cert),
        `pk12util -o ${nickname}`,
      );
    }
    assert.equal(
      await Deno.readTextFile(`${dir}/pkcs11.txt`),
      (await Deno.readTextFile(`${s.realDb}/pkcs11.txt`)).replaceAll(s.realDb, dir),
    );
    assert.equal(await Deno.readTextFile(`${dir}/pwdfile.txt`), "");
    assert.match(await Deno.readTextFile(`${dir}/noise.txt`), /^[0-9a-f]{40}\n$/);

    const realCa = `${s.realDb}/qnetd-cacert.crt`, realServer = await realServerCert(s);
    const ourCa = await certFromDb(dir, "QNet CA", `${s.root}/our-ca.der`);
    const ourServer = await certFromDb(dir, "QNetd Cert", `${s.root}/our-server.der`);
    const pairs: [string, "PEM" | "DER", string, "PEM" | "DER"][] = [
      [realCa, "PEM", ourCa, "DER"],
      [realCa, "PEM", `${dir}/qnetd-cacert.crt`, "PEM"],
      [realServer, "DER", ourServer, "DER"],
    ];
    for (const [real, realForm, mine, myForm] of pairs) {
      assert.equal(await asn1Layout(mine, myForm), await asn1Layout(real, realForm), mine);
      assert.deepEqual(
        fields(await x509Text(mine, myForm)),
        fields(await x509Text(real, realForm)),
        mine,
      );
    }
    const ca = fields(await x509Text(ourCa, "DER"));
    assert.equal(ca.serial, "101 (0x65)");
    assert.equal(ca.key, "(2048 bit)");
    assert.match(ca.extensions!, /Basic Constraints: critical\s+CA:TRUE, pathlen:0$/);
    assert.equal(ca.validity, "100 years, same time of day: true");
    assert.equal(fields(await x509Text(ourServer, "DER")).serial, "102 (0x66)");
    assert.equal(await Deno.readTextFile(`${dir}/serial.txt`), "102\n");
    const valid = await runCommand("certutil", [
      "-V",
      "-u",
      "V",
      "-n",
      "QNetd Cert",
      "-d",
      `sql:${dir}`,
    ]);
    ok(valid, "certutil -V");
  },
});

testNeeding(NEED, {
  name: "main() -i gives every file the mode of the real tool's (default and -G)",
  async fn() {
    for (const extra of [[], ["-G"]]) {
      await using s = await Scratch.create();
      ok(await s.qnetd("-i", ...extra), "real -i");
      const dir = await oursDir(s);
      ok(await ours(["-d", dir, "-i", ...extra]), "our -i");
      const label = extra.join("") || "default";
      assert.equal(await mode(dir), await mode(s.realDb), `dir ${label}`);
      for await (const e of Deno.readDir(s.realDb)) {
        assert.equal(
          await mode(`${dir}/${e.name}`),
          await mode(`${s.realDb}/${e.name}`),
          `${e.name} ${label}`,
        );
      }
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
      await runCommand("openssl", ["verify", "-CAfile", `${dir}/qnetd-cacert.crt`, pem]),
      "verify",
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
  name: "main() -s without a CA says how to make one, as the C tool",
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
  },
});

testNeeding(NEED, {
  name: "main() -s signs with the CA of a database the real tool made, with its serial.txt",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    ok(await s.node("-i", "-c", `${s.realDb}/qnetd-cacert.crt`), "node -i");
    ok(await s.node("-r", "-n", "Old"), "node -r");
    ok(await s.qnetd("-s", "-c", `${s.nodeDb}/qdevice-net-node.crq`, "-n", "Old"), "real -s");
    const r = await ours([
      "-d",
      s.realDb,
      "-s",
      "-c",
      `${s.nodeDb}/qdevice-net-node.crq`,
      "-n",
      "New",
    ]);
    ok(r, "our -s on the C database");
    const crt = `${s.realDb}/cluster-New.crt`;
    assert.match(await x509Text(crt, "DER"), /Serial Number: 104 /);
    assert.equal(await Deno.readTextFile(`${s.realDb}/serial.txt`), "104\n");
    ok(await s.node("-M", "-c", crt), "real node -M");
    // And the C tool signs with the CA of a database we made.
    const dir = await oursDir(s);
    ok(await ours(["-d", dir, "-i"]), "our -i");
    const tool = `${s.root}/qnetd-certutil-ours`;
    await Deno.writeTextFile(
      tool,
      (await Deno.readTextFile(s.qnetdTool)).replace(
        /^CONFIG_DIR=.*$/m,
        `CONFIG_DIR="${s.root}/ours"`,
      ),
      { mode: 0o755 },
    );
    ok(
      await runCommand(tool, ["-s", "-c", `${s.nodeDb}/qdevice-net-node.crq`, "-n", "ByC"]),
      "C -s",
    );
    assert.match(await x509Text(`${dir}/cluster-ByC.crt`, "DER"), /Serial Number: 103 /);
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
      ["cert9.db:QNet CA", "CN=QNet CA", "101"],
      ["cert9.db:QNetd Cert", "CN=Qnetd Server", "102"],
      ["cluster-Cluster1.crt", "CN=Cluster1", "103"],
    ]);
    const end = await runCommand("openssl", [
      "x509",
      "-in",
      `${dir}/qnetd-cacert.crt`,
      "-noout",
      "-enddate",
    ]);
    const expected = new Date(end.stdout.trim().replace("notAfter=", "")).toISOString();
    assert.equal(rows[1]![3], expected.replace(".000Z", "Z"));
  },
});

testNeeding(NEED, {
  name: "main() --import-nssdb is retired: exit 0, says it is no longer needed, changes nothing",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const before = await snapshot(s.realDb);
    const r = await ours(["--import-nssdb", s.realDb]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--import-nssdb is no longer needed: .* in place/);
    assert.equal(r.stdout.split("\n").length, 2);
    assert.equal(await snapshot(s.realDb), before);
  },
});

testNeeding(NEED, {
  name: "main() --export-pem writes the CA and server keys of a C database as PEM for other tools",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const out = `${s.root}/pem`;
    const r = await ours(["-d", s.realDb, "--export-pem", out]);
    ok(r, "--export-pem");
    for (
      const [cert, key] of [["qnet-ca.pem", "qnet-ca-key.pem"], ["qnetd-cert.pem", "qnetd-key.pem"]]
    ) {
      const pub = await runCommand("openssl", [
        "x509",
        "-in",
        `${out}/${cert}`,
        "-noout",
        "-pubkey",
      ]);
      const keyPub = await runCommand("openssl", ["pkey", "-in", `${out}/${key}`, "-pubout"]);
      assert.equal(pub.stdout, keyPub.stdout, cert);
      assert.equal(await mode(`${out}/${key}`), key === "qnet-ca-key.pem" ? 0o600 : 0o640, key);
    }
    ok(
      await runCommand("openssl", [
        "verify",
        "-CAfile",
        `${out}/qnet-ca.pem`,
        `${out}/qnetd-cert.pem`,
      ]),
      "verify",
    );
    assert.equal(
      (await runCommand("openssl", ["x509", "-in", `${out}/qnet-ca.pem`, "-noout", "-fingerprint"]))
        .stdout,
      (await runCommand("openssl", [
        "x509",
        "-in",
        `${s.realDb}/qnetd-cacert.crt`,
        "-noout",
        "-fingerprint",
      ]))
        .stdout,
    );
    const again = await ours(["-d", s.realDb, "--export-pem", out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  },
});

testNeeding(NEED, {
  name: "main() -s keeps working on a PEM directory of an earlier qnet; the database wins over PEM",
  async fn() {
    await using s = await Scratch.create();
    ok(await s.qnetd("-i"), "real -i");
    const pemDir = `${s.root}/pem-only`;
    ok(await ours(["-d", s.realDb, "--export-pem", pemDir]), "PEM of the C CA");
    ok(await s.node("-i", "-c", `${s.realDb}/qnetd-cacert.crt`), "node -i");
    ok(await s.node("-r", "-n", "Pem"), "node -r");
    const crq = `${s.nodeDb}/qdevice-net-node.crq`;
    ok(await ours(["-d", pemDir, "-s", "-c", crq, "-n", "Pem"]), "-s from PEM");
    ok(await s.node("-M", "-c", `${pemDir}/cluster-Pem.crt`), "node -M");

    // A database with other PEM files next to it: -s signs with the database's CA.
    const dir = await oursDir(s);
    ok(await ours(["-d", dir, "-i"]), "our -i");
    for await (const e of Deno.readDir(pemDir)) {
      if (e.name.endsWith(".pem")) await Deno.copyFile(`${pemDir}/${e.name}`, `${dir}/${e.name}`);
    }
    ok(await ours(["-d", dir, "-s", "-c", crq, "-n", "Both"]), "-s with both");
    const crt = `${s.root}/both.pem`;
    ok(
      await runCommand("openssl", [
        "x509",
        "-inform",
        "DER",
        "-in",
        `${dir}/cluster-Both.crt`,
        "-out",
        crt,
      ]),
      "to PEM",
    );
    ok(
      await runCommand("openssl", ["verify", "-CAfile", `${dir}/qnetd-cacert.crt`, crt]),
      "our CA",
    );
    const other = await runCommand("openssl", ["verify", "-CAfile", `${pemDir}/qnet-ca.pem`, crt]);
    assert.notEqual(other.code, 0, "not the PEM CA");
  },
});
