#!/usr/bin/env bash
# A failover survives a restart of strait-mirror (issue 20 limit 3), dc1 → dc2 with prefix
# naming over the 40 ms WAN link. Records: tag a produced on dc1, tag b on dc2 (into
# dc1.orders, as producers do after a failover).
#  1. failover, then restart: the flow is still failed-over (status and report), and
#     records produced on dc1 are NOT copied into dc2, which has taken over; the state is
#     in <state_dir>/flows/dc1.to.dc2.json;
#  2. the state dir lost (another machine), restart: still failed-over — from dc2's
#     record — and the file is written again;
#  3. failback after the restart (from the saved divergence points): dc2's b records
#     reach dc1;
#  4. restart while failed back: the reverse flow resumes where it was (more b records
#     arrive on dc1 once, none twice);
#  5. reset: the flow runs dc1 → dc2 again, copies the a records held back since the
#     failover, and sends none of the b records back; a restart keeps it so. Like
#     failover, failback and reset return only once the state file holds the new state:
#     it is read the moment they return (here and in every round of 6);
#  6. "failed-over" means the state is on disk (review of issue 20): the flow's status
#     says failed-over, and `strait mirror failover` returns, only once the state file
#     holds failed-over. The status is polled as fast as the CLI goes while the failover
#     runs, and the file read the moment it says failed-over; over ROUNDS rounds of
#     failover, failback, reset (a daemon that wrote the file after saying failed-over was
#     caught in most runs). The last round is killed with SIGKILL right after failover
#     returned: the restarted flow is failed over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=4
STATE_FILE="$MIRROR_STATE/flows/dc1.to.dc2.json"
dc_start dc1
dc_start dc2 wan

rk dc1 produce orders a 0 4000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders 4000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
state_is() { [ "$(mirror_status_json 'dc1->dc2' | jq -r .state)" = "$1" ]; }

# ---- 1. failover, restart ----
mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover.txt" 2>&1 || fail "failover failed: $(cat "$ST_TMP/failover.txt")"
assert_eq failed-over "$(jq -r .state "$STATE_FILE")" "the state in $STATE_FILE after failover"
mirror_stop
rk dc1 produce orders a 4000 400 "$PARTS" >/dev/null || fail "producing to dc1 failed"
mirror_start
wait_until 30 "the restarted flow to be failed-over" state_is failed-over
mirror_status_json 'dc1->dc2' >"$ST_TMP/status1.json"
jq -e '.failover.target_end | length == 4' "$ST_TMP/status1.json" >/dev/null ||
    fail "the restarted flow has no failover report: $(jq -c .failover "$ST_TMP/status1.json")"
mirror_log_since_start | grep -q "was failed over" || fail "the daemon did not say the flow was failed over"
# dc2 has taken over: for three sync intervals nothing more arrives there
for k in 1 2 3 4 5 6; do
    assert_eq "4000 $PARTS" "$(rk dc2 count dc1.orders)" "dc1.orders on dc2 while failed over (check $k of 6, every 0.5 s)"
    sleep 0.5
done
log "restarted failed-over: not copying (dc2 holds 4000 while dc1 has 4400); $(grep -c . "$STATE_FILE") lines in $STATE_FILE"

# ---- 2. the state dir lost ----
mirror_stop
rm -f "$STATE_FILE"
mirror_start
wait_until 30 "the restarted flow to be failed-over (from dc2's record)" state_is failed-over
wait_until 10 "$STATE_FILE to be written again" test -s "$STATE_FILE"
assert_eq failed-over "$(jq -r .state "$STATE_FILE")" "the state file rewritten from dc2's record"
assert_eq "4000 $PARTS" "$(rk dc2 count dc1.orders)" "dc1.orders on dc2 (nothing copied after a restart without the state dir)"
log "without its state dir the daemon learned the failover from dc2"

# ---- 3. failback after the restart ----
rk dc2 produce dc1.orders b 0 200 "$PARTS" >/dev/null || fail "producing to dc2 failed"
mirror_cli failback 'dc1->dc2' >"$ST_TMP/failback.txt" 2>&1 || fail "failback failed: $(cat "$ST_TMP/failback.txt")"
seen=$(cat "$STATE_FILE") # at once: failback returns once the file holds failed-back
assert_eq failed-back "$(jq -r .state <<<"$seen")" "the state in $STATE_FILE the moment failback returned"
log "failback: $(paste -sd' ' "$ST_TMP/failback.txt")"
wait_count 60 dc1 orders 4600

# ---- 4. restart while failed back ----
mirror_stop
rk dc2 produce dc1.orders b 200 100 "$PARTS" >/dev/null || fail "producing to dc2 failed"
mirror_start
wait_until 30 "the restarted flow to be failed-back" state_is failed-back
wait_count 60 dc1 orders 4700
rk dc1 verify orders --expect "a:4400:$PARTS:-" --expect "b:300:$PARTS:dc2" --wait-ms 3000 \
    >"$ST_TMP/verify1.txt" 2>&1 || {
    cat "$ST_TMP/verify1.txt" >&2
    fail "orders on dc1 should hold its 4400 records and dc2's 300, each once"
}
log "dc1 after a restart while failed back: $(tail -n 1 "$ST_TMP/verify1.txt")"

# ---- 5. reset ----
mirror_cli reset 'dc1->dc2' >"$ST_TMP/reset.txt" 2>&1 || fail "reset failed: $(cat "$ST_TMP/reset.txt")"
seen=$(cat "$STATE_FILE") # at once: reset returns once the file holds normal
assert_eq normal "$(jq -r .state <<<"$seen")" "the state in $STATE_FILE the moment reset returned"
wait_until 30 "the flow to run again" state_is running
rk dc1 produce orders a 4400 50 "$PARTS" >/dev/null || fail "producing to dc1 failed"
wait_count 60 dc2 dc1.orders 4750
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
mirror_stop
mirror_start
wait_until 30 "the flow to run after a restart" state_is running
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
rk dc2 verify dc1.orders --expect "a:4450:$PARTS:dc1" --expect "b:300:$PARTS:-" --wait-ms 3000 \
    >"$ST_TMP/verify2.txt" 2>&1 || {
    cat "$ST_TMP/verify2.txt" >&2
    fail "dc1.orders on dc2 should hold dc1's 4450 records and its own 300, each once"
}
log "dc2 after reset and a restart: $(tail -n 1 "$ST_TMP/verify2.txt")"

# ---- 6. failed-over only once the state file says so ----
ROUNDS=${ROUNDS:-4}
for round in $(seq 1 "$ROUNDS"); do
    mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover6.txt" 2>&1 &
    cli_pid=$!
    polls=0 seen=""
    deadline=$(($(date +%s) + 30))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        polls=$((polls + 1))
        st=$(mirror_status_json 'dc1->dc2' 2>/dev/null) || continue
        if [[ "$st" == *'"state": "failed-over"'* ]]; then # no jq here: as fast as it goes
            seen=$(cat "$STATE_FILE" 2>/dev/null) # at once: jq after
            break
        fi
    done
    [ -n "$seen" ] || fail "round $round: the flow was not failed-over within 30 s (last state \"$st\")"
    assert_eq failed-over "$(jq -r .state <<<"$seen")" \
        "round $round: the state in $STATE_FILE when the status first said failed-over (poll $polls)"
    wait "$cli_pid" || fail "round $round: failover failed: $(cat "$ST_TMP/failover6.txt")"
    assert_eq failed-over "$(jq -r .state "$STATE_FILE")" "round $round: the state in $STATE_FILE once failover returned"
    [ "$round" -lt "$ROUNDS" ] || break
    mirror_cli failback 'dc1->dc2' >"$ST_TMP/failback6.txt" 2>&1 || fail "failback failed: $(cat "$ST_TMP/failback6.txt")"
    seen=$(cat "$STATE_FILE") # at once, as after failover
    assert_eq failed-back "$(jq -r .state <<<"$seen")" "round $round: the state in $STATE_FILE the moment failback returned"
    mirror_cli reset 'dc1->dc2' >"$ST_TMP/reset6.txt" 2>&1 || fail "reset failed: $(cat "$ST_TMP/reset6.txt")"
    seen=$(cat "$STATE_FILE")
    assert_eq normal "$(jq -r .state <<<"$seen")" "round $round: the state in $STATE_FILE the moment reset returned"
    wait_until 30 "the flow to run again (round $round)" state_is running
    log "round $round: the state file held failed-over when the status said so (status polled $polls times)"
done
mirror_kill9 # right after failover returned
rk dc1 produce orders a 4450 100 "$PARTS" >/dev/null || fail "producing to dc1 failed"
mirror_start
wait_until 30 "the flow killed right after failover to restart failed-over" state_is failed-over
for k in 1 2 3 4; do
    assert_eq "4750 $PARTS" "$(rk dc2 count dc1.orders)" "dc1.orders on dc2 after SIGKILL right after failover (check $k of 4, every 0.5 s)"
    sleep 0.5
done
log "killed with SIGKILL right after failover returned: restarted failed-over, nothing copied"
mirror_stop
