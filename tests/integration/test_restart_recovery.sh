#!/usr/bin/env bash
# Restarts and crashes:
#  1. a clean restart (SIGTERM) keeps every topic and every record, byte for byte, and
#     leaves then consumes the clean-shutdown marker;
#  2. kill -9 during an acks=all produce into a topic with flush.messages=1: after the
#     restart every acknowledged record is readable at its offset;
#  3. a torn tail (the active .log cut a few bytes short after kill -9) is truncated on
#     restart (logged as "truncated") and every record of the intact batches reads back;
#  4. the same with one byte flipped inside the last batch (a CRC mismatch).
. "$(dirname "$0")/lib.sh"

produce_lines() { # TOPIC < "key<TAB>value" lines
    kc -P -t "$1" -p 0 -K $'\t' -X acks=all || fail "kcat -P into $1 failed"
}

end_offset() { # TOPIC → the end offset of partition 0
    kc -Q -t "$1:0:-1" | awk '{print $NF}'
}

active_log() { # TOPIC → path of the newest segment of partition 0
    local f
    f=$(ls "$ST_DATA/$1-0/"*.log 2>/dev/null | sort | tail -n 1)
    [ -n "$f" ] || fail "no segment file under $ST_DATA/$1-0/"
    echo "$f"
}

expect_truncation_logged() { # WHAT
    broker_log_since_start >"$ST_TMP/run.log"
    assert_contains "$ST_TMP/run.log" "truncated" "$1: recovery logs the truncation"
    log "$1: broker logged: $(grep -m1 truncated "$ST_TMP/run.log")"
}

# ---- 1. clean restart ----
start_broker
seq 1 5000 | awk '{printf "key-%d\tvalue-%d-%s\n", $1, $1, substr("abcdefghijklmnopqrstuvwxyz", 1, $1 % 27)}' |
    produce_lines restart-a
printf 'only\tone record\n' | produce_lines restart-b
kc -L | grep -E '^ +topic ' | sort >"$ST_TMP/topics-before.txt"
read_topic restart-a '%o %k %s\n' >"$ST_TMP/a-before.txt"
read_topic restart-b '%o %k %s\n' >"$ST_TMP/b-before.txt"
assert_eq 5000 "$(wc -l <"$ST_TMP/a-before.txt")" "records in restart-a before the restart"

stop_broker
start_broker
[ ! -e "$ST_DATA/.clean_shutdown" ] ||
    fail "the clean-shutdown marker is still there after start-up: a crash now would skip recovery"
kc -L | grep -E '^ +topic ' | sort >"$ST_TMP/topics-after.txt"
assert_same_file "$ST_TMP/topics-before.txt" "$ST_TMP/topics-after.txt" "topics after a clean restart"
read_topic restart-a '%o %k %s\n' >"$ST_TMP/a-after.txt"
read_topic restart-b '%o %k %s\n' >"$ST_TMP/b-after.txt"
assert_same_file "$ST_TMP/a-before.txt" "$ST_TMP/a-after.txt" "restart-a after a clean restart"
assert_same_file "$ST_TMP/b-before.txt" "$ST_TMP/b-after.txt" "restart-b after a clean restart"
printf 'later\tafter the restart\n' | produce_lines restart-a
assert_eq 5001 "$(end_offset restart-a)" "end offset of restart-a after one more record"

# ---- 2. kill -9 under an acks=all producer, flush.messages=1 ----
"$RK_BIN/rk_admin" "$BOOTSTRAP" create durable 1 flush.messages=1 >/dev/null
st_bg "$ST_TMP/acks.txt" "$ST_TMP/producer.err" \
    "$RK_BIN/rk_durability" "$BOOTSTRAP" durable 1000000 --max-seconds 60
producer=$ST_BG_PID
acked() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge 300 ]; }
wait_until 40 "300 acknowledged records from rk_durability" acked
kill9_broker
# The producer cannot tell a dead broker from a slow one: stop it; it then waits for its
# outstanding delivery reports (message.timeout.ms 5 s) and exits.
kill -TERM "$producer"
st_wait_pid "$producer" 30 || fail "rk_durability did not finish 30 s after SIGTERM"
wait "$producer" || fail "rk_durability failed: $(cat "$ST_TMP/producer.err")"
log "producer: $(tail -n 1 "$ST_TMP/producer.err")"
start_broker
assert_acked_readable "$ST_TMP/acks.txt" durable

# ---- 3. a torn tail ----
for run in 1 2 3 4; do
    seq 1 10 | awk -v r=$run '{printf "torn-%d-%d\tintact record %d of run %d\n", r, $1, $1, r}' |
        produce_lines torn
done
read_topic torn '%o %k %s\n' >"$ST_TMP/torn-expected.txt"
assert_eq 40 "$(wc -l <"$ST_TMP/torn-expected.txt")" "records in torn before the crash"
printf 'torn-last\tthe last batch, to be cut short\n' | produce_lines torn
kill9_broker
seg=$(active_log torn)
size=$(stat -c %s "$seg")
truncate -s $((size - 3)) "$seg"
log "cut 3 bytes off $seg ($size bytes)"
start_broker
expect_truncation_logged "torn tail"
read_topic torn '%o %k %s\n' >"$ST_TMP/torn-after.txt"
assert_same_file "$ST_TMP/torn-expected.txt" "$ST_TMP/torn-after.txt" "torn after recovery"
assert_eq 40 "$(end_offset torn)" "end offset of torn after the torn batch was cut"

# ---- 4. a flipped byte inside the last batch ----
printf 'flip-last\tthe last batch, to be corrupted\n' | produce_lines torn
kill9_broker
seg=$(active_log torn)
pos=$(($(stat -c %s "$seg") - 8)) # inside the value of the last record
byte=$(od -An -tu1 -j "$pos" -N 1 "$seg" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 0x5a)))" | dd of="$seg" bs=1 seek="$pos" conv=notrunc status=none
log "flipped byte $pos of $seg ($byte → $((byte ^ 0x5a)))"
start_broker
expect_truncation_logged "flipped byte"
read_topic torn '%o %k %s\n' >"$ST_TMP/flip-after.txt"
assert_same_file "$ST_TMP/torn-expected.txt" "$ST_TMP/flip-after.txt" "torn after the corrupt batch"
printf 'after\trecovery\n' | produce_lines torn
assert_eq 41 "$(end_offset torn)" "end offset once a record follows the recovered log"
stop_broker
