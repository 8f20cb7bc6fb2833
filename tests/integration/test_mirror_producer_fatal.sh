#!/usr/bin/env bash
# strait-mirror recovers from a fatal error of its idempotent producer without a restart
# (issue 20 limit 4), dc1 → dc2 over the 40 ms WAN link, while a producer streams into
# dc1. The fault proxy rewrites one Produce response to dc2 into
# OUT_OF_ORDER_SEQUENCE_NUMBER (45) — the broker stored the batch, the producer is told
# the sequence is out of order at the head of the partition: librdkafka's fatal error,
# after which it cannot say which records in flight were stored. Twice, a few seconds
# apart. The daemon must replace its producer each time (status "producer_restarts"),
# resume from its offset map and a scan of dc2, and end with dc2 complete: every record
# once, in order, no duplicate, no gap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

N=${MIRROR_RECORDS:-40000}
RATE=${MIRROR_RATE:-600000} # value bytes a second: ~4,400 records/s, ~9 s
PARTS=4

dc_start dc1
dc_start dc2 wan
rk dc1 produce stream a 0 0 "$PARTS" --create >/dev/null || fail "creating stream on dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"stream"')"
mirror_start
st_bg "$ST_TMP/produce.txt" "$ST_TMP/produce.err" \
    "$RK_CHECK" produce "${DC_BOOT[dc1]}" stream a 0 "$N" "$PARTS" --rate "$RATE"
PRODUCER=$ST_BG_PID

restarts() { mirror_status_json 'dc1->dc2' | jq -r '.producer_restarts'; }
restarts_at_least() { [ "$(restarts)" -ge "$1" ]; }
for k in 1 2; do
    wait_count 60 dc2 dc1.stream $((k * N / 4))
    # (should the stream be over already, the fault hits the next heartbeat's copy instead)
    kill -0 "$PRODUCER" 2>/dev/null || log "note: the stream ended before fault $k"
    proxy_cmd fail-produce 45 1
    log "fault $k: the next Produce response to dc2 says OUT_OF_ORDER_SEQUENCE_NUMBER ($PROXY_ANSWER)"
    wait_until 30 "the daemon to replace its producer ($k)" restarts_at_least "$k"
    grep -q "a Produce response now says error 45" "$ST_TMP/netproxy.log" ||
        fail "the proxy did not rewrite a Produce response"
    log "after fault $k: $(mirror_log_since_start | grep -o 'fatal error: [^;]*' | tail -n 1 | cut -c1-160)"
done

wait "$PRODUCER" || fail "the producer failed: $(cat "$ST_TMP/produce.err")"
wait_count 60 dc2 dc1.stream "$N"
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' stream
rk dc2 verify dc1.stream --expect "a:$N:$PARTS:dc1" --wait-ms 3000 >"$ST_TMP/verify.txt" 2>&1 || {
    cat "$ST_TMP/verify.txt" >&2
    fail "dc1.stream on dc2 is not exactly dc1's records after two fatal producer errors"
}
assert_eq "$N $PARTS" "$(rk dc2 count dc1.stream)" "records in dc1.stream on dc2 (none twice)"
log "dc2: $(tail -n 1 "$ST_TMP/verify.txt"); $(flow_summary 'dc1->dc2'); producer restarts $(restarts)"
assert_eq 2 "$(restarts)" "producer_restarts in the flow's status"
mirror_stop
