#!/usr/bin/env bash
# service_sizing.sh: the figures of docs/deploy.md's Sizing section, for a straitd with
# N partitions holding 10,000 records: open files and RSS while serving, how long a
# clean stop takes (what TimeoutStopSec must cover), and how long the next start takes
# after a clean stop and after kill -9 (what TimeoutStartSec must cover).
#
#   B=build N=10000 bash tests/bench/service_sizing.sh
#
# B is a build directory with straitd and strait (a Release build for real figures).
set -euo pipefail
B=${B:-build}
N=${N:-1000}
D=$(mktemp -d /tmp/strait-sizing-XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
start() {
    rm -f "$D/ready"
    local t0
    t0=$(date +%s%N)
    "$B/straitd" --port 0 --data-dir "$D/data" --mgmt "ipc://$D/mgmt" --ready-file "$D/ready" \
        2>>"$D/log" &
    PID=$!
    for _ in $(seq 6000); do
        [ -s "$D/ready" ] && break
        kill -0 "$PID" || { tail -n 5 "$D/log"; exit 1; }
        sleep 0.01
    done
    [ -s "$D/ready" ] || { echo "not ready within 60 s" >&2; exit 1; }
    echo "ready after $((($(date +%s%N) - t0) / 1000000)) ms"
}
echo -n "first start: "
start
"$B/strait" --mgmt "ipc://$D/mgmt" --data-dir "$D/data" topics create p --partitions "$N" >/dev/null
port=$(cut -d' ' -f1 "$D/ready")
seq 1 10000 | timeout 120 kcat -b "127.0.0.1:$port" -P -t p
echo "partitions: $N (+50 of __consumer_offsets); open files: $(ls "/proc/$PID/fd" | wc -l);" \
    "RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status")"
t0=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"
echo "clean stop: $((($(date +%s%N) - t0) / 1000000)) ms"
echo -n "start after a clean stop: "
start
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
echo -n "start after kill -9: "
start
kill -TERM "$PID"
wait "$PID"
PID=""
