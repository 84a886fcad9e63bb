// deno-lint-ignore-file no-console -- a command-line script: stdout and stderr are its interface
/**
 * Run by privilege_drop_test.ts with the daemon's declared set: does what the daemon does at
 * start-up (load libssl, take the lock, bind both sockets), calls the daemon's
 * dropStartupPermissions(), then reports on stdout, as JSON, what it can still do.
 *
 * Arguments: KEYDIR RUNDIR PORT.
 *
 * @module
 */
import { dropStartupPermissions } from "../../cli/privilege_drop.ts";
import { acquireLockFile } from "../../net/lock_file.ts";
import { openSsl } from "../../net/openssl_ffi.ts";

const [keyDir = "", runDir = "", port = "0"] = Deno.args;
const lockFile = `${runDir}/qnetd.pid`;
const socketFile = `${runDir}/qnetd.sock`;
const listen = `[::]:${port}`;

const lib = openSsl();
using _lock = acquireLockFile(lockFile);
const tcp = Deno.listen({ hostname: "::", port: Number(port) });
const unix = Deno.listen({ transport: "unix", path: socketFile });
const summary = await dropStartupPermissions({ keyDir, lockFile, socketFile, listen, tls: true });

function attempt(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}
const state = async (d: Deno.PermissionDescriptor) => (await Deno.permissions.query(d)).state;

// With TLS on, OpenSSL stays callable; pointer views stay refused under scoped ffi.
const ctx = lib.SSL_CTX_new(lib.TLS_server_method());
const ffiCall = ctx === null ? "null" : "ok";
if (ctx !== null) lib.SSL_CTX_free(ctx);
const pointerOf = attempt(() => Deno.UnsafePointer.of(new Uint8Array(8)));

// Bound listeners keep accepting: the test connects once to each after we print "ready".
console.log("ready");
const tcpConn = await tcp.accept();
tcpConn.close();
const unixConn = await unix.accept();
unixConn.close();

console.log(JSON.stringify({
  summary,
  readKey: attempt(() => Deno.readFileSync(`${keyDir}/qnetd-key.pem`)),
  statKeyDir: attempt(() => Deno.statSync(keyDir)),
  writeLock: attempt(() => Deno.writeTextFileSync(lockFile, "x")),
  dlopen: attempt(() => Deno.dlopen("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", {})),
  ffiCall,
  pointerOf,
  accepted: "ok",
  states: {
    readKeyDir: await state({ name: "read", path: keyDir }),
    ffi: await state({ name: "ffi", path: "/usr/lib/x86_64-linux-gnu/libssl.so.3" }),
    netTcp: await state({ name: "net", host: listen }),
    netUnix: await state({ name: "net", host: `unix:${socketFile}` }),
    writeSocket: await state({ name: "write", path: socketFile }),
    env: await state({ name: "env" }),
  },
}));
tcp.close();
unix.close();
