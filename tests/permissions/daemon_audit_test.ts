/**
 * Least privilege, proven on a running daemon: `qnet qnetd` runs as a subprocess with only
 * its declared permission set (never -A) and DENO_AUDIT_PERMISSIONS, serves a full session
 * of a scripted client plus `qnet qnetd-tool` (itself run with only its own set), stops
 * cleanly, and then the audit log must show every access inside the declared set and every
 * declared grant used.
 */
import assert from "node:assert/strict";
import {
  encodeConfigNodeList,
  encodeInit,
  encodeMembershipNodeList,
  encodePreinit,
  encodeQuorumNodeList,
  encodeSetOption,
} from "../../core/protocol/encode_client.ts";
import {
  DecisionAlgorithm,
  MsgType,
  NodeState,
  TieBreakerMode,
} from "../../core/protocol/constants.ts";
import {
  LIBSSL_PATHS,
  type PermissionSet,
  socketClientPermissions,
  toFlags,
} from "../../scripts/permission_sets.ts";
import { ScriptClient, settle } from "../support/script_client.ts";
import {
  daemonArgs,
  daemonPaths,
  grants,
  makeKeyDir,
  readAudit,
  ROOT,
  startSandboxed,
} from "./_sandboxed.ts";

const PORT = 17210;

/**
 * Two nodes of one cluster through INIT, options, config, membership and quorum; `during`
 * runs while both are connected.
 */
async function fullSession(port: number, during: () => Promise<void>): Promise<void> {
  const clients: ScriptClient[] = [];
  try {
    for (const nodeId of [1, 2]) {
      const c = await ScriptClient.connect(port, `audit/${nodeId}`);
      clients.push(c);
      await c.request(
        encodePreinit({ seqNumber: c.nextSeq(), clusterName: "audit" }),
        MsgType.PreinitReply,
      );
      const init = await c.request(
        encodeInit({
          seqNumber: c.nextSeq(),
          nodeId,
          decisionAlgorithm: DecisionAlgorithm.Ffsplit,
          heartbeatInterval: 8000,
          tieBreaker: { mode: TieBreakerMode.Lowest, nodeId: 0 },
          ringId: { nodeId: 1, seq: 4n },
        }),
        MsgType.InitReply,
      );
      assert.equal(init.replyErrorCode, 0);
      await c.request(
        encodeSetOption({ seqNumber: c.nextSeq(), heartbeatInterval: 8000 }),
        MsgType.SetOptionReply,
      );
      const nodes = [1, 2].map((id) => ({
        nodeId: id,
        dataCenterId: 0,
        nodeState: NodeState.NotSet,
      }));
      await c.request(
        encodeConfigNodeList({ seqNumber: c.nextSeq(), initial: true, nodes }),
        MsgType.NodeListReply,
      );
      await c.request(
        encodeMembershipNodeList({
          seqNumber: c.nextSeq(),
          ringId: { nodeId: 1, seq: 4n },
          nodeIds: [1, 2],
        }),
        MsgType.NodeListReply,
      );
      await c.request(
        encodeQuorumNodeList({
          seqNumber: c.nextSeq(),
          quorate: 1,
          nodes: [1, 2].map((id) => ({ nodeId: id, dataCenterId: 0, nodeState: NodeState.Member })),
        }),
        MsgType.NodeListReply,
      );
      await settle(clients);
    }
    assert.equal(clients[0]!.lastAckNack, "ACK");
    await during();
  } finally {
    for (const c of clients) c[Symbol.dispose]();
  }
}

/** `qnet qnetd-tool -s` with only the qnetd-tool set for this socket. */
async function toolStatus(socketFile: string, set: PermissionSet): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...toFlags(set),
      `${ROOT}mod.ts`,
      "qnetd-tool",
      "-s",
      "-p",
      socketFile,
    ],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("qnetd with its declared set serves a full session and uses nothing else", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-" });
  try {
    const keyDir = await makeKeyDir(dir);
    Deno.mkdirSync(`${dir}/run`); // what systemd's RuntimeDirectory= or tmpfiles.d provides
    const { lockFile, socketFile, auditFile } = daemonPaths(dir);
    const args = daemonArgs(dir, keyDir, PORT, ["-s", "on"]);
    const daemon = await startSandboxed(args, auditFile);
    let stopped: { code: number; stderr: string } | undefined;
    try {
      await fullSession(PORT, async () => {
        const status = await toolStatus(socketFile, socketClientPermissions(socketFile));
        assert.match(status, /Connected clients:\s+2/);
      });
    } finally {
      stopped = await daemon.stop();
    }
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, new RegExp(`Dropped permissions: read ${keyDir}, `));

    const audit = readAudit(auditFile);
    // The only access outside the set: the lock file's "create the directory as a last
    // resort" mkdir (net/lock_file.ts), refused and ignored since the directory exists.
    const runDir = lockFile.slice(0, lockFile.lastIndexOf("/"));
    const outside = audit.filter((e) => !grants(daemon.declared, e));
    assert.deepEqual(
      [...new Set(outside.map((e) => `${e.permission} ${e.value}`))],
      [`write ${runDir}`],
    );
    // Least: every declared grant was needed (ffi: the one libssl path of this system).
    const used = (kind: string, value: string) =>
      audit.some((e) => e.permission === kind && e.value === value);
    for (const kind of ["read", "write", "net"] as const) {
      for (const value of daemon.declared[kind] ?? []) {
        assert.ok(used(kind, value), `declared ${kind} ${value} was never used`);
      }
    }
    assert.ok(LIBSSL_PATHS.some((p) => used("ffi", p)), "libssl was not loaded");
    assert.ok(!audit.some((e) => ["run", "sys"].includes(e.permission)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qnetd -s off needs and uses no ffi and no key directory", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "qnet-perm-" });
  try {
    Deno.mkdirSync(`${dir}/run`);
    const { auditFile } = daemonPaths(dir);
    const args = daemonArgs(dir, `${dir}/no-keys`, PORT + 1, ["-s", "off"]);
    const daemon = await startSandboxed(args, auditFile);
    assert.equal(daemon.declared.ffi, undefined);
    const { code, stderr } = await daemon.stop();
    assert.equal(code, 0, stderr);
    const audit = readAudit(auditFile);
    assert.ok(!audit.some((e) => e.permission === "ffi"));
    assert.ok(!audit.some((e) => e.value?.startsWith(`${dir}/no-keys`)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
