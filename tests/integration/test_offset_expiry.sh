#!/usr/bin/env bash
# Committed offsets expire as in Kafka 2.1+ (KIP-211), with a 4 s retention
# (groups.offsets_retention_ms), checked every 200 ms (once a second in effect: the
# broker tick):
#  1. a librdkafka member (rk_group_consumer) of exp-group consumes topic exp and commits;
#     right after its first assignment it also commits offset 5 of audit-0, a topic it
#     does not subscribe to;
#  2. while the member is active, audit-0's offset expires (its commit is older than the
#     retention) but exp's offsets stay, even once their commits are older than the
#     retention too: a consumed topic's offsets never expire in an active group;
#  3. the member leaves: the group is Empty, and its offsets, although committed long
#     before, stay for the retention counted from that moment, then expire, and the
#     group is removed;
#  4. after a restart the group and its offsets are still gone (tombstones).
# Without expiry nothing ever went: a group that stopped consuming kept its offsets,
# and __consumer_offsets its records, for ever.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

RETENTION_MS=4000
ST_EXTRA_CFG="groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 3;
           offsets_retention_ms = $RETENTION_MS; offsets_retention_check_interval_ms = 200; };"
start_broker
# strait groups describe over the Kafka protocol (DescribeGroups, OffsetFetch).
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
GROUP=exp-group
"$RK_BIN/rk_admin" "$BOOTSTRAP" create exp 2 >/dev/null
"$RK_BIN/rk_admin" "$BOOTSTRAP" create audit 1 >/dev/null
for p in 0 1; do
    seq 1 10 | sed "s/^/p$p-/" | kc -P -t exp -p "$p" || fail "kcat -P exp [$p] failed"
done
printf 'a\nb\nc\nd\ne\nf\n' | kc -P -t audit -p 0 || fail "kcat -P audit failed"

# committed TOPIC PARTITION: the group's committed offset, "null" when none, "gone" when
# the group does not exist (DescribeGroups answers an unknown group "Dead", as Kafka, and
# strait groups describe then refuses, naming it)
committed() {
    if ! st groups describe "$GROUP" --json >"$ST_TMP/d.json" 2>"$ST_TMP/d.err"; then
        grep -q "group \"$GROUP\" does not exist" "$ST_TMP/d.err" && echo gone && return 0
        fail "strait groups describe $GROUP: $(cat "$ST_TMP/d.err")"
    fi
    jq -r --arg t "$1" --argjson p "$2" \
        '[.offsets[] | select(.topic == $t and .partition == $p) | .committed][0] // "null"' "$ST_TMP/d.json"
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- 1. an active member with an extra commit ----
RK_EXTRA_COMMIT=audit:0:5 st_bg /dev/null "$ST_TMP/c1.err" \
    "$RK_BIN/rk_group_consumer" "$BOOTSTRAP" "$GROUP" exp "$ST_TMP/c1.out" 1
member=$ST_BG_PID
all_committed() { [ "$(committed exp 0)" = 10 ] && [ "$(committed exp 1)" = 10 ]; }
wait_until 30 "exp-group to commit offset 10 on both partitions of exp" all_committed
t_exp=$(ms) # every commit of exp happened before this
assert_contains "$ST_TMP/c1.err" '^extra commit: ok' "the member's commit of audit-0"

# ---- 2. active: only the unsubscribed topic's offset expires ----
audit_gone() { [ "$(committed audit 0)" = null ]; }
wait_until 20 "audit-0's offset to expire while the group is active" audit_gone
log "FIGURE audit-0's offset (not subscribed) expired while the group was active"
old_enough() { [ $(($(ms) - t_exp)) -ge $((RETENTION_MS + 1000)) ]; }
wait_until 20 "exp's commits to be older than the retention" old_enough
assert_eq 10 "$(committed exp 0)" "exp-0's offset, committed $(($(ms) - t_exp)) ms ago by an active member"
assert_eq 10 "$(committed exp 1)" "exp-1's offset, committed $(($(ms) - t_exp)) ms ago by an active member"

# ---- 3. empty: the retention counts from the moment it became Empty ----
t_empty=$(ms) # the group becomes Empty after this (the member's LeaveGroup), never before
kill -TERM "$member"
st_wait_pid "$member" 20 || fail "the member did not stop"
is_empty() { st groups describe "$GROUP" --json 2>/dev/null | jq -e '.state == "Empty"' >/dev/null; }
wait_until 10 "the group to be Empty" is_empty
while [ $(($(ms) - t_empty)) -lt $((RETENTION_MS - 1500)) ]; do
    [ "$(committed exp 0)" = 10 ] ||
        fail "exp-0's offset went $(($(ms) - t_empty)) ms after the group became Empty (retention $RETENTION_MS ms counts from then)"
    sleep 0.2
done
group_gone() { [ "$(committed exp 0)" = gone ]; }
wait_until 20 "the Empty group's offsets to expire and the group to go" group_gone
waited=$(($(ms) - t_empty))
[ "$waited" -ge $((RETENTION_MS - 500)) ] || fail "the group went $waited ms after it became Empty, before the retention ($RETENTION_MS ms)"
log "FIGURE the Empty group's offsets expired and the group was removed $waited ms after it became Empty (retention $RETENTION_MS ms)"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "group \"$GROUP\".*committed offset\(s\) expired" "the broker logs the expiry"

# ---- 4. still gone after a restart ----
stop_broker
start_broker
assert_eq gone "$(committed exp 0)" "exp-group after a restart"
stop_broker
