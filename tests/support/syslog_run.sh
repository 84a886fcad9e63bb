#!/bin/bash
# For tests/daemon/syslog_test.ts. Runs inside a private mount namespace (unshare -m): a
# throwaway systemd-journald on tmpfs, and a private /dev whose /dev/log is journald's syslog
# socket, as on a systemd host. Then, one after the other, each daemon logs a start-up, a
# warning (a client sends an unsupported message type) and a shutdown:
#   c       the real corosync-qnetd -f (stderr discarded, as Debian's unit does)
#   fg      qnet qnetd -f (stderr discarded)
#   daemon  qnet qnetd without -f: detached, so after start-up syslog is its only log
#   journal qnet qnetd -f with stderr on the journal (systemd-cat) and JOURNAL_STREAM naming
#           it, as systemd sets it: no syslog, the journal has its stderr already
#   unit    qnet qnetd -f as Debian's unit runs it: stdout on the journal (JOURNAL_STREAM names
#           stdout), StandardError=null; syslog as C
# and prints what journald keeps of each process's syslog lines (journalctl SYSLOG_PID=),
# one JSON object per line, under "=== NAME". Every wait is bounded.
#   syslog_run.sh PORT_C PORT_FG PORT_DAEMON PORT_JOURNAL PORT_UNIT WORKDIR QNET_ARGV...
set -eu
declare -A port=([c]=$1 [fg]=$2 [daemon]=$3 [journal]=$4 [unit]=$5)
work=$6
shift 6

# shellcheck source=tests/support/private_journald.sh
source "$(dirname "$0")/private_journald.sh"

# The host's /dev has no /dev/log; this namespace's /dev is a directory of the device nodes
# the daemons use, bound from the host's, plus the link journald's units make.
mkdir "$work/dev"
for node in null zero full random urandom; do
  touch "$work/dev/$node"
  mount --bind "/dev/$node" "$work/dev/$node"
done
ln -s /run/systemd/journal/dev-log "$work/dev/log"
mount --rbind "$work/dev" /dev

settings() { echo "lock_file=$work/$1.pid,local_socket_file=$work/$1.sock"; }

declare -A pid
/usr/bin/corosync-qnetd -f -d -s off -p "${port[c]}" -S "$(settings c)" 2>/dev/null &
pid[c]=$!
"$@" qnetd -f -d -s off -p "${port[fg]}" -S "$(settings fg)" 2>/dev/null &
pid[fg]=$!
# JOURNAL_STREAM is the dev:ino of the stream systemd-cat connected, read off the fd it names
# (systemd-cat execs the command, so $! is the daemon).
# shellcheck disable=SC2016 # expanded by the inner bash
systemd-cat -t qnet-journal -- bash -c \
  'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' bash \
  "$@" qnetd -f -d -s off -p "${port[journal]}" -S "$(settings journal)" &
pid[journal]=$!
# shellcheck disable=SC2016 # expanded by the inner bash
systemd-cat -t qnet-unit -- bash -c \
  'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/1) exec "$@" 2>/dev/null' bash \
  "$@" qnetd -f -d -s off -p "${port[unit]}" -S "$(settings unit)" &
pid[unit]=$!
# Without -f the started process returns once the daemon serves; the daemon's pid is in the
# lock file.
"$@" qnetd -d -s off -p "${port[daemon]}" -S "$(settings daemon)" 2>"$work/daemon.stderr"
echo "daemon started: $?"
pid[daemon]=$(cat "$work/daemon.pid")

for name in c fg daemon journal unit; do
  wait_listening "${port[$name]}"
  send_unsupported "${port[$name]}"
  stop "${pid[$name]}"
done
journalctl --sync 2>/dev/null || sleep 0.5
for name in c fg daemon journal unit; do
  echo "=== $name"
  journalctl "SYSLOG_PID=${pid[$name]}" --no-pager -o json \
    --output-fields=SYSLOG_IDENTIFIER,SYSLOG_FACILITY,SYSLOG_PID,PRIORITY,MESSAGE
done
echo "=== journal stderr"
journalctl -t qnet-journal --no-pager -o json --output-fields=SYSLOG_IDENTIFIER,PRIORITY,MESSAGE
