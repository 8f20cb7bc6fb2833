#!/usr/bin/env bash
# strait-mirror: a slow cluster stalls only its own flow, and the daemon keeps answering
# (issue 12 item 4, issue 20 limit 6). One daemon, two flows from dc1: dc1->dc2 (local)
# and dc1->dc3, dc3 behind the WAN proxy. Once both are caught up, the link to dc3 is
# slowed to 4 s each way (every request to dc3 now takes 8 s: longer than any metadata
# or offset call's timeout) while 4,000 more records reach dc1:
#  - dc1->dc2 copies them all anyway, as fast as before;
#  - dc1->dc3 shows lag (it is really stalled);
#  - every `strait mirror status` answers, and the daemon's own loop never takes a turn
#    longer than 100 ms (status "loop": a command waits at most one turn);
# then the link is restored and dc3 catches up, byte for byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=4
N1=2000
N2=4000
N=$((N1 + N2))
SLOW_MS=4000
MAX_TURN_MS=${MAX_TURN_MS:-100}

dc_start dc1
dc_start dc2
dc_start dc3 wan

rk dc1 produce orders a 0 "$N1" "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')" "$(mirror_flow dc1 dc3 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders "$N1"
wait_count 60 dc3 dc1.orders "$N1"
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
wait_until 30 "flow dc1->dc3 caught up" flow_caught_up 'dc1->dc3' orders

# ---- dc3 becomes slow ----
proxy_cmd delay "$SLOW_MS"
log "link to dc3 slowed to $SLOW_MS ms each way"
t_slow=$(date +%s%N)
rk dc1 produce orders a "$N1" "$N2" "$PARTS" >/dev/null || fail "producing to dc1 failed"
# status all along, while dc1->dc2 copies the new records and dc1->dc3 cannot
max_cli_ms=0 calls=0 dc2_ms=""
deadline=$(($(date +%s) + 30))
while :; do
    s0=$(date +%s%N)
    mirror_status_json >"$ST_TMP/status.json" 2>"$ST_TMP/status.err" ||
        fail "status got no answer while dc3 was slow: $(cat "$ST_TMP/status.err")"
    took=$((($(date +%s%N) - s0) / 1000000))
    calls=$((calls + 1))
    [ "$took" -le "$max_cli_ms" ] || max_cli_ms=$took
    if [ -z "$dc2_ms" ] && count_at_least dc2 dc1.orders "$N"; then
        dc2_ms=$((($(date +%s%N) - t_slow) / 1000000))
        log "dc1->dc2 copied all $N records $dc2_ms ms after dc3 slowed"
    fi
    # at least two sync intervals (1 s) and one slow round trip after the copy
    if [ -n "$dc2_ms" ] && [ $((($(date +%s%N) - t_slow) / 1000000)) -ge $((2 * SLOW_MS + 2000)) ]; then
        break
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "dc1->dc2 did not copy the $N2 new records within 30 s while dc3 was slow"
    sleep 0.1
done
dc3_lag=$(jq '[.flows[] | select(.flow == "dc1->dc3") | .partitions[] | select(.topic == "orders") | .lag_records] | add' "$ST_TMP/status.json")
loop_max=$(jq '.loop.max_ms' "$ST_TMP/status.json")
loop_p99=$(jq '.loop.p99_ms' "$ST_TMP/status.json")
log "while dc3 was slow: $calls status calls, slowest $max_cli_ms ms (process start included);" \
    "daemon loop turns p99 $loop_p99 ms, max $loop_max ms ($(jq '.loop.turns' "$ST_TMP/status.json") turns);" \
    "dc1->dc3 lag $dc3_lag records"
jq -e '.loop' "$ST_TMP/status.json" >/dev/null || fail "status has no \"loop\" figures"
# The goal holds for a machine that is not oversubscribed: a turn is a few ms of work, but
# wall-clock turns also count the time the thread waits for a CPU. With the run queue
# over twice the cores (other tests, other jobs), hold p99 to the goal and the longest to
# 1 s instead, and say so.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > 2 * n) }'; then
    log "WARNING: load average $load on $(nproc) CPUs: checking p99 <= $MAX_TURN_MS ms and max <= 1000 ms"
    jq -e --argjson m "$MAX_TURN_MS" '.loop.p99_ms <= $m and .loop.max_ms <= 1000' "$ST_TMP/status.json" >/dev/null ||
        fail "the daemon's loop turns: p99 $loop_p99 ms, max $loop_max ms: something waited for a cluster on it"
else
    jq -e --argjson m "$MAX_TURN_MS" '.loop.max_ms <= $m' "$ST_TMP/status.json" >/dev/null ||
        fail "the daemon's loop took a $loop_max ms turn (goal: at most $MAX_TURN_MS ms): something waited for a cluster on it"
fi
[ "$max_cli_ms" -le 2000 ] || fail "a status call took $max_cli_ms ms while dc3 was slow"
[ "$dc3_lag" -gt 0 ] || fail "dc1->dc3 shows no lag although dc3 was slowed: the test did not slow it"
rk dc2 verify dc1.orders --expect "a:$N:$PARTS:dc1" >"$ST_TMP/verify2.txt" 2>&1 || {
    cat "$ST_TMP/verify2.txt" >&2
    fail "dc1.orders on dc2 is not exactly dc1's records"
}

# ---- dc3 recovers ----
proxy_cmd delay "$WAN_DELAY_MS"
log "link to dc3 back to $WAN_DELAY_MS ms"
wait_count 90 dc3 dc1.orders "$N"
wait_until 30 "flow dc1->dc3 caught up" flow_caught_up 'dc1->dc3' orders
rk dc3 verify dc1.orders --expect "a:$N:$PARTS:dc1" >"$ST_TMP/verify3.txt" 2>&1 || {
    cat "$ST_TMP/verify3.txt" >&2
    fail "dc1.orders on dc3 is not exactly dc1's records after the slow link"
}
log "dc3: $(tail -n 1 "$ST_TMP/verify3.txt")"
mirror_stop
