#!/usr/bin/env bash
# Committed offsets survive a clean broker restart:
#  1. 500 records; `kcat -G` (auto commit every 100 ms) reads them, then is stopped with
#     SIGTERM, which commits on the way out: the group's committed offset is 500
#     (`strait groups describe` shows it, with the end offset and the lag);
#  2. 500 more records, a clean broker restart; `strait groups describe` shows the same
#     committed offset as before;
#  3. a new `kcat -G` in the same group resumes at the committed offset: it reads exactly
#     records 501..1000 (nothing re-read, nothing skipped).
. "$(dirname "$0")/lib.sh"

TOPIC=resume
GROUP=resume-group
ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 5; };'
start_broker

produce_keys() { # FIRST LAST
    seq "$1" "$2" | awk '{printf "k%d\tv%d\n", $1, $1}' |
        kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all || fail "kcat -P failed"
}
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# describe_row: "CURRENT-OFFSET LOG-END-OFFSET LAG" of $TOPIC partition 0 in the group
describe_row() {
    timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" \
        groups describe "$GROUP" >"$ST_TMP/describe.txt" || fail "strait groups describe $GROUP failed"
    awk -v t="$TOPIC" '$1 == t && $2 == "0" {print $3, $4, $5}' "$ST_TMP/describe.txt"
}

"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
produce_keys 1 500

# ---- 1. consume with kcat -G, stop it with SIGTERM ----
st_bg "$ST_TMP/first.txt" "$ST_TMP/first.err" \
    "$KCAT" -b "$BOOTSTRAP" -G "$GROUP" -q -u -f '%k\n' \
    -X auto.offset.reset=earliest -X auto.commit.interval.ms=100 "$TOPIC"
kcat1=$ST_BG_PID
wait_until 40 "kcat -G read the first 500 records" lines_at_least "$ST_TMP/first.txt" 500
kill -TERM "$kcat1"
st_wait_pid "$kcat1" 20 || fail "kcat -G did not stop within 20 s of SIGTERM"
wait "$kcat1" || true # kcat's exit status after a signal is not an error of ours
assert_eq "$(seq 1 500 | sed 's/^/k/')" "$(cat "$ST_TMP/first.txt")" "records the first kcat -G read"

if [ -n "${STRAIT:-}" ]; then
    before=$(describe_row)
    log "describe before the restart: $before"
    assert_eq "500 500 0" "$before" "CURRENT-OFFSET LOG-END-OFFSET LAG of $TOPIC [0] after kcat -G stopped"
else
    log "STRAIT not set: strait groups describe not checked"
fi

# ---- 2. more records, a clean restart ----
produce_keys 501 1000
if [ -n "${STRAIT:-}" ]; then
    assert_eq "500 1000 500" "$(describe_row)" "describe after 500 more records"
fi
stop_broker
start_broker
if [ -n "${STRAIT:-}" ]; then
    after=$(describe_row)
    log "describe after the restart: $after"
    assert_eq "500 1000 500" "$after" "CURRENT-OFFSET LOG-END-OFFSET LAG of $TOPIC [0] after the restart"
fi

# ---- 3. kcat -G resumes at the committed offset ----
st_bg "$ST_TMP/second.txt" "$ST_TMP/second.err" \
    "$KCAT" -b "$BOOTSTRAP" -G "$GROUP" -q -u -f '%k\n' \
    -X auto.offset.reset=earliest -X auto.commit.interval.ms=100 "$TOPIC"
kcat2=$ST_BG_PID
wait_until 40 "the second kcat -G read 500 records" lines_at_least "$ST_TMP/second.txt" 500
# Resuming too early shows as the wrong first keys, too late as fewer than 500 lines.
kill -TERM "$kcat2"
st_wait_pid "$kcat2" 20 || fail "the second kcat -G did not stop within 20 s of SIGTERM"
wait "$kcat2" || true
assert_eq "$(seq 501 1000 | sed 's/^/k/')" "$(cat "$ST_TMP/second.txt")" \
    "records the resumed kcat -G read (501..1000: none re-read, none skipped)"
if [ -n "${STRAIT:-}" ]; then
    assert_eq "1000 1000 0" "$(describe_row)" "describe after the resumed consumer"
fi

# Clients cannot write into __consumer_offsets: a forged commit record there would move
# this group's offsets at the next load. The produce fails with INVALID_TOPIC_EXCEPTION.
rc=0
echo "forged" | kc -P -t __consumer_offsets -p 0 -X message.send.max.retries=0 \
    2>"$ST_TMP/forge.err" || rc=$?
[ "$rc" -ne 0 ] || fail "a produce to __consumer_offsets was accepted"
assert_contains "$ST_TMP/forge.err" "Invalid topic" "the refused produce to __consumer_offsets"
if [ -n "${STRAIT:-}" ]; then
    assert_eq "1000 1000 0" "$(describe_row)" "describe after the refused forged record"
fi
stop_broker
