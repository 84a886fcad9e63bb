/**
 * Every shared test helper, behind one module: tests import from here, never from the files
 * below (tests/repo/test_layout_test.ts checks it). Helpers live in tests/support/ only, grouped
 * in folders where there are several of a kind:
 *
 * - daemons: `daemons.ts` (ours or corosync-qnetd on a loopback port), `qdevice_client.ts` (the
 *   fake corosync-qdevice), `wire_harness.ts` (the conformance rows over TCP), `wire_conn.ts`,
 *   `tls_wire.ts`, `tls_probe.ts` (the certificate a new TLS client gets), `full_session.ts`,
 *   `sandboxed.ts`, `unprivileged.ts`, `proc.ts`, `ports.ts` (a free port in a range),
 *   `c_names_sandbox.ts` (qnet or the C tools under the C names in a private mount namespace,
 *   for pcs and crmsh);
 * - the pure arbiter: `arbiter_harness.ts`, `conformance_rows.ts`;
 * - fixtures and formats: `exposition.ts` (Prometheus text read back, promtool), `vectors.ts`, `ipc_snapshots.ts`, `ipc_exchange.ts`, `frame_feed.ts`,
 *   `cmap.ts`, `json_schema.ts`, `certutil_tools.ts`, `nss_tools.ts` (NSS's certutil and pk12util
 *   as oracles), `files.ts`, `cert_der.ts` (certificates built byte by byte), `peer_names.ts`,
 *   `lock_holder.ts` (a lock held by another process), `notify_receiver.ts` (systemd's end of
 *   sd_notify), `journal_script.ts` (a script in a private mount namespace with a throwaway
 *   journald: `journal_run.sh`, `syslog_run.sh`, both sourcing `private_journald.sh`);
 * - TLS: `tls/` (throwaway PKI, the TLS test server and the in-process OpenSSL client),
 *   `tls_keys.ts` (server keys to run either daemon with TLS on), `tls_key_update.ts`
 *   (KeyUpdate requests from that client);
 * - `fuzz/`: mutator, seeds, targets and the loop (also used by scripts/fuzz.ts);
 * - `interop/`: real corosync clusters in network namespaces;
 * - `qnet_command.ts`: `qnet` run as the compiled binary runs (the baked flags);
 * - `precondition.ts`: run, skip or (under CI=true) fail a test that needs root or a binary.
 *
 * `drop_probe.ts`, `history_churn.ts`, `launch_with.ts`, `query_probe.ts` and
 * `query_probe_worker.ts` are not exported: they are programs (and a worker) tests run as
 * subprocesses (the permission tests; the history's memory bound).
 *
 * @module
 */
export * from "./arbiter_harness.ts";
export * from "./arbiter_on_free_port.ts";
export * from "./c_names_sandbox.ts";
export * from "./cert_der.ts";
export * from "./certutil_tools.ts";
export * from "./cmap.ts";
export * from "./conformance_rows.ts";
export * from "./daemons.ts";
export * from "./exposition.ts";
export * from "./files.ts";
export * from "./frame_feed.ts";
export * from "./full_session.ts";
export * from "./fuzz/arbiter_scenario.ts";
export * from "./fuzz/mutate.ts";
export * from "./fuzz/nssdb_target.ts";
export * from "./fuzz/runner.ts";
export * from "./fuzz/seeds.ts";
export * from "./fuzz/targets.ts";
export * from "./interop/arbiter.ts";
export * from "./interop/cluster.ts";
export * from "./interop/command.ts";
export * from "./interop/corosync_conf.ts";
export * from "./interop/enrolment.ts";
export * from "./interop/netns.ts";
export * from "./interop/node.ts";
export * from "./interop/preflight.ts";
export * from "./interop/quorumtool.ts";
export * from "./interop/status_text.ts";
export * from "./interop/wait.ts";
export * from "./ipc_exchange.ts";
export * from "./ipc_snapshots.ts";
export * from "./journal_script.ts";
export * from "./json_schema.ts";
export * from "./lock_holder.ts";
export * from "./notify_receiver.ts";
export * from "./nss_tools.ts";
export * from "./peer_names.ts";
export * from "./ports.ts";
export * from "./precondition.ts";
export * from "./proc.ts";
export * from "./qdevice_client.ts";
export * from "./qnet_command.ts";
export * from "./sandboxed.ts";
export * from "./tls/fixtures.ts";
export * from "./tls/harness.ts";
export * from "./tls/malloc_stats.ts";
export * from "./tls/memory_client.ts";
export * from "./tls_key_update.ts";
export * from "./tls_keys.ts";
export * from "./tls_probe.ts";
export * from "./tls_wire.ts";
export * from "./unprivileged.ts";
export * from "./vectors.ts";
export * from "./wire_conn.ts";
export * from "./wire_harness.ts";
