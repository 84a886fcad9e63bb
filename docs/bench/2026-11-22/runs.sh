#!/bin/bash
# Final side-by-side benchmark runs for the README (sequential, nothing else running).
cd /work/main || exit 1
B="scripts/deno run -A scripts/bench/main.ts"
O=/work/bench3/final
mkdir -p $O
D=$(scripts/deno eval 'console.log(Deno.execPath())')
V8=$(scripts/deno eval 'import { V8_FLAGS } from "./scripts/compile.ts"; console.log(V8_FLAGS)')
OURS="qnet=$D run --quiet $V8 -A /work/main/mod.ts qnetd -f -s off -p {port} -S lock_file={dir}/q.pid,local_socket_file={dir}/q.sock"
run() { name=$1; shift; echo "== $(date -Is) $name: $*" >> $O/log.txt
  ( echo "\$ bench $*"; timeout 1500 $B "$@" --json > $O/$name.json ) > $O/$name.txt 2>&1; echo "exit $?" >> $O/$name.txt
  echo "== $(date -Is) $name done" >> $O/log.txt; }
run main5000 --compare --ceiling --clients 5000 --heartbeat 8000 --duration 60 --pin --port 17200
run storm5000_hb1 --compare --clients 5000 --duration 10 --pin --port 17210
run change1000 --compare --clients 1000 --duration 60 --pin --port 17220
run tls1000_hb8 --compare --tls --clients 1000 --heartbeat 8000 --duration 30 --pin --port 17230
run tls1000_hb1 --compare --tls --clients 1000 --duration 20 --pin --port 17240
run mem_plain --compare --clients 4000 --heartbeat 8000 --rss-step 5 --duration 10 --change-interval 0 --pin --port 17250
run mem_tls --compare --tls --clients 1000 --heartbeat 8000 --rss-step 5 --duration 10 --change-interval 0 --pin --port 17260
run slope600 --arbiter "$OURS" --clients 5000 --heartbeat 8000 --duration 600 --pin --port 17270
run scale19800 --arbiter "$OURS" --clients 19800 --heartbeat 8000 --change-interval 60000 --storm-timeout 120 --processes 2 --duration 300 --pin --port 17280
echo ALLDONE >> $O/log.txt
