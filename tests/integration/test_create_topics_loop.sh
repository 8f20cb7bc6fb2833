#!/usr/bin/env bash
# A CreateTopics of many partitions does not hold straitd's event loop (tracker issue 12,
# item 4): the partitions' directories and segment files are made on the registry's
# worker thread and the answer waits for them and for topics.json. Before, 1,000
# partitions made one loop turn of ~0.5 s (every other connection waited that long).
#   - librdkafka creates a topic of $PARTITIONS partitions; the broker's longest loop
#     turn since start (`strait status`) stays under $MAX_TURN_MS, printed;
#   - the answer came after topics.json named the topic (checked as soon as it returns),
#     and Metadata serves every partition; a restart keeps it;
#   - a creation that fails on the worker (a stray directory in the way) answers
#     KAFKA_STORAGE_ERROR naming the directory, and leaves none of its directories;
#   - a topic created while another creation is in flight is answered too;
#   - deleting the big topic (DeleteTopics, strait topics delete) removes its files on the worker
#     too: the longest turn stays under the bound and the directories go.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI}"
PARTITIONS=${PARTITIONS:-2000}
# The turn that made 1,000 partitions took ~500 ms on a 2-core test machine; without it,
# the longest turns are a few ms (writing topics.json is one fsync). The bound leaves
# room for a loaded CI machine.
MAX_TURN_MS=${MAX_TURN_MS:-150}

start_broker
status_json() { "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json; }
longest_us() { status_json | jq -r '.loop.since_start.longest_us'; }

# Two creations at once: the big one and a small one right behind it.
st_bg "$ST_TMP/big.out" "$ST_TMP/big.err" "$RK_BIN/rk_admin" "$BOOTSTRAP" create big "$PARTITIONS"
big=$ST_BG_PID
"$RK_BIN/rk_admin" "$BOOTSTRAP" create small 3 >"$ST_TMP/small.out" 2>"$ST_TMP/small.err" ||
    fail "creating a small topic beside the big one: $(cat "$ST_TMP/small.err")"
st_wait_pid "$big" 60 || fail "creating $PARTITIONS partitions took more than 60 s"
wait "$big" || fail "creating $PARTITIONS partitions failed: $(cat "$ST_TMP/big.err")"
assert_contains "$ST_TMP/big.out" "created big with $PARTITIONS partitions" "rk_admin's result"
assert_contains "$ST_DATA/meta/topics.json" '"name": "big"' "topics.json after the answer"
[ -d "$ST_DATA/big-$((PARTITIONS - 1))" ] || fail "no directory for the last partition"

longest=$(longest_us)
log "longest loop turn since start: $((longest / 1000)) ms ($PARTITIONS partitions created; bound $MAX_TURN_MS ms)"
[ "$longest" -le $((MAX_TURN_MS * 1000)) ] ||
    fail "a loop turn took $((longest / 1000)) ms while $PARTITIONS partitions were created (bound $MAX_TURN_MS ms)"

# A failure on the worker: a file where partition 5's directory would go.
touch "$ST_DATA/blocked-5"
if "$RK_BIN/rk_admin" "$BOOTSTRAP" create blocked 10 >"$ST_TMP/blocked.out" 2>"$ST_TMP/blocked.err"; then
    fail "creating a topic over a stray file succeeded"
fi
assert_contains "$ST_TMP/blocked.err" "blocked-5 already exists but is not part of topic" \
    "the storage error naming the stray"
for p in 0 1 4 6 9; do
    [ ! -e "$ST_DATA/blocked-$p" ] || fail "blocked-$p left behind by the failed creation"
done
assert_not_contains "$ST_DATA/meta/topics.json" '"name": "blocked"' "topics.json after the failure"
rm -f "$ST_DATA/blocked-5"
"$RK_BIN/rk_admin" "$BOOTSTRAP" create blocked 10 >/dev/null 2>"$ST_TMP/blocked2.err" ||
    fail "creating the topic once the stray is gone: $(cat "$ST_TMP/blocked2.err")"

stop_broker
start_broker
kc -L -t big >"$ST_TMP/meta.txt" || fail "kcat -L after the restart"
assert_contains "$ST_TMP/meta.txt" "topic \"big\" with $PARTITIONS partitions" "big after a restart"

"$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" topics delete big >"$ST_TMP/delete.out" ||
    fail "strait topics delete big"
big_dirs_gone() { [ ! -e "$ST_DATA/big-0" ] && [ ! -e "$ST_DATA/big-$((PARTITIONS - 1))" ]; }
wait_until 60 "the big topic's directories removed" big_dirs_gone
longest=$(longest_us)
log "longest loop turn since the restart: $((longest / 1000)) ms ($PARTITIONS partitions deleted; bound $MAX_TURN_MS ms)"
[ "$longest" -le $((MAX_TURN_MS * 1000)) ] ||
    fail "a loop turn took $((longest / 1000)) ms while $PARTITIONS partitions were deleted (bound $MAX_TURN_MS ms)"

# A deletion cut short: straitd killed (SIGKILL) as soon as it answered, before the worker
# removed the files. topics.json lists the topic as being removed, so the next start
# removes what is left (before, the directories stayed, warned about at every start,
# and creating the name again over them failed until they were deleted by hand).
"$RK_BIN/rk_admin" "$BOOTSTRAP" create doomed 1000 >/dev/null 2>"$ST_TMP/doomed.err" ||
    fail "creating doomed: $(cat "$ST_TMP/doomed.err")"
"$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" topics delete doomed >/dev/null ||
    fail "strait topics delete doomed"
kill9_broker
doomed_left() { find "$ST_DATA" -maxdepth 1 -type d -regex '.*/doomed-[0-9]+' | wc -l; }
left=$(doomed_left)
log "doomed: $left of 1000 partition directories left by the kill (0: the worker won the race)"
start_broker
[ "$(doomed_left)" -eq 0 ] || fail "$(doomed_left) directories of the deleted topic doomed left after a restart"
if [ "$left" -gt 0 ]; then
    broker_log_since_start >"$ST_TMP/restart.log"
    assert_contains "$ST_TMP/restart.log" "removed $left partition directories left of deleted topic \"doomed\"" \
        "the start's note of the leftovers it removed"
fi
"$RK_BIN/rk_admin" "$BOOTSTRAP" create doomed 1000 >/dev/null 2>"$ST_TMP/doomed2.err" ||
    fail "creating doomed again after the restart: $(cat "$ST_TMP/doomed2.err")"
log "ok"
