import assert from "node:assert/strict";
import { serverKeyFiles } from "../../cli/tls_files.ts";

Deno.test("serverKeyFiles() maps the default nickname to the files certutil writes", () => {
  assert.deepEqual(serverKeyFiles("/etc/corosync/qnetd/nssdb", "QNetd Cert"), {
    certFile: "/etc/corosync/qnetd/nssdb/qnetd-cert.pem",
    keyFile: "/etc/corosync/qnetd/nssdb/qnetd-key.pem",
    caFile: "/etc/corosync/qnetd/nssdb/qnet-ca.pem",
  });
});

Deno.test("serverKeyFiles() derives file names from another nickname", () => {
  const files = serverKeyFiles("/d", "My Server");
  assert.equal(files.certFile, "/d/my-server-cert.pem");
  assert.equal(files.keyFile, "/d/my-server-key.pem");
});
