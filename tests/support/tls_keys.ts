/**
 * Server keys for running either daemon with TLS on in a test: a key directory as
 * `qnet certutil -i` makes it (ours), and a throwaway NSS database with a self-signed
 * "QNet Cert"/"Qnetd Server" certificate (corosync-qnetd). Enough for a daemon that must start
 * with `-s on`; certificate checks are tested elsewhere with a shared CA.
 *
 * @module
 */
import assert from "node:assert/strict";
import { main as certutilMain } from "../../cli/certutil.ts";
import { RecordingIo } from "../../cli/io.ts";
import type { ArbiterKind } from "./daemons.ts";

/** A key directory as `qnet certutil -i` makes it, under `parent`. */
export async function qnetKeyDir(parent: string): Promise<string> {
  const dir = `${parent}/keys`;
  const io = new RecordingIo();
  assert.equal(await certutilMain(["-i", "-d", dir], io), 0, io.stderr);
  return dir;
}

/** An NSS database in `dir` holding a self-signed "QNetd Cert" (CN=Qnetd Server). */
export async function cNssDb(dir: string): Promise<string> {
  const run = async (cmd: string, args: string[]) => {
    const r = await new Deno.Command(cmd, { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    assert.ok(r.success, `${cmd}: ${new TextDecoder().decode(r.stderr)}`);
  };
  await run("certutil", ["-N", "-d", `sql:${dir}`, "--empty-password"]);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "k.pem",
    "-out",
    "c.pem",
    "-subj",
    "/CN=Qnetd Server",
    "-days",
    "30",
  ]);
  await run("openssl", [
    "pkcs12",
    "-export",
    "-name",
    "QNetd Cert",
    "-inkey",
    "k.pem",
    "-in",
    "c.pem",
    "-passout",
    "pass:",
    "-out",
    "s.p12",
  ]);
  await run("pk12util", ["-i", "s.p12", "-d", `sql:${dir}`, "-W", ""]);
  return dir;
}

/** The nss_db_dir setting that lets `kind` start with `-s on`, made under `parent`. */
export async function serverKeys(kind: ArbiterKind, parent: string): Promise<string> {
  if (kind === "qnet") return await qnetKeyDir(parent);
  const dir = `${parent}/nssdb`;
  Deno.mkdirSync(dir);
  return await cNssDb(dir);
}
