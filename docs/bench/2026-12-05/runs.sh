#!/bin/bash
# The silent-connection flood (issue 17, finding 1), side by side, and our daemon before the
# admission redesign for the "before" figures: commit fea912f unpacked in $OLD
# (git archive fea912f | tar -x -C "$OLD"; ln -s "$PWD/.tools" "$OLD/.tools"). Run as root
# (each run gets its own network namespace). Machine: the shared 2-core VM, other work running.
cd "$(dirname "$0")/../../.." || exit 1
O=docs/bench/2026-12-05
OLD=${OLD:-/tmp/adm-old}
B="scripts/deno run -A scripts/bench/main.ts"
D=$(scripts/deno eval 'console.log(Deno.execPath())')
V8=$(scripts/deno eval 'import { V8_FLAGS } from "./scripts/compile.ts"; console.log(V8_FLAGS)')
S="-S lock_file={dir}/q.pid,local_socket_file={dir}/q.sock"
run() { name=$1; shift; ( echo "\$ bench $*"; $B "$@" --json > $O/$name.json ) > $O/$name.txt 2>&1; echo "exit $?" >> $O/$name.txt; }
run flood_compare --flood --compare --flood-duration 15
run flood_before_plain --flood --flood-duration 15 \
  --arbiter "qnet-before=$D run --quiet $V8 -A $OLD/mod.ts qnetd -f -s off -p {port} $S"
run flood_before_tls --flood --tls --flood-duration 15 \
  --arbiter "qnet-before=$D run --quiet $V8 -A $OLD/mod.ts qnetd -f -s on -p {port} $S,nss_db_dir={pki}/qnetd"
# The storm still served quickly after the redesign: ours now ("new") and before ("old"), one
# after the other, each invocation in its own network namespace (unshare --net, lo up):
#   main.ts --arbiter "new=$D run --quiet $V8 -A mod.ts qnetd -f -s off -p {port} $S" \
#     --clients 2000 --duration 5                                 -> storm2000_plain_new.txt
#   main.ts --tls --arbiter "new=... -s on ... $S,nss_db_dir={pki}/qnetd" \
#     --clients 1000 --heartbeat 8000 --duration 5                -> storm1000_tls_new.txt
# and the same with $OLD/mod.ts -> *_old.txt. 5,000 plain clients with a 1 s heartbeat did not
# all vote on the loaded machine either before (0/5000, output not kept) or after (89/5000,
# storm5000_plain_new.txt, --clients 5000).
# After the launcher/worker merge (08:15), the same compare again:
#   main.ts --flood --compare --flood-duration 15            -> flood_compare_worker.{txt,json}
