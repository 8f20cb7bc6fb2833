#!/usr/bin/env bash
# strait-mirror never copies into a cluster that may have taken over because of what it
# could not read or save about the flow's direction (review of issue 20 limit 3), dc1 → dc2
# with prefix naming over the 40 ms WAN link:
#  1. the state file is unreadable (cut short) and dc2 holds no state record of the flow:
#     whether dc2 took over is unknown, so the flow is held — nothing copied, an error
#     naming the file and what to do, dc2 read again every 5 s — until the operator moves
#     the file away; then it copies everything, once;
#  2. the state file cannot be written (its path is a directory): a failover still fails
#     over, but `strait mirror failover` exits 1 naming the file and what to do, and the
#     flow's errors say the state was not saved (it used to be silent: the disk worker's
#     results were never collected); once the path is writable, failover again writes it;
#     with the path a directory again, killed with SIGKILL and restarted, the flow is
#     failed over from dc2's record and copies nothing more into dc2; failback and then
#     reset, with the path a directory, exit 1 the same way, and the flow copies nothing
#     in the new direction (a crash then would restart it the old way, from the old
#     point) until, the path writable, the same command again writes it; then each
#     record is copied once;
#  3. a forged state record on dc2 (failed back, a divergence point at partition
#     2,000,000,000): refused with an error, the daemon stays small and answers (it used
#     to try to build two billion partitions).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=4
STATE_FILE="$MIRROR_STATE/flows/dc1.to.dc2.json"
dc_start dc1
dc_start dc2 wan
rk dc1 produce orders a 0 2000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
state_is() { [ "$(mirror_status_json 'dc1->dc2' | jq -r .state)" = "$1" ]; }
error_said() { # error_said REGEX: the flow's errors hold a message matching REGEX
    mirror_status_json 'dc1->dc2' |
        jq -e --arg re "$1" '[.errors[].message | select(test($re))] | length > 0' >/dev/null
}

# ---- 1. an unreadable state file and no record on dc2: held ----
mkdir -p "$(dirname "$STATE_FILE")"
printf '{"flow": "dc1->dc2", "state": "failed-ov' >"$STATE_FILE" # cut short, as by a bad disk
mirror_start
wait_until 30 "the flow to say it is held (unreadable state file, no record on dc2)" \
    error_said '^not copying: the saved state'
# held across a second look at dc2 (every 5 s): still starting, nothing copied
loads_at_least() { [ "$(mirror_log_since_start | grep -c 'loaded .* offset run record')" -ge "$1" ]; }
wait_until 30 "the held flow to read dc2 again" loads_at_least 2
assert_eq starting "$(mirror_status_json 'dc1->dc2' | jq -r .state)" "the held flow's state"
assert_eq 0 "$(topic_count dc2 dc1.orders)" "records in dc1.orders on dc2 while the flow is held"
log "held: $(mirror_status_json 'dc1->dc2' | jq -r '.errors[].message | select(test("^not copying"))')"
mv "$STATE_FILE" "$ST_TMP/state.bad"
wait_count 60 dc2 dc1.orders 2000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
assert_eq "2000 $PARTS" "$(rk dc2 count dc1.orders)" "dc1.orders on dc2 once the file was moved away"
mirror_log_since_start | grep -q 'was moved away' || fail "the daemon did not say the file was moved away"

# ---- 2. the state file cannot be written ----
mkdir "$STATE_FILE" # a directory: the atomic rename onto it fails
if mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover.txt" 2>&1; then
    fail "failover succeeded although $STATE_FILE could not be written: $(cat "$ST_TMP/failover.txt")"
fi
grep -qF "$STATE_FILE does not say so" "$ST_TMP/failover.txt" &&
    grep -qF "Do not restart it; fix the cause, then run \`strait mirror failover 'dc1->dc2'\` again" "$ST_TMP/failover.txt" ||
    fail "failover's answer does not name the file and what to do: $(cat "$ST_TMP/failover.txt")"
assert_eq failed-over "$(mirror_status_json 'dc1->dc2' | jq -r .state)" "the flow's state after a failover whose state was not saved"
error_said '^saving the flow.s state: ' || fail "the flow's errors do not say its state was not saved"
log "unsaved: $(tail -n 1 "$ST_TMP/failover.txt")"
# writable again: failover writes it again, and returns once it is there
rmdir "$STATE_FILE"
mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover2.txt" 2>&1 || fail "failover again failed: $(cat "$ST_TMP/failover2.txt")"
assert_eq failed-over "$(jq -r .state "$STATE_FILE")" "the state in $STATE_FILE once failover again returned"
mirror_status_json 'dc1->dc2' | jq -e '.failover | has("state_error") | not' >/dev/null ||
    fail "the report still has a state_error after the state was written"
rm "$STATE_FILE"
mkdir "$STATE_FILE" # unwritable again, for the restart below: dc2's record decides
mirror_kill9
rk dc1 produce orders a 2000 400 "$PARTS" >/dev/null || fail "producing to dc1 failed"
mirror_start
wait_until 30 "the restarted flow to be failed-over (from dc2's record)" state_is failed-over
# dc2 has taken over: for three sync intervals nothing more arrives there
for k in 1 2 3 4 5 6; do
    assert_eq "2000 $PARTS" "$(rk dc2 count dc1.orders)" "dc1.orders on dc2 while failed over (check $k of 6, every 0.5 s)"
    sleep 0.5
done
log "restarted with an unwritable state file: failed over from dc2's record, not copying"
# failback and reset, like failover: exit 1 naming the file and what to do; again, once
# the path is writable, writes it (and returns once it is there)
for step in "failback failed-back" "reset normal"; do
    cmd=${step% *} want=${step#* }
    if mirror_cli "$cmd" 'dc1->dc2' >"$ST_TMP/$cmd.txt" 2>&1; then
        fail "$cmd succeeded although $STATE_FILE could not be written: $(cat "$ST_TMP/$cmd.txt")"
    fi
    grep -qF "$STATE_FILE does not say so" "$ST_TMP/$cmd.txt" &&
        grep -qF "Do not restart it; fix the cause, then run \`strait mirror $cmd 'dc1->dc2'\` again" "$ST_TMP/$cmd.txt" ||
        fail "$cmd's answer does not name the file and what to do: $(cat "$ST_TMP/$cmd.txt")"
    mirror_status_json 'dc1->dc2' | jq -e 'has("state_error")' >/dev/null ||
        fail "the status has no state_error after a $cmd whose state was not saved"
    log "unsaved $cmd: $(tail -n 1 "$ST_TMP/$cmd.txt")"
    # Nothing is copied in the new direction, nor group offsets written, before the file
    # holds it: a crash would restart the flow the old way, from the old point. Records
    # for it: b on dc2 (failback copies them to dc1), c on dc1 (reset copies them, and
    # dc1's a records 2000..2399 held back since the failover, to dc2).
    if [ "$cmd" = failback ]; then
        rk dc2 produce dc1.orders b 0 300 "$PARTS" >/dev/null || fail "producing to dc2 failed"
        into=dc1 topic=orders held=2400 after=2700
    else
        rk dc1 produce orders c 0 300 "$PARTS" >/dev/null || fail "producing to dc1 failed"
        into=dc2 topic=dc1.orders held=2300 after=3000
    fi
    # not held (before the fix), failback had copied all 300 within 1 s; held: none in 6 s
    for k in $(seq 1 12); do
        assert_eq "$held" "$(topic_count "$into" "$topic")" "records in $topic on $into while $cmd is not in $STATE_FILE (check $k of 12, every 0.5 s)"
        sleep 0.5
    done
    error_said "^$cmd: the $cmd is done in this daemon, but .* the flow copies nothing until it does" ||
        fail "the flow's errors do not say it copies nothing until the $cmd is written"
    rmdir "$STATE_FILE"
    mirror_cli "$cmd" 'dc1->dc2' >"$ST_TMP/$cmd.2.txt" 2>&1 || fail "$cmd again failed: $(cat "$ST_TMP/$cmd.2.txt")"
    assert_eq "$want" "$(jq -r .state "$STATE_FILE")" "the state in $STATE_FILE the moment $cmd again returned"
    mirror_status_json 'dc1->dc2' | jq -e 'has("state_error") | not' >/dev/null ||
        fail "the status still has a state_error after $cmd wrote the state"
    wait_count 60 "$into" "$topic" "$after" # copying once the file holds the new direction
    rm "$STATE_FILE"
    mkdir "$STATE_FILE" # unwritable again
done

# each record once, where it belongs
rk dc2 verify dc1.orders --expect "a:2400:$PARTS:dc1" --expect "b:300:$PARTS:-" \
    --expect "c:300:$PARTS:dc1" --wait-ms 3000 >"$ST_TMP/verify_dc2.txt" 2>&1 || {
    cat "$ST_TMP/verify_dc2.txt" >&2
    fail "dc1.orders on dc2 should hold dc1's 2,400 a and 300 c records and its own 300 b, each once"
}
rk dc1 verify orders --expect "a:2400:$PARTS:-" --expect "b:300:$PARTS:dc2" \
    --expect "c:300:$PARTS:-" --wait-ms 3000 >"$ST_TMP/verify_dc1.txt" 2>&1 || {
    cat "$ST_TMP/verify_dc1.txt" >&2
    fail "orders on dc1 should hold its own a and c records and dc2's 300 b, each once"
}
log "after failback and reset held until written: $(tail -n 1 "$ST_TMP/verify_dc2.txt")"

# ---- 3. a forged state record on dc2: a divergence point far beyond any partition ----
mirror_stop
forged='{"flow":"dc1->dc2","state":"failed-back","generation":1000000,"divergence":['
forged+='{"topic":"orders","target_topic":"dc1.orders","partition":2000000000,"offset":0},'
forged+='{"topic":"orders","target_topic":"dc1.orders","partition":1,"offset":0}]}'
printf 'dc1\0#state|%s\n' "$forged" |
    timeout 30 "$KCAT" -P -b "${DC_DIRECT[dc2]}" -t strait-mirror.offsets -p 0 -K '|' ||
    fail "writing the forged state record failed"
mirror_start
wait_until 30 "the flow to refuse the forged divergence point" \
    error_said 'divergence point of orders\[2000000000\] is not a partition'
wait_until 10 "the flow to be failed-back (from the record's other divergence point)" state_is failed-back
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$MIRROR_PID/status")
log "forged record: refused, daemon RSS ${rss_kb} kB"
[ "$rss_kb" -lt 1048576 ] || fail "strait-mirror uses ${rss_kb} kB after the forged record"
mirror_stop
