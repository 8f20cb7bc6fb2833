#!/usr/bin/env bash
# strait-mirror's start and stop (issue 11 items 1 and 8, issue 20 limit 6), dc1 → dc2 over
# the 40 ms WAN link:
#  1. a second daemon on the same state_dir refuses to start, naming the lock and the pid
#     holding it — before anything else (same config: the lock, not the taken endpoint);
#  2. SIGTERM with nothing in flight: gone within 2 s, and within 2 s of "stopped cleanly";
#  3. SIGTERM with records in flight over a link capped to 256 KB/s: the daemon waits for
#     them while they are acknowledged, then is gone within 2 s of the last one;
#  4. SIGTERM with records in flight and the link black-holed (dc2 answers nothing, no
#     error either): it gives up on them after 5 s without an acknowledgement and is gone
#     within 8 s;
#     restarted once the link is back, it copies them: dc2 ends complete;
#  5. SIGTERM with dc1 killed: gone within 2 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=4
dc_start dc1
dc_start dc2 wan
rk dc1 produce orders a 0 1000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders 1000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders

# ---- 1. one daemon per state_dir ----
sed "s|$MIRROR_MGMT|ipc://$ST_TMP/second.ipc|" "$MIRROR_CFG" >"$ST_TMP/second.cfg"
for cfg in "$MIRROR_CFG" "$ST_TMP/second.cfg"; do
    rc=0
    timeout 20 "$STRAIT_MIRROR" -c "$cfg" >"$ST_TMP/second.log" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a second strait-mirror on the same state_dir did not refuse to start (status $rc)"
    assert_contains "$ST_TMP/second.log" \
        "state directory $MIRROR_STATE is in use: $MIRROR_STATE/\\.lock is locked by process $MIRROR_PID" \
        "the second daemon's refusal ($(basename "$cfg"))"
done
log "a second daemon refused: $(grep -o 'state directory .*' "$ST_TMP/second.log" | head -n 1)"
assert_eq "$MIRROR_PID" "$(cat "$MIRROR_STATE/.lock")" "the pid in $MIRROR_STATE/.lock"

# stop_timed WHAT MAX_MS [MAX_AFTER_MARK_MS MARK [PROBE]]: SIGTERM, then checks the daemon
# exits 0 within MAX_MS, and within MAX_AFTER_MARK_MS of its last log line matching MARK;
# PROBE, a command, must come true (polled, 4 s at most) while it stops.
stop_timed() {
    local what=$1 max=$2 max_after=${3:-2000} mark=${4:-stopped cleanly} probe=${5:-} t0 t1 rc=0 line ts
    t0=$(date +%s%3N)
    kill -TERM "$MIRROR_PID"
    [ -z "$probe" ] || wait_until 4 "$probe while strait-mirror stops ($what)" "$probe"
    st_wait_pid "$MIRROR_PID" 30 || fail "strait-mirror still running 30 s after SIGTERM ($what)"
    t1=$(date +%s%3N)
    wait "$MIRROR_PID" || rc=$?
    MIRROR_PID=""
    [ "$rc" -eq 0 ] || fail "strait-mirror exited with status $rc after SIGTERM ($what)"
    line=$(mirror_log_since_start | grep -E "$mark" | tail -n 1)
    [ -n "$line" ] || fail "no log line matching /$mark/ ($what)"
    ts=$(date -d "${line%% *}" +%s%3N)
    log "$what: exited $((t1 - t0)) ms after SIGTERM, $((t1 - ts)) ms after \"${line#* * }\""
    [ $((t1 - t0)) -le "$max" ] || fail "$what: strait-mirror took $((t1 - t0)) ms to exit (at most $max)"
    [ $((t1 - ts)) -le "$max_after" ] ||
        fail "$what: strait-mirror exited $((t1 - ts)) ms after \"$mark\" (at most $max_after)"
}

# ---- 2. nothing in flight ----
stop_timed "idle" 2000

# ---- 3. records in flight, acknowledged slowly ----
mirror_start
wait_until 30 "flow dc1->dc2 running" flow_caught_up 'dc1->dc2' orders
proxy_cmd rate 262144
rk dc1 produce orders a 1000 3000 "$PARTS" >/dev/null || fail "producing to dc1 failed"
in_flight() { mirror_status_json 'dc1->dc2' | jq -e '[.partitions[] | select(.topic == "orders") | .lag_records] | add > 500' >/dev/null; }
wait_until 20 "records in flight to dc2" in_flight
stop_timed "in flight over a 256 KB/s link" 12000 2000 "every record in flight acknowledged|still unacknowledged"
mirror_log_since_start | grep -q "every record in flight acknowledged" ||
    fail "the records in flight were not all acknowledged before the daemon stopped: $(mirror_log_since_start | grep stopping)"
proxy_cmd rate 0

# ---- 4. records in flight, the link black-holed ----
mirror_start
wait_until 30 "flow dc1->dc2 running" flow_caught_up 'dc1->dc2' orders
proxy_cmd rate 262144
# ~1 MB: seconds of transfer at 256 KB/s, so records are still in flight when the link dies
rk dc1 produce orders a 4000 8000 "$PARTS" >/dev/null || fail "producing to dc1 failed"
handed_over() { mirror_status_json 'dc1->dc2' | jq -e '.in_flight_records >= 1000' >/dev/null; }
wait_until 20 "records handed to the producer and not yet acknowledged" handed_over
proxy_cmd blackhole
# status answers while the daemon waits for the target, and names the state
says_stopping() { mirror_status_json 'dc1->dc2' | jq -e '.state == "stopping"' >/dev/null; }
stop_timed "in flight, link black-holed" 8000 2000 "stopped cleanly" says_stopping
proxy_cmd restore
proxy_cmd rate 0
mirror_log_since_start | grep -q "still unacknowledged" ||
    fail "the daemon did not report the records it gave up on"
mirror_start
wait_count 60 dc2 dc1.orders 12000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
rk dc2 verify dc1.orders --expect "a:12000:$PARTS:dc1" --max-dups 12000 >"$ST_TMP/verify.txt" 2>&1 || {
    cat "$ST_TMP/verify.txt" >&2
    fail "dc1.orders on dc2 is incomplete after stops with records in flight"
}
log "dc2: $(tail -n 1 "$ST_TMP/verify.txt")"

# ---- 5. the source gone ----
kill -KILL "${DC_PID[dc1]}"
wait "${DC_PID[dc1]}" 2>/dev/null || true
DC_PID[dc1]=""
log "dc1's straitd killed"
stop_timed "source killed" 2000
