/**
 * NSS's own tools as oracles on a database directory: `certutil -L` (nicknames and trust),
 * `certutil -K` (keys), `pk12util -o` (export of a key with its certificate).
 *
 * @module
 */
import { needAll, needProgram } from "./precondition.ts";
import { runCommand, type RunResult } from "./certutil_tools.ts";

/** NSS's certutil and pk12util (Debian package libnss3-tools) and openssl. */
export function needNssTools(): string | undefined {
  return needAll(
    needProgram("certutil", "libnss3-tools"),
    needProgram("pk12util", "libnss3-tools"),
    needProgram("openssl", "openssl"),
  );
}

/** Runs a tool and fails with its output when it fails. */
export async function mustRun(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  const result = await runCommand(cmd, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${result.code}: ${result.stdout}${result.stderr}`,
    );
  }
  return result;
}

/** `certutil -L -d sql:DIR`: the listing of nicknames and trust flags. */
export async function nssListCertificates(dir: string): Promise<string> {
  return (await mustRun("certutil", ["-L", "-d", `sql:${dir}`])).stdout;
}

/** `certutil -K -d sql:DIR` with the empty password; the key ids (SHA-1 of the modulus) as `ID`. */
export async function nssListKeys(dir: string, keepIds = false): Promise<string> {
  const pwd = await Deno.makeTempFile();
  try {
    const out = (await mustRun("certutil", ["-K", "-d", `sql:${dir}`, "-f", pwd])).stdout;
    return keepIds ? out : out.replace(/\b[0-9a-f]{40}\b/g, "ID");
  } finally {
    await Deno.remove(pwd);
  }
}

/** `pk12util -o` of a nickname with empty passwords, then openssl's PEM of the key. */
export async function nssExportKeyPem(dir: string, nickname: string): Promise<string> {
  const p12 = await Deno.makeTempFile({ suffix: ".p12" });
  try {
    await mustRun("pk12util", ["-o", p12, "-n", nickname, "-d", `sql:${dir}`, "-W", "", "-K", ""]);
    return (await mustRun("openssl", [
      "pkcs12",
      "-in",
      p12,
      "-passin",
      "pass:",
      "-nocerts",
      "-nodes",
    ])).stdout;
  } finally {
    await Deno.remove(p12);
  }
}

/** The SPKI (PEM) of a private key in PEM, by openssl. */
export async function publicKeyOfPem(keyPem: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(file, keyPem);
    return (await mustRun("openssl", ["pkey", "-in", file, "-pubout"])).stdout;
  } finally {
    await Deno.remove(file);
  }
}

/** The SPKI (PEM) of a DER certificate, by openssl. */
export async function publicKeyOfCert(der: Uint8Array): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".der" });
  try {
    await Deno.writeFile(file, der);
    return (await mustRun("openssl", ["x509", "-inform", "DER", "-in", file, "-pubkey", "-noout"]))
      .stdout;
  } finally {
    await Deno.remove(file);
  }
}
