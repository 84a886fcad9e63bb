#!/bin/bash
# Metrics overhead (issue 16, "Limits"): our daemon at 5,000 clients without the metrics
# endpoint ("qnet"), then with -S metrics_listen and a GET /metrics every second for the
# whole run ("qnet+metrics"), side by side. Run from the repository root; one pair per name
# given (default: one, "metrics5000"). Machine: the shared 2-core VM, other work running.
B="scripts/deno run -A scripts/bench/main.ts"
O=docs/bench/2026-12-05
# A first port whose neighbour (the second arbiter) and metrics port (+500) are free now.
P=$(scripts/deno eval '
  import { freePort } from "./tests/support/ports.ts";
  const free = (port) => { try { Deno.listen({ hostname: "::", port }).close(); return true; } catch { return false; } };
  for (;;) { const p = freePort(43300, 43398); if (free(p + 1) && free(p + 501)) { console.log(p); break; } }')
for run in "${@:-metrics5000}"; do
  ( echo "\$ bench --metrics --clients 5000 --heartbeat 8000 --duration 60 --pin --port $P"
    timeout 900 $B --metrics --clients 5000 --heartbeat 8000 --duration 60 --pin --port "$P" \
      --json > "$O/$run.json" ) > "$O/$run.txt" 2>&1
  echo "exit $?" >> "$O/$run.txt"
done
