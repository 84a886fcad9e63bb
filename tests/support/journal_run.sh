#!/bin/bash
# For tests/daemon/journal_test.ts. Runs inside a private mount namespace (unshare -m): a
# throwaway systemd-journald on tmpfs, then `qnet qnetd` once per log format with its stderr
# on the journal (systemd-cat) and JOURNAL_STREAM naming that stream as systemd would, a
# client that sends an unsupported message type (a warning line), then prints what
# `journalctl -p warning` and `journalctl -o json` keep. Every wait is bounded.
#   journal_run.sh TEXT_PORT JSON_PORT WORKDIR QNET_ARGV...   (QNET_ARGV: how to run qnet)
set -eu
text_port=$1 json_port=$2 work=$3
shift 3
# Everything journald writes (/run/systemd/journal, /run/log/journal, /var/log/journal)
# stays on these tmpfs mounts, which vanish with the namespace.
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal /run/log
/lib/systemd/systemd-journald &
journald=$!
trap 'kill $journald 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done

for format in text json; do
  tag="hist-qnetd-$format"
  port=$text_port
  [ "$format" = json ] && port=$json_port
  # JOURNAL_STREAM as systemd sets it: the dev:ino of the stream stderr is connected to.
  # shellcheck disable=SC2016 # expanded by the inner bash
  systemd-cat -t "$tag" --level-prefix=true -- bash -c \
    'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' bash \
    "$@" qnetd -f -d -s off -p "$port" \
    -S "lock_file=$work/$format.pid,local_socket_file=$work/$format.sock,log_format=$format" &
  daemon=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  # An unsupported message type (0x63) with a one-byte body: "Skipping message" (warning).
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '\x00\x63\x00\x00\x00\x01\x00' >&3
  sleep 0.5
  exec 3<&-
  kill -TERM "$daemon"
  for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
  journalctl --sync 2>/dev/null || sleep 0.5
  echo "=== $format -p warning"
  journalctl -t "$tag" -p warning --no-pager -o cat
  echo "=== $format json"
  journalctl -t "$tag" --no-pager -o json --output-fields=PRIORITY,MESSAGE
done
