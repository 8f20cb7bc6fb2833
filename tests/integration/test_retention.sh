#!/usr/bin/env bash
# Retention by size: a topic with segment.bytes=4096 and retention.bytes=16384 on a
# broker checking retention every 200 ms. After producing ~200 KB the log start offset
# must advance and the oldest segment files disappear; then a librdkafka consumer at
# offset 0 with auto.offset.reset=earliest lands on the new start and reads everything
# from there, and one with auto.offset.reset=error is told OFFSET_OUT_OF_RANGE.
. "$(dirname "$0")/lib.sh"

TOPIC=retained
ST_EXTRA_CFG='log = { retention_check_interval_ms = 200; };'
start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 segment.bytes=4096 retention.bytes=16384 \
    >/dev/null

# 2,000 records of ~100 bytes in small batches (10 records), so segments roll often.
seq 1 2000 | awk '{printf "k%d\t%d:%s\n", $1, $1, "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"}' |
    kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all -X batch.num.messages=10 -X linger.ms=1 ||
    fail "kcat -P failed"

watermarks() { "$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" "$TOPIC" 0; }
read -r low high < <(watermarks)
assert_eq 2000 "$high" "high watermark after producing 2000 records"
dir="$ST_DATA/$TOPIC-0"
log "segments right after producing: $(ls "$dir"/*.log | wc -l)"

start_advanced() {
    read -r low high < <(watermarks)
    [ "$low" -gt 0 ] && [ ! -e "$dir/00000000000000000000.log" ] &&
        [ ! -e "$dir/00000000000000000000.index" ] && [ ! -e "$dir/00000000000000000000.timeindex" ]
}
wait_until 30 "log start offset > 0 and the first segment's files deleted" start_advanced

# What is left fits retention.bytes plus the active segment (retention never deletes it).
# One retention pass unlinks segment after segment, so wait (bounded) for the pass to
# finish rather than measuring in its middle.
within_retention() {
    total=$(cat "$dir"/*.log | wc -c)
    [ "$total" -le $((16384 + 4096 + 2048)) ]
}
wait_until 10 "the partition to shrink to retention.bytes (16384) plus the active segment" \
    within_retention
read -r low high < <(watermarks)
log "low watermark $low, high $high, $(ls "$dir"/*.log | wc -l) segments, $total bytes"

# The oldest remaining segment is named by the log start offset (or the start lies in it).
first_seg=$(ls "$dir"/*.log | sort | head -n 1)
first_base=$((10#$(basename "$first_seg" .log)))
[ "$first_base" -le "$low" ] || fail "oldest segment starts at $first_base, above the log start offset $low"

"$RK_BIN/rk_offset_reset" earliest "$BOOTSTRAP" "$TOPIC" 0 >"$ST_TMP/earliest.txt" ||
    fail "consumer with auto.offset.reset=earliest"
read -r _ first _ last _ count <"$ST_TMP/earliest.txt"
assert_eq "$low" "$first" "first offset read with auto.offset.reset=earliest"
assert_eq $((high - 1)) "$last" "last offset read"
assert_eq $((high - low)) "$count" "records read from the log start to the end"

"$RK_BIN/rk_offset_reset" error "$BOOTSTRAP" "$TOPIC" 0 >"$ST_TMP/error.txt" ||
    fail "consumer with auto.offset.reset=error"
assert_contains "$ST_TMP/error.txt" "[Oo]ffset out of range|OFFSET_OUT_OF_RANGE" "auto.offset.reset=error reports the out-of-range offset"
log "auto.offset.reset=error: $(cat "$ST_TMP/error.txt")"

# Retention is also visible in the broker log (segment deletion is logged).
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "$TOPIC-0.*delet" "the broker logs the segment deletion for $TOPIC-0"
