#!/usr/bin/env bash
# Tenant limits as librdkafka clients see them. Tenant t1 with user u1 over
# SASL_PLAINTEXT (SCRAM-SHA-256); the admin path is PLAINTEXT (User:ANONYMOUS, super user).
# Every limit is set with `strait quotas set --tenant t1 KEY=VALUE`; every refusal must be
# POLICY_VIOLATION (44) with a message naming the tenant, the limit and the use.
#
#  1. retained_bytes = 1 MiB on t1.data (segment.bytes 64 KiB): u1 produces 4 KiB records
#     one at a time until one is refused (44); the broker's message (its log: librdkafka
#     2.0.2 does not read Produce's error message) names t1, retained_bytes and 1048576;
#     what was stored reads back intact (count + checksum); the limit raised at run time
#     lets the next record through on the same connection; lowered below the use (512
#     KiB) it refuses at once; after DeleteRecords to the high watermark (the closed
#     segments go, the use drops to the active one) u1 writes again within 15 s.
#  2. partitions = 4: CreateTopics / CreatePartitions past it → 44 with the message;
#     raised to 8 at run time, the same client's next create succeeds.
#  3. topics = 5: the 6th topic → 44 with the message; raised to 6, it is created. At
#     topics = 8 (t1 has 6), one CreateTopics of three: the third → 44.
#  4. connections = 3: the 4th authenticated connection of t1 is refused at
#     authentication, and librdkafka's error names the limit; raised to 20, the refused
#     client gets in.
#  5. connection_creation_rate = 1/s: 16 clients (a connection each) at once: some
#     refused, with a message naming connection_creation_rate.
# librdkafka clients here hold one connection each: it gives the bootstrap broker the
# node id Metadata returns for the same address.
# Each rk_quota limits run checks that its client never reconnected.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
Q="$RK_BIN/rk_quota"
PW=u1-limits-pw
MB=1048576

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };
log = { retention_check_interval_ms = 200; };'
start_broker
[ -n "$SASL_PLAINTEXT_PORT" ] && [ -n "$PLAINTEXT_PORT" ] ||
    fail "the ready file lists no PLAINTEXT and SASL_PLAINTEXT ports: $(cat "$ST_READY")"
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT"
SASL="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
ST_CMD=$(printf '%q ' timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA")
out="$ST_TMP/out.txt"
limit() { st quotas set --tenant t1 "$1" >"$out" 2>&1 || fail "strait quotas set --tenant t1 $1: $(cat "$out")"; }
unlimit() { st quotas remove --tenant t1 "$1" >"$out" 2>&1 || fail "strait quotas remove --tenant t1 $1: $(cat "$out")"; }

# limits NAME STEP...: one rk_quota limits client as u1; output in $ST_TMP/NAME.out.
limits() {
    local name=$1
    shift
    timeout 240 "$Q" limits "$SASL" "u1:$PW" "$@" >"$ST_TMP/$name.out" 2>"$ST_TMP/$name.err"
    local rc=$?
    cat "$ST_TMP/$name.out"
    [ "$rc" -eq 0 ] || { cat "$ST_TMP/$name.err" >&2; fail "rk_quota limits ($name) failed (status $rc)"; }
}
# refusal_names FILE PATTERN KEY=LIMIT WHAT: the first line of FILE matching PATTERN names
# "tenant t1", the limit key and its value, and the use (a figure in parentheses).
refusal_names() {
    local line
    line=$(grep -E -m1 -- "$2" "$1") || fail "$4: no line matching /$2/ in $1"
    for word in "tenant t1" "${3%%=*}" "${3#*=}"; do
        [[ "$line" == *"$word"* ]] || fail "$4: the message does not name \"$word\": $line"
    done
    [[ "$line" =~ \([^\)]*[0-9] ]] || fail "$4: the message shows no use (a figure in parentheses): $line"
    log "FIGURE $4: $line"
}

st tenants create t1 >"$out" 2>&1 || fail "strait tenants create t1: $(cat "$out")"
st users add u1 --password "$PW" --tenant t1 >"$out" 2>&1 || fail "strait users add u1: $(cat "$out")"

# ---- 1. retained bytes ----
st topics create t1.data --partitions 1 --config segment.bytes=65536 >"$out" 2>&1 ||
    fail "strait topics create t1.data: $(cat "$out")"
limit retained_bytes=$MB
limits retained fill:t1.data:4096:$((32 * MB)) verify:t1.data \
    "run:$ST_CMD quotas set --tenant t1 retained_bytes=$((64 * MB))" produce:t1.data:0:5000 \
    "run:$ST_CMD quotas set --tenant t1 retained_bytes=$((MB / 2))" produce:t1.data:44:1000 \
    delete:t1.data produce:t1.data:0:15000
grep -q '^fill: the refused Produce -> POLICY_VIOLATION (44)' "$ST_TMP/retained.out" ||
    fail "the produce past retained_bytes was not refused with POLICY_VIOLATION"
log "FIGURE $(grep '^fill t1.data: stored' "$ST_TMP/retained.out")"
log "FIGURE $(grep '^verify t1.data' "$ST_TMP/retained.out")"
broker_log_since_start >"$ST_TMP/broker-run.log"
refusal_names "$ST_TMP/broker-run.log" 't1.*retained_bytes|retained_bytes.*t1' "retained_bytes=$MB" \
    "broker's message for the refused Produce"
st quotas usage --tenant t1 >"$out" 2>&1 || fail "strait quotas usage --tenant t1: $(cat "$out")"
assert_contains "$out" "retained_bytes" "strait quotas usage --tenant t1 shows the retained_bytes limit"
cat "$out"
unlimit retained_bytes

# ---- 2. partitions: t1 has t1.data (1 partition) ----
limit partitions=4
limits partitions create:t1.p2:2:0 create:t1.p3:2:44 partitions:t1.p2:3:0 partitions:t1.p2:4:44 \
    "run:$ST_CMD quotas set --tenant t1 partitions=8" partitions:t1.p2:4:0 create:t1.p3:2:0
refusal_names "$ST_TMP/partitions.out" '^CreateTopics t1.p3 2 -> POLICY_VIOLATION' partitions=4 \
    "CreateTopics past partitions=4"
refusal_names "$ST_TMP/partitions.out" '^CreatePartitions to t1.p2 4 -> POLICY_VIOLATION' partitions=4 \
    "CreatePartitions past partitions=4"
unlimit partitions

# ---- 3. topics: t1 has t1.data, t1.p2, t1.p3 ----
limit topics=5
limits topics create:t1.t4:1:0 create:t1.t5:1:0 create:t1.t6:1:44 \
    "run:$ST_CMD quotas set --tenant t1 topics=6" create:t1.t6:1:0 create:t1.t7:1:44
refusal_names "$ST_TMP/topics.out" '^CreateTopics t1.t6 1 -> POLICY_VIOLATION' topics=5 \
    "CreateTopics past topics=5"
unlimit topics
kc -L >"$out" || fail "kcat -L (admin) failed"
assert_not_contains "$out" 'topic "t1.t7"' "t1.t7 was refused, so it must not exist"
assert_contains "$out" 'topic "t1.p2" with 4 partitions' "t1.p2 has the 4 partitions allowed after the raise"

# Auto-creation obeys the limit too: at topics=6 (t1 has 6), u1 producing to a new topic
# of its prefix must not create it (it once did: auto-create skipped the limit check).
limit topics=6
echo "auto" | timeout 30 kcat -P -b "$SASL" -t t1.auto7 -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=u1 -X sasl.password="$PW" \
    -X message.timeout.ms=3000 >"$ST_TMP/auto.out" 2>&1 && fail "kcat produced to t1.auto7 past the topics limit"
kc -L >"$out" || fail "kcat -L (admin) failed"
assert_not_contains "$out" 'topic "t1.auto7"' "auto-creation past topics=6 created no topic"
assert_contains "$ST_TMP/auto.out" 'Policy violation' "the producer is told POLICY_VIOLATION, not left waiting"
log "auto-create past the topics limit refused: $(tail -n 1 "$ST_TMP/auto.out")"
unlimit topics

# One CreateTopics of three topics with room for two: the third is refused (the limit
# counts the topics asked before it in the same request, though they are made together
# off the event loop and registered only at the end). t1 has 6 topics.
limit topics=8
limits topics_one_request createmany:t1.m1,t1.m2,t1.m3:1:0,0,44
kc -L >"$out" || fail "kcat -L (admin) failed"
assert_contains "$out" 'topic "t1.m2"' "the second topic of the request, within the limit"
assert_not_contains "$out" 'topic "t1.m3"' "the third topic of the request, past the limit"
unlimit topics

# ---- 4. connections ----
limit connections=3
timeout 120 "$Q" connections "$SASL" "u1:$PW" max_clients=6 \
    "then=$ST_CMD quotas set --tenant t1 connections=20" >"$ST_TMP/conns.out" 2>"$ST_TMP/conns.err" ||
    { cat "$ST_TMP/conns.out" "$ST_TMP/conns.err" >&2; fail "rk_quota connections failed"; }
cat "$ST_TMP/conns.out"
up=$(sed -n 's/^RESULT up=\([0-9]*\) .*/\1/p' "$ST_TMP/conns.out")
assert_eq 3 "$up" "authenticated connections of t1 up when the next was refused (connections=3)"
refusal_names "$ST_TMP/conns.out" '^RESULT up=' connections=3 "the connection past connections=3"
grep -q '^after raising the limit: all' "$ST_TMP/conns.out" ||
    fail "the refused client did not get in after connections was raised"
unlimit connections

# ---- 5. connection creation rate ----
limit connection_creation_rate=1
timeout 60 "$Q" connections "$SASL" "u1:$PW" at_once=16 >"$ST_TMP/rate.out" 2>"$ST_TMP/rate.err" ||
    { cat "$ST_TMP/rate.out" "$ST_TMP/rate.err" >&2; fail "rk_quota connections at_once=16 failed"; }
cat "$ST_TMP/rate.out"
refused=$(sed -n 's/^RESULT .* refused=\([0-9]*\) .*/\1/p' "$ST_TMP/rate.out")
[ "${refused:-0}" -gt 0 ] || fail "16 clients at once with connection_creation_rate=1: none refused"
refusal_names "$ST_TMP/rate.out" '^RESULT' connection_creation_rate=1 \
    "a connection past connection_creation_rate=1"
unlimit connection_creation_rate
stop_broker
