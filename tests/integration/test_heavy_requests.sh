#!/usr/bin/env bash
# Requests a client sends in a few KB or MB that cost the broker's one event loop far
# more (found reviewing issues 11 and 21), each answered with its error within 10 s while
# an ApiVersions on another connection is answered meanwhile (raw_heavy prints both
# times):
#   - inflate: a Produce whose record set is 2 MiB of plain records and then 300 MiB of
#     zstd-compressed zeros. The decompression budget grew with the request (256 x its
#     bytes + 32 MiB: 25 GiB for a 100 MiB request, a 30 MiB one held the loop 13 s);
#     it now stops at 256 MiB, so the second bomb is refused: INVALID_RECORD.
#   - alter-configs: an IncrementalAlterConfigs with 200,000 distinct config names
#     (2.8 MB). Duplicates were looked for by comparing every name with every other
#     (a 280 KB request held the loop 12 s); now sorted, and INVALID_REQUEST at once
#     (no such config).
#   - describe-configs: a DescribeConfigs naming the broker 100,000 times (800 KB). Every
#     repeat was answered in full, 3 KB each (290 MB, 40 s); now the repeats get
#     INVALID_REQUEST and the answer stays a few MB.
# and py/heavy_answers.py's cases (found reviewing issue 15), each bounded in time or in
# answer bytes per request byte:
#   - metadata-ids: Metadata v12 naming 1,000,000 topic ids against 1,000 topics (each id
#     was looked for among every topic: 10^9 compares); now within 3 s.
#   - offset-fetch-groups, offset-fetch-partitions, describe-groups: one group or committed
#     offset named thousands of times (OffsetFetch v8 groups, a repeated partition,
#     DescribeGroups) was answered in full each time (120-200 MB answers to 16-200 KB);
#     repeats now get INVALID_REQUEST.
#   - offset-delete-subscribed, list-groups-states: OffsetDelete's topics against an
#     active member's subscription, and ListGroups v4's states filter against every group,
#     were compared each with each (97 s and 76 s on the loop); now within 3 s.
#   - metadata-repeats: Metadata answered a repeated topic in full each time (104 MB for
#     88 KB); now once. offset-delete-repeats: OffsetDelete wrote a tombstone per mention
#     of a partition (50,000 in one batch, refused: nothing deleted); now one.
. "$(dirname "$0")/lib.sh"
PY_DIR="$(cd "$(dirname "$0")/py" && pwd)"

ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; };'
start_broker
TOPIC=heavy
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null

timeout 60 "$RK_BIN/raw_heavy" "$BROKER_PORT" inflate "$TOPIC" | tee "$ST_TMP/inflate.txt" ||
    fail "raw_heavy inflate (see above)"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "batch 4: .*decompresses to more than" \
    "the log says the second bomb passed the request's decompression budget"
read -r low high < <("$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" "$TOPIC" 0)
assert_eq "0 0" "$low $high" "watermarks after the refused produce (nothing appended)"

timeout 60 "$RK_BIN/raw_heavy" "$BROKER_PORT" alter-configs 200000 | tee "$ST_TMP/alter.txt" ||
    fail "raw_heavy alter-configs (see above)"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "IncrementalAlterConfigs: INVALID_REQUEST: unknown broker config" \
    "the refusal names the unknown config"

timeout 60 "$RK_BIN/raw_heavy" "$BROKER_PORT" describe-configs 100000 | tee "$ST_TMP/describe.txt" ||
    fail "raw_heavy describe-configs (see above)"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "DescribeConfigs: 99999 of 100000 resources named more than once" \
    "one line for the repeats"

for case in metadata-ids offset-fetch-groups offset-fetch-partitions describe-groups \
    offset-delete-subscribed list-groups-states metadata-repeats \
    offset-delete-repeats txn-admin-lists; do
    timeout 120 /usr/bin/python3 "$PY_DIR/heavy_answers.py" "$BOOTSTRAP" "$case" ||
        fail "heavy_answers.py $case (see above)"
done
refusal_logged() { broker_log_since_start | grep -q "DescribeTransactions naming 10001 transactional ids (at most 10000): closing"; }
wait_until 10 "the refusal of a DescribeTransactions list past the limit in the broker's log" refusal_logged

stop_broker
