#!/usr/bin/env bash
# Tenant limits hold for strait topics create | alter, whichever path it takes: Kafka's
# CreateTopics / CreatePartitions (the CLI's default), and the broker's topics.create /
# topics.alter management commands, which --override-limits REASON goes through (Kafka's
# requests cannot carry a reason):
#  1. tenant t1 with limits partitions = 4 and topics = 2: `strait topics create t1.a -p 3`
#     succeeds; `t1.b -p 2` (5 partitions) is refused, exit status 1, with a message naming
#     the tenant, the limit, its value and the use, and how to override; the topic does
#     not exist afterwards;
#  2. `strait topics alter t1.a -p 5` is refused the same way and t1.a keeps 3 partitions;
#  3. with `--override-limits "REASON"` both go through: the CLI says that it went past
#     which limit and why, and the broker logs a WARN line with the reason;
#  4. past the topics limit (t1.b and t1.a exist; t1.c would be a third) the same;
#     a topic outside any tenant is never limited.
# Before, the management commands created partitions past every tenant limit silently.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
ok() { st "$@" >"$out" 2>&1 || fail "strait $*: $(cat "$out")"; }
refused() { # WHAT ARGS...: the command must fail with status 1
    local what=$1 rc=0
    shift
    st "$@" >"$out" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || fail "$what: strait $* exited $rc, expected 1 (refused): $(cat "$out")"
    log "FIGURE $what: $(tr '\n' ' ' <"$out")"
}
partitions() { st topics describe "$1" --json 2>/dev/null | jq '.partitions | length'; }

ok tenants create t1
ok quotas set --tenant t1 partitions=4
ok quotas set --tenant t1 topics=2

# ---- 1. create past the partitions limit ----
ok topics create t1.a --partitions 3
refused "create t1.b (2 more partitions, 3 of 4 used)" topics create t1.b --partitions 2
for word in "tenant t1" "partitions limit 4" "(3 partitions exist, 2 more requested)" "--override-limits"; do
    grep -qF -- "$word" "$out" || fail "the refusal does not say \"$word\": $(cat "$out")"
done
! st topics describe t1.b >/dev/null 2>&1 || fail "t1.b exists although its creation was refused"

# ---- 2. alter past it ----
refused "grow t1.a to 5 partitions" topics alter t1.a --partitions 5
grep -qF "partitions limit 4" "$out" || fail "the alter refusal does not name the limit: $(cat "$out")"
assert_eq 3 "$(partitions t1.a)" "t1.a's partitions after the refused alter"

# ---- 3. the explicit override ----
ok topics alter t1.a --partitions 5 --override-limits "ticket OPS-42: migration from the old cluster"
log "FIGURE override: $(tr '\n' ' ' <"$out")"
assert_contains "$out" "overridden \(reason: ticket OPS-42: migration from the old cluster\)" "the CLI says the limit was overridden and why"
assert_contains "$out" "partitions limit 4" "the CLI names the overridden limit"
assert_eq 5 "$(partitions t1.a)" "t1.a's partitions after the override"
ok topics create t1.b --partitions 1 --override-limits "ticket OPS-43"
assert_contains "$out" "overridden \(reason: ticket OPS-43\)" "create with the override says so"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" 'WARN .*topics\.alter "t1\.a": tenant limit overridden by operator request \(ticket OPS-42' "the broker logs the alter's override"
assert_contains "$ST_TMP/run.log" 'WARN .*topics\.create "t1\.b": tenant limit overridden by operator request \(ticket OPS-43\)' "the broker logs the create's override"

# ---- 4. the topics limit; topics outside tenants ----
ok quotas set --tenant t1 partitions=100
refused "create a third topic of t1 (limit 2)" topics create t1.c --partitions 1
grep -qF "topics limit 2" "$out" || fail "the refusal does not name the topics limit: $(cat "$out")"
ok topics create free.x --partitions 8
rc=0
st topics create t1.c --override-limits "" >"$out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "an empty override reason: exit status $rc, expected 2 (usage): $(cat "$out")"
grep -qF -- "--override-limits: give the reason" "$out" || fail "an empty override reason: $(cat "$out")"
log "FIGURE an empty override reason: $(tr '\n' ' ' <"$out")"
ok topics create t1.c --override-limits "load test"
assert_eq 1 "$(partitions t1.c)" "t1.c's partitions"
stop_broker
