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
