#!/usr/bin/env bash
# strait-mirror, active/active (issue 7, done 2): one daemon runs the two opposite flows
# dc1->dc2 and dc2->dc1 over the 40 ms WAN link (dc2 is remote), producers write on both
# sides at once, and both clusters end with the union, every record once:
#  1. identity naming, topic "events" on both sides: each side's events holds its own
#     records (no strait.* headers) and the other side's (strait.origin = the other), in
#     order per partition, none twice; nothing came back to where it was produced;
#  2. prefix naming (a second daemon run, topics ".*" but "events"): dc1 has orders and
#     dc2.orders, dc2 has orders and dc1.orders, each a faithful copy, and no topic was
#     mirrored twice (no dc1.dc2.* or dc2.dc1.* anywhere).
# The checks run once both flows report every partition caught up, so a record looping
# back would already be there to count.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

N=${MIRROR_RECORDS:-20000} # per side
PARTS=4

dc_start dc1
dc_start dc2 wan

# verify_side DC TOPIC EXPECT...: rk_mirror_check verify, failing the test with its report.
verify_side() {
    local dc=$1 topic=$2 out="$ST_TMP/verify-$1-$2.txt"
    shift 2
    local args=() e
    for e in "$@"; do args+=(--expect "$e"); done
    rk "$dc" verify "$topic" "${args[@]}" --wait-ms 5000 >"$out" 2>&1 || {
        cat "$out" >&2
        fail "$topic on $dc does not hold exactly the expected records once each"
    }
    log "$dc $topic: $(tail -n 1 "$out")"
}

# produce_both TOPIC: producers on dc1 (tag a) and dc2 (tag b) at the same time.
produce_both() {
    local topic=$1
    st_bg "$ST_TMP/prod-a-$topic.txt" "$ST_TMP/prod-a-$topic.err" \
        "$RK_CHECK" produce "${DC_BOOT[dc1]}" "$topic" a 0 "$N" "$PARTS" --rate 2000000
    local pa=$ST_BG_PID
    st_bg "$ST_TMP/prod-b-$topic.txt" "$ST_TMP/prod-b-$topic.err" \
        "$RK_CHECK" produce "${DC_BOOT[dc2]}" "$topic" b 0 "$N" "$PARTS" --rate 2000000
    local pb=$ST_BG_PID
    wait "$pa" || fail "the dc1 producer failed: $(cat "$ST_TMP/prod-a-$topic.err")"
    wait "$pb" || fail "the dc2 producer failed: $(cat "$ST_TMP/prod-b-$topic.err")"
    log "dc1 $topic: $(cat "$ST_TMP/prod-a-$topic.txt")"
    log "dc2 $topic: $(cat "$ST_TMP/prod-b-$topic.txt")"
}

# ---- 1. identity naming ----
# the topic exists on both sides (same partition count) before the flows start
rk dc1 produce events a 0 0 "$PARTS" --create >/dev/null || fail "creating events on dc1 failed"
rk dc2 produce events b 0 0 "$PARTS" --create >/dev/null || fail "creating events on dc2 failed"
mirror_write_config "$(mirror_flow dc1 dc2 identity '"events"')" "$(mirror_flow dc2 dc1 identity '"events"')"
mirror_start
produce_both events
wait_count 60 dc1 events $((2 * N))
wait_count 60 dc2 events $((2 * N))
wait_until 30 "flow dc1->dc2 caught up on events" flow_caught_up 'dc1->dc2' events
wait_until 30 "flow dc2->dc1 caught up on events" flow_caught_up 'dc2->dc1' events
verify_side dc1 events "a:$N:$PARTS:-" "b:$N:$PARTS:dc2"
verify_side dc2 events "a:$N:$PARTS:dc1" "b:$N:$PARTS:-"
assert_eq "$((2 * N)) $PARTS" "$(rk dc1 count events)" "records in events on dc1 once both flows caught up"
assert_eq "$((2 * N)) $PARTS" "$(rk dc2 count events)" "records in events on dc2 once both flows caught up"
for f in 'dc1->dc2' 'dc2->dc1'; do log "$f: $(flow_summary "$f")"; done
mirror_stop
log "identity naming: both sides hold the union of $((2 * N)) records, none twice, none looped"

# ---- 2. prefix naming ----
rk dc1 produce orders a 0 0 "$PARTS" --create >/dev/null || fail "creating orders on dc1 failed"
rk dc2 produce orders b 0 0 "$PARTS" --create >/dev/null || fail "creating orders on dc2 failed"
everything='".*"'
no_events='topics_exclude = [ "events" ];'
mirror_write_config "$(mirror_flow dc1 dc2 prefix "$everything" "$no_events")" \
    "$(mirror_flow dc2 dc1 prefix "$everything" "$no_events")"
mirror_start
produce_both orders
wait_count 60 dc2 dc1.orders "$N"
wait_count 60 dc1 dc2.orders "$N"
wait_until 30 "flow dc1->dc2 caught up on orders" flow_caught_up 'dc1->dc2' orders
wait_until 30 "flow dc2->dc1 caught up on orders" flow_caught_up 'dc2->dc1' orders
verify_side dc1 orders "a:$N:$PARTS:-"
verify_side dc2 orders "b:$N:$PARTS:-"
verify_side dc2 dc1.orders "a:$N:$PARTS:dc1:exact"
verify_side dc1 dc2.orders "b:$N:$PARTS:dc2:exact"
for dc in dc1 dc2; do
    topics_of $dc >"$ST_TMP/topics-$dc.txt"
    log "$dc topics: $(grep -v '^__' "$ST_TMP/topics-$dc.txt" | tr '\n' ' ')"
    assert_not_contains "$ST_TMP/topics-$dc.txt" '^dc[12]\.dc[12]\.' "$dc's topics (a topic mirrored twice)"
    assert_not_contains "$ST_TMP/topics-$dc.txt" '^dc[12]\.events$' "$dc's topics (events is excluded)"
done
assert_contains "$ST_TMP/topics-dc1.txt" '^dc2\.orders$' "dc1's topics"
assert_contains "$ST_TMP/topics-dc2.txt" '^dc1\.orders$' "dc2's topics"
# identity-named events kept their contents through the second run (not re-mirrored)
assert_eq "$((2 * N)) $PARTS" "$(rk dc1 count events)" "records in events on dc1 after the prefix run"
assert_eq "$((2 * N)) $PARTS" "$(rk dc2 count events)" "records in events on dc2 after the prefix run"
for f in 'dc1->dc2' 'dc2->dc1'; do log "$f: $(flow_summary "$f")"; done
mirror_stop
log "prefix naming: dc1.orders and dc2.orders are faithful copies; nothing mirrored twice"
