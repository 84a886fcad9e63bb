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
# shellcheck source=tests/support/private_journald.sh
source "$(dirname "$0")/private_journald.sh"

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
  wait_listening "$port"
  send_unsupported "$port"
  stop "$daemon"
  journalctl --sync 2>/dev/null || sleep 0.5
  echo "=== $format -p warning"
  journalctl -t "$tag" -p warning --no-pager -o cat
  echo "=== $format json"
  journalctl -t "$tag" --no-pager -o json --output-fields=PRIORITY,MESSAGE
done
