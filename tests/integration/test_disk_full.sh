#!/usr/bin/env bash
# A full disk (issue 8, item 7): straitd used to log the same ENOSPC 4,402 times in
# under a minute (and 52 more lines at shutdown). Here the data directory is a 24 MiB
# tmpfs in a private mount namespace (unshare -m, so nothing outside the test sees it),
# filled with a file while producers keep writing:
#   - clients get KAFKA_STORAGE_ERROR (56) while it is full;
#   - the broker writes at most one line per partition per 10 s about it, with counts
#     (bounded here by the seconds it lasts; the figure is printed);
#   - `strait status` shows the partition refusing writes and the failed-write count;
#   - when the file is removed, the partition takes writes again by itself and says so;
#   - every record acknowledged before, during and after is readable; the shutdown adds
#     a few lines in all (not one per partition).
# Needs root (a mount); skipped (exit 77) otherwise.
if [ -z "${ST_DISK_FULL_NS:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
        echo "test_disk_full: needs root and unshare for a private tmpfs mount; skipped"
        exit 77
    fi
    exec unshare -m --propagation private env ST_DISK_FULL_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI}"

mkdir -p "$ST_DATA"
mount -t tmpfs -o size=24m tmpfs "$ST_DATA" || fail "cannot mount a tmpfs on $ST_DATA"
# The broker must be gone before the unmount, and the log (outside the tmpfs) kept.
trap 'rc=$?; if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID"; st_wait_pid "$BROKER_PID" 20 || kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=""; fi; umount "$ST_DATA" 2>/dev/null; (exit $rc); st_cleanup' EXIT

start_broker
TOPIC=full
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
status_field() { "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json | jq -r ".storage.$1"; }
assert_eq 0 "$(status_field partitions_refusing_writes)" "partitions refusing writes at the start"

# An acks=all producer for the whole test: every record it prints was acknowledged.
st_bg "$ST_TMP/acks.txt" "$ST_TMP/producer.err" \
    "$RK_BIN/rk_durability" "$BOOTSTRAP" "$TOPIC" 100000000 --until "$ST_TMP/stop" --max-seconds 150
producer=$ST_BG_PID
acks_at_least() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge "$1" ]; }
wait_until 30 "the producer's first acknowledgements" acks_at_least 50

# Fill the disk.
dd if=/dev/zero of="$ST_DATA/filler" bs=1M count=64 2>/dev/null || true
log "disk full: $(df -h "$ST_DATA" | awk 'NR == 2 { print $3 " used, " $4 " free" }')"
full_mark=$(wc -l <"$ST_LOG")
t_full=$(date +%s)
refusing() { [ "$(status_field partitions_refusing_writes)" -ge 1 ]; }
wait_until 30 "status showing the partition refusing writes" refusing
# (A record small enough to fit in the slack of a file's last page may still be taken:
# one try a second goes to the disk. So: some produce within 15 s gets 56.)
storage_error() { timeout 10 "$RK_BIN/raw_batches" "$BROKER_PORT" "$TOPIC" one 56 >/dev/null 2>&1; }
wait_until 15 "a produce answered KAFKA_STORAGE_ERROR (56)" storage_error
log "a produce to the full partition got KAFKA_STORAGE_ERROR (56)"

# Hammer it for 15 s more (a flat-out producer on top of the steady one), then count.
timeout 30 "$STRAIT" perf produce --bootstrap "$BOOTSTRAP" --topic "$TOPIC" --record-size 1000 \
    --acks 1 --duration 15 -X message.timeout.ms=3000 -q >/dev/null 2>&1 || true
"$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status >"$ST_TMP/status.txt"
assert_contains "$ST_TMP/status.txt" "storage: +1 partitions refusing writes" "strait status shows the partition refusing writes"
assert_contains "$ST_TMP/status.txt" "full-0" "strait status names the partition"
errors=$(status_field storage_errors)
[ "$errors" -ge 1 ] || fail "status counts $errors failed writes, expected some"
t_lines=$(($(date +%s) - t_full))
tail -n +"$((full_mark + 1))" "$ST_LOG" >"$ST_TMP/full.log"
lines=$(grep -c "$TOPIC-0" "$ST_TMP/full.log" || true)
refused=$(grep -o '[0-9]* produce requests refused' "$ST_TMP/full.log" | tail -n 1 | cut -d' ' -f1 || true)
log "while full for ${t_lines} s: $lines log lines about $TOPIC-0 (${refused:-?} produce requests refused, $errors failed writes); first: $(grep -m1 "$TOPIC-0" "$ST_TMP/full.log" | cut -c1-200)"
max_lines=$((t_lines / 10 + 2))
[ "$lines" -ge 1 ] || fail "no log line about the full disk"
[ "$lines" -le "$max_lines" ] || fail "$lines log lines about $TOPIC-0 in $t_lines s; at most $max_lines (one per 10 s) expected"
[ "$(wc -l <"$ST_TMP/full.log")" -le $((max_lines + 60)) ] ||
    fail "$(wc -l <"$ST_TMP/full.log") log lines in all while the disk was full: the log is flooding"

# Space returns: the partition takes writes again by itself.
rm -f "$ST_DATA/filler"
before=$(wc -l <"$ST_TMP/acks.txt")
not_refusing() { [ "$(status_field partitions_refusing_writes)" = 0 ]; }
wait_until 30 "the partition taking writes again" not_refusing
wait_until 30 "acknowledgements after the space returned" acks_at_least $((before + 50))
timeout 30 "$RK_BIN/raw_batches" "$BROKER_PORT" "$TOPIC" one 0 || fail "a produce after recovery failed"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "$TOPIC-0: writes work again after" "the log says the partition recovered"
touch "$ST_TMP/stop"
st_wait_pid "$producer" 30 || fail "rk_durability did not stop within 30 s"
wait "$producer" || true
log "producer: $(tail -n 1 "$ST_TMP/producer.err")"
assert_acked_readable "$ST_TMP/acks.txt" "$TOPIC"

# Shutdown on a full disk again: at most a line or two per partition written to.
dd if=/dev/zero of="$ST_DATA/filler" bs=1M count=64 2>/dev/null || true
stop_mark=$(wc -l <"$ST_LOG")
stop_broker
shutdown_lines=$(tail -n +"$((stop_mark + 1))" "$ST_LOG" | grep -c -E "ERROR|WARN" || true)
log "shutdown on a full disk: $shutdown_lines warning/error lines"
[ "$shutdown_lines" -le 4 ] || fail "$shutdown_lines warning/error lines at shutdown on a full disk (51 partitions): expected at most 4"
