#!/usr/bin/env bash
# Group membership that must not stall or churn:
#  1. the sync phase is bounded: two members join; the leader heartbeats but never sends
#     SyncGroup; the follower's parked SyncGroup must be answered REBALANCE_IN_PROGRESS
#     once the rebalance timeout (3 s) has passed, the leader be removed, and the
#     follower form the next generation alone (raw_group: no client library leaves a
#     SyncGroup out on purpose);
#  2. static membership (group.instance.id, KIP-345) with librdkafka 2.0.2: three static
#     members (rk_group_consumer, session timeout 30 s) own two partitions each of a
#     six-partition topic; one is stopped (a static member sends no LeaveGroup) and
#     started again with the same instance id: it gets its old partitions back, and for
#     5 s after that the group's generation does not move and neither other member sees
#     an assignment change (no rebalance);
#  3. the replaced instance's member id is fenced: JoinGroup v5, Heartbeat v3, SyncGroup
#     v3, OffsetCommit v7 and LeaveGroup v3 naming it with the instance id answer
#     FENCED_INSTANCE_ID (82);
#  4. LeaveGroup v3 by instance id alone removes a static member: the group rebalances;
#  5. groups.max_size (Kafka's group.max.size, 3 here): with 3 members joining, one more
#     static instance, a JoinGroup v3 and a v4 one are refused GROUP_MAX_SIZE_REACHED (81)
#     and hand out nothing, while a member restarting with its instance id keeps its
#     place (raw_group max-size). Step 2 restarts a member of a full group too;
#  6. a static member with a rebalance timeout of 0, left alone and away (it only
#     heartbeats) for 1.5 s: the join phase waits for it without spinning (at most 2 lines
#     "none of its static member(s) rejoined" in the broker's log; the timer re-armed at
#     0 ms logged one per loop turn, 100,000 in 300 ms), and it rejoins at once when back.
# The generation comes from the broker's groups.describe (management endpoint): Kafka's
# DescribeGroups has none; strait groups describe (over Kafka) must show the instance ids.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 1000; offsets_topic_partitions = 3; max_size = 3; };'
start_broker
# The broker's own view of the group (its management command groups.describe: the
# generation, which Kafka's DescribeGroups does not carry, and each member's instance id).
mgmt_describe() {
    timeout 30 "$RK_BIN/rk_sasl" mgmt "$ST_MGMT" "$(cat "$ST_DATA/meta/mgmt.token")" \
        groups.describe "{\"group\": \"$1\"}"
}

# ---- 1. a leader that never syncs ----
"$RK_BIN/raw_group" sync-timeout "$BROKER_PORT" sync-group 3000 >"$ST_TMP/sync.txt" || {
    cat "$ST_TMP/sync.txt"
    fail "raw_group sync-timeout failed"
}
sed 's/^/    /' "$ST_TMP/sync.txt"
log "$(grep '^FIGURE' "$ST_TMP/sync.txt")"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" 'sync-group.*sent no SyncGroup .* within the rebalance timeout: removed' \
    "the broker logs why the leader was removed"

# ---- 2. a static member restarts without a rebalance ----
TOPIC=static
GROUP=static-group
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 6 >/dev/null
declare -A MEMBER
start_member() { # N: static member inst-N, its stderr appended to c<N>.err
    RK_GROUP_INSTANCE_ID="inst-$1" RK_SESSION_TIMEOUT_MS=30000 \
        "$RK_BIN/rk_group_consumer" "$BOOTSTRAP" "$GROUP" "$TOPIC" "$ST_TMP/c$1.out" \
        >/dev/null 2>>"$ST_TMP/c$1.err" &
    MEMBER[$1]=$!
    ST_PIDS+=("${MEMBER[$1]}")
}
assignment() { grep '^assignment:' "$ST_TMP/c$1.err" 2>/dev/null | tail -n 1 | sed 's/^assignment: *//'; }
changes() { grep -c '^assignment:' "$ST_TMP/c$1.err" 2>/dev/null || true; }
owns() { [ "$(assignment "$1" | wc -w)" -eq "$2" ]; }
describe() { mgmt_describe "$GROUP" >"$ST_TMP/describe.json" 2>"$ST_TMP/describe.err"; }
generation() { describe && jq -r .generation "$ST_TMP/describe.json"; }
member_of() { describe && jq -r --arg i "$1" '.members[] | select(.group_instance_id == $i) | .member_id' "$ST_TMP/describe.json"; }
stable_with() { # N members, Stable
    describe && [ "$(jq -r .state "$ST_TMP/describe.json")" = Stable ] &&
        [ "$(jq '.members | length' "$ST_TMP/describe.json")" -eq "$1" ]
}

for n in 1 2 3; do start_member "$n"; done
three_by_two() { owns 1 2 && owns 2 2 && owns 3 2 && stable_with 3; }
wait_until 60 "three static members owning two partitions each" three_by_two
gen=$(generation)
old_member=$(member_of inst-2)
before2=$(assignment 2)
before1=$(changes 1) before3=$(changes 3)
log "generation $gen: c1 [$(assignment 1)] c2 [$before2] c3 [$(assignment 3)]; inst-2 is $old_member"
# strait groups describe (Kafka's DescribeGroups v4+ carries the instance ids) agrees.
timeout 60 "$STRAIT" --bootstrap "$BOOTSTRAP" groups describe "$GROUP" --json >"$ST_TMP/kdescribe.json" ||
    fail "strait groups describe $GROUP failed"
assert_eq "inst-1 inst-2 inst-3" "$(jq -r '[.members[].group_instance_id] | sort | join(" ")' "$ST_TMP/kdescribe.json")" \
    "the instance ids strait groups describe shows"
assert_eq "$old_member" "$(jq -r '.members[] | select(.group_instance_id == "inst-2") | .member_id' "$ST_TMP/kdescribe.json")" \
    "inst-2's member id in strait groups describe"

kill -TERM "${MEMBER[2]}"
st_wait_pid "${MEMBER[2]}" 20 || fail "member c2 still running 20 s after SIGTERM"
wait "${MEMBER[2]}" 2>/dev/null || true
t_stop=$(date +%s%N)
lines2=$(changes 2) # the old process's lines, its revocation at close included
start_member 2
restarted() { [ "$(changes 2)" -gt "$lines2" ] && [ -n "$(assignment 2)" ]; }
wait_until 30 "the restarted c2 to get an assignment" restarted
log "FIGURE c2 stopped and back with partitions [$(assignment 2)] in $((($(date +%s%N) - t_stop) / 1000000)) ms"
assert_eq "$before2" "$(assignment 2)" "c2's partitions after its restart"
new_member=$(member_of inst-2)
[ -n "$new_member" ] && [ "$new_member" != "$old_member" ] ||
    fail "inst-2 should hold a new member id after the restart, has \"$new_member\" (was $old_member)"
# Nothing may move for a while: the generation and the others' assignments are watched.
deadline=$(($(date +%s) + 5))
while [ "$(date +%s)" -lt "$deadline" ]; do
    g=$(generation) || fail "groups.describe failed: $(cat "$ST_TMP/describe.err")"
    [ "$g" = "$gen" ] || fail "the group rebalanced: generation $g, was $gen, when static member inst-2 restarted"
    [ "$(changes 1)" = "$before1" ] && [ "$(changes 3)" = "$before3" ] ||
        fail "another member's assignment changed when inst-2 restarted: c1 $(grep '^assignment' "$ST_TMP/c1.err" | tr '\n' '|') c3 $(grep '^assignment' "$ST_TMP/c3.err" | tr '\n' '|')"
    sleep 0.2
done
log "generation stays $gen, c1 and c3 saw no assignment change: no rebalance"

# ---- 3. the replaced instance is fenced ----
"$RK_BIN/raw_group" fenced "$BROKER_PORT" "$GROUP" "$TOPIC" "$old_member" inst-2 "$gen" >"$ST_TMP/fenced.txt" || {
    cat "$ST_TMP/fenced.txt"
    fail "raw_group fenced failed"
}
sed 's/^/    /' "$ST_TMP/fenced.txt"
[ "$(generation)" = "$gen" ] || fail "the fenced requests moved the generation"

# ---- 4. an admin removes a static member by instance id ----
"$RK_BIN/raw_group" leave-instance "$BROKER_PORT" "$GROUP" inst-3 >"$ST_TMP/leave.txt" || {
    cat "$ST_TMP/leave.txt"
    fail "raw_group leave-instance failed"
}
sed 's/^/    /' "$ST_TMP/leave.txt"
moved() { g=$(generation) && [ "$g" -gt "$gen" ]; }
wait_until 30 "a rebalance after inst-3 was removed" moved
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "member .* of instance inst-3 left" "the broker logs the removal"

# ---- 5. a full group ----
"$RK_BIN/raw_group" max-size "$BROKER_PORT" full-group 3 >"$ST_TMP/full.txt" || {
    cat "$ST_TMP/full.txt"
    fail "raw_group max-size failed"
}
sed 's/^/    /' "$ST_TMP/full.txt"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" 'group "full-group": JoinGroup of a new member refused: the group has 3 member\(s\), groups.max_size' \
    "the broker logs the refusal with the limit"
refusals=$(grep -c 'group "full-group": JoinGroup of a new member refused' "$ST_TMP/run.log" || true)
assert_eq 1 "$refusals" "refusal lines logged for three refused JoinGroups (once until the group has room)"

# ---- 6. an absent static member with a rebalance timeout of 0 ----
"$RK_BIN/raw_group" static-away "$BROKER_PORT" away-group >"$ST_TMP/away.txt" || {
    cat "$ST_TMP/away.txt"
    fail "raw_group static-away failed"
}
sed 's/^/    /' "$ST_TMP/away.txt"
waits=$(broker_log_since_start | grep -c 'group "away-group": none of its .*static member(s) rejoined' || true)
log "$(grep '^FIGURE' "$ST_TMP/away.txt"); the broker logged $waits \"waiting again\" line(s)"
[ "$waits" -ge 1 ] && [ "$waits" -le 2 ] ||
    fail "the broker logged $waits \"none of its static member(s) rejoined\" lines for away-group in 1.5 s, expected 1 or 2: the join timer spins"
for n in 1 2 3; do kill -TERM "${MEMBER[$n]}" 2>/dev/null || true; done
for n in 1 2 3; do st_wait_pid "${MEMBER[$n]}" 20 || fail "member c$n did not stop"; done
stop_broker
