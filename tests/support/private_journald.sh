# Sourced (not run) by the scripts of tests that need a real systemd journal: journal_run.sh
# and syslog_run.sh, inside a private mount namespace (unshare -m). Starts a throwaway
# systemd-journald whose files all lie on tmpfs mounts that vanish with the namespace, and
# the helpers both scripts drive a daemon with. Every wait is bounded.

# Everything journald writes (/run/systemd/journal, /run/log/journal, /var/log/journal)
# stays on these tmpfs mounts.
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal /run/log
/lib/systemd/systemd-journald &
journald=$!
trap 'kill $journald 2>/dev/null || true' EXIT
# Both sockets: the stream one (stdout and stderr of services) and the syslog one.
for _ in $(seq 50); do
  [ -S /run/systemd/journal/stdout ] && [ -S /run/systemd/journal/dev-log ] && break
  sleep 0.1
done

# Waits until something listens on 127.0.0.1:$1.
wait_listening() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# An unsupported message type (0x63) with a one-byte body to 127.0.0.1:$1: the daemon logs
# "Client sent unsupported msg type 99. Skipping message" (warning).
send_unsupported() {
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf '\x00\x63\x00\x00\x00\x01\x00' >&3
  sleep 0.5
  exec 3<&-
}

# SIGTERM to pid $1, then waits for it to end (SIGKILL after 5 s).
stop() {
  kill -TERM "$1"
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
