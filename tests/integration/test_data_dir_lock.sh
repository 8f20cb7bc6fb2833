#!/usr/bin/env bash
# The data directory lock (<data>/.lock, flock, holding the pid):
#  1. a broker serves; an acks=all producer (rk_durability) gets 200 records acknowledged;
#  2. a second straitd on the same --data-dir (its own port and management endpoint)
#     must refuse at start: exit non-zero within 10 s, its message naming the lock file
#     and the first broker's pid; the data directory is as it was (the same files, the
#     same meta/topics.json, .lock still holding the first pid, no clean-shutdown marker
#     written by the refused process);
#  3. the first broker keeps serving (50 more acknowledged records);
#  4. after a clean restart every acknowledged record is readable at its offset.
# Without the lock the second broker started, rewrote meta/topics.json and appended at
# the offsets the first had acknowledged: records were lost.
. "$(dirname "$0")/lib.sh"

TOPIC=locked
start_broker
first_pid=$BROKER_PID
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
"$RK_BIN/rk_durability" "$BOOTSTRAP" "$TOPIC" 200 --expect-all >"$ST_TMP/acks.txt" 2>"$ST_TMP/producer.err" ||
    fail "rk_durability failed: $(tail -n 3 "$ST_TMP/producer.err")"
assert_eq 200 "$(wc -l <"$ST_TMP/acks.txt")" "records acknowledged by the first broker"

snapshot() { # the directory's file names and the contents of meta/ and .lock
    (cd "$ST_DATA" && find . -path ./"$TOPIC"-0 -prune -o -print | sort && sha256sum meta/* .lock 2>&1) || true
}
snapshot >"$ST_TMP/before.txt"

# ---- 2. the second broker on the same directory ----
second_log="$ST_TMP/second.log"
"$STRAITD" -c "$ST_TMP/straitd.cfg" --host 127.0.0.1 --port 0 --data-dir "$ST_DATA" \
    --mgmt "ipc://$ST_TMP/mgmt2.ipc" --ready-file "$ST_TMP/ready2" >"$second_log" 2>&1 &
second=$!
ST_PIDS+=("$second")
if ! st_wait_pid "$second" 10; then
    fail "a second straitd on $ST_DATA is still running 10 s after its start (ready file: $(cat "$ST_TMP/ready2" 2>/dev/null || echo none)): two brokers share one data directory"
fi
rc=0
wait "$second" || rc=$?
[ "$rc" -ne 0 ] || fail "the second straitd exited with status 0; it must refuse with a non-zero status"
[ ! -e "$ST_TMP/ready2" ] || fail "the second straitd wrote a ready file: it served"
assert_contains "$second_log" "$ST_DATA/\.lock" "the refusal names the lock file"
assert_contains "$second_log" "process $first_pid" "the refusal names the pid holding the lock"
log "FIGURE second straitd (exit status $rc): $(grep -m1 'lock' "$second_log")"
[ ! -e "$ST_DATA/.clean_shutdown" ] || fail "the refused straitd wrote $ST_DATA/.clean_shutdown"
snapshot >"$ST_TMP/after.txt"
assert_same_file "$ST_TMP/before.txt" "$ST_TMP/after.txt" "the data directory (files, meta/, .lock) after the refused start"
assert_eq "$first_pid" "$(tr -d '\n' <"$ST_DATA/.lock")" "pid in $ST_DATA/.lock"

# ---- 3. the first keeps serving ----
kill -0 "$first_pid" 2>/dev/null || fail "the first broker died"
"$RK_BIN/rk_durability" "$BOOTSTRAP" "$TOPIC" 50 --expect-all >"$ST_TMP/acks2.txt" 2>"$ST_TMP/producer2.err" ||
    fail "the first broker stopped serving: $(tail -n 3 "$ST_TMP/producer2.err")"
# rk_durability numbers its keys from 0 again; the offsets tell the records apart
cat "$ST_TMP/acks2.txt" >>"$ST_TMP/acks.txt"
assert_eq 250 "$(wc -l <"$ST_TMP/acks.txt")" "records acknowledged by the first broker in all"
assert_eq 250 "$(cut -d' ' -f2 "$ST_TMP/acks.txt" | sort -u | wc -l)" "distinct offsets acknowledged"

# ---- 4. everything is there after a restart ----
stop_broker
start_broker
assert_acked_readable "$ST_TMP/acks.txt" "$TOPIC"
assert_eq "$BROKER_PID" "$(tr -d '\n' <"$ST_DATA/.lock")" "pid in $ST_DATA/.lock after the restart"
stop_broker
