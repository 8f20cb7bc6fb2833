#!/usr/bin/env bash
# Replayed historical data (tracker issue 21): 1,000 records with 1970-era CreateTime
# timestamps stay readable until a retention check, exactly as on Kafka; at the check
# they are deleted as Kafka deletes them (their newest timestamp is far older than
# retention.ms), the active segment included.
#
# Phase 1, the reported reproduction, on a broker with the default
# log.retention.check.interval.ms (first check 30 s after start): produce, watermarks
# 0..1000, librdkafka's seek-by-timestamp pattern (offsets_for_times, then seek) to the
# 500th record's time, fetch 500..999 — repeated for more than 3 s, which the old
# one-second housekeeping tick never survived.
# Phase 2: restart with log.retention.check.interval.ms = 4000: nothing goes before the
# first check (4 s after start), then everything, and the log start offset is 1000.
. "$(dirname "$0")/lib.sh"

TOPIC=replayed
FIRST_TS=1000 # 1970-01-01T00:00:01Z; record i is stamped FIRST_TS + i
now_ms() { date +%s%3N; }

t_start=$(now_ms)
start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
"$RK_BIN/rk_replay" produce "$BOOTSTRAP" "$TOPIC" 1000 "$FIRST_TS" >/dev/null ||
    fail "producing 1000 records with 1970 timestamps"
t_acked=$(now_ms)

expected="low 0 high 1000 offset 500 first 500 last 999 count 500"
rounds=0
while :; do
    got=$("$RK_BIN/rk_replay" seek "$BOOTSTRAP" "$TOPIC" "$FIRST_TS" $((FIRST_TS + 500))) ||
        fail "seek by timestamp, round $((rounds + 1)), $(($(now_ms) - t_acked)) ms after the acks"
    assert_eq "$expected" "$got" "watermarks, offsets_for_times and the records fetched"
    rounds=$((rounds + 1))
    # at least two rounds, and until 3 s have passed since the records were acknowledged
    [ "$rounds" -ge 2 ] && [ $(($(now_ms) - t_acked)) -ge 3000 ] && break
done
elapsed=$(($(now_ms) - t_start))
# The first retention check runs 30 s after start: past that, phase 1 proved nothing.
[ "$elapsed" -lt 29000 ] ||
    fail "phase 1 took $elapsed ms, past the first retention check (30 s): rerun on a quieter machine"
log "phase 1: $rounds rounds of \"$got\" over $(($(now_ms) - t_acked)) ms after the acks"
broker_log_since_start >"$ST_TMP/run1.log"
assert_not_contains "$ST_TMP/run1.log" "deleted segment" "no segment deleted before a retention check"
stop_broker

# Phase 2: a short check interval; watch the watermarks from the start.
ST_EXTRA_CFG='log = { retention_check_interval_ms = 4000; };'
t_start=$(now_ms)
start_broker
last_kept=-1 deleted_at=-1
deadline=$((t_start + 30000))
while [ "$(now_ms)" -lt "$deadline" ]; do
    t=$(now_ms)
    read -r low high < <("$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" "$TOPIC" 0)
    assert_eq 1000 "$high" "high watermark"
    if [ "$low" = 0 ]; then
        last_kept=$((t - t_start))
    elif [ "$low" = 1000 ]; then
        deleted_at=$((t - t_start))
        break
    else
        fail "low watermark $low: expected 0 (before the check) or 1000 (after it)"
    fi
    sleep 0.1
done
[ "$deleted_at" -ge 0 ] || fail "the records were not deleted within 30 s of a 4 s retention check"
log "phase 2: a client saw them $last_kept ms after start and saw them gone at $deleted_at ms"
# The client's view, loosely (a query's start is only a bound on when it was answered):
# still there seconds after the start, where the old one-second tick had deleted them.
[ "$last_kept" -ge 2000 ] || fail "records last seen $last_kept ms after start, expected >= 2000"
# The broker's view, exactly: the retention timer starts once the logs are open (the
# "topics open" line) and the deletion is the first check's, 4000 ms later.
broker_log_since_start >"$ST_TMP/run2.log"
line_ms() { date -d "$(grep -m1 -E "$1" "$ST_TMP/run2.log" | cut -d' ' -f1)" +%s%3N; }
opened=$(line_ms "topics open")
deleted=$(line_ms "$TOPIC-0: deleted segment")
log "phase 2: logs opened, then the segment deleted $((deleted - opened)) ms later (broker log)"
[ $((deleted - opened)) -ge 3990 ] ||
    fail "segment deleted $((deleted - opened)) ms after the logs opened, before the first retention check (4000 ms)"

got=$("$RK_BIN/rk_replay" seek "$BOOTSTRAP" "$TOPIC" "$FIRST_TS" $((FIRST_TS + 500)))
assert_eq "low 1000 high 1000 empty offsets_for_times -1" "$got" "the partition after the check"
assert_contains "$ST_TMP/run2.log" "$TOPIC-0: deleted segment 0+ .*retention.ms.*log start offset now 1000" \
    "the deletion is logged with its reason"
# New records land at the end offset and are readable.
"$RK_BIN/rk_replay" produce "$BOOTSTRAP" "$TOPIC" 1 "$(now_ms)" >/dev/null
read -r low high < <("$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" "$TOPIC" 0)
assert_eq "1000 1001" "$low $high" "watermarks after producing one more record"
