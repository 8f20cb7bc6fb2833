#!/usr/bin/env bash
# strait-mirror, active/passive (issue 7, done 1): dc1 → dc2 over a WAN link with 40 ms
# one-way delay (the daemon runs next to dc1; dc2 is remote). 200,000 records with keys
# and headers across 8 partitions, produced on dc1 while the flow runs, arrive on dc2 as
# dc1.orders (prefix naming): byte for byte (key, value, headers, CreateTime timestamp),
# in order per partition, no gap, no duplicate, each with strait.origin "dc1" and
# strait.src "dc1/<its dc1 offset>". The flow reports itself caught up (lag 0) with a
# measured replication latency; a topic outside the flow's patterns is not mirrored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

N=${MIRROR_RECORDS:-200000}
PARTS=8

dc_start dc1
dc_start dc2 wan

# The topic exists (8 partitions) before the daemon starts, with a first slice of
# records: the flow must find it, create dc1.orders with 8 partitions and copy the
# backlog, then follow what is produced while it runs.
FIRST=$((N / 10))
rk dc1 produce orders a 0 "$FIRST" "$PARTS" --create >"$ST_TMP/produce1.txt" ||
    fail "producing the first $FIRST records to dc1 failed"
log "dc1: $(cat "$ST_TMP/produce1.txt")"
rk dc1 produce skipped z 0 100 1 --create >/dev/null || fail "producing to dc1's skipped failed"

mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start

t0=$(date +%s%N)
rk dc1 produce orders a "$FIRST" $((N - FIRST)) "$PARTS" >"$ST_TMP/produce2.txt" ||
    fail "producing records $FIRST..$((N - 1)) to dc1 failed"
t_prod=$(($(date +%s%N) - t0))
log "dc1: $(cat "$ST_TMP/produce2.txt")"

wait_count 60 dc2 dc1.orders "$N"
t_all=$(($(date +%s%N) - t0))
log "all $N records on dc2 $((t_all / 1000000)) ms after the live produce started" \
    "($(((t_all - t_prod) / 1000000)) ms after it finished)"

rk dc2 verify dc1.orders --expect "a:$N:$PARTS:dc1:exact" --wait-ms 5000 \
    >"$ST_TMP/verify.txt" 2>"$ST_TMP/verify.err" || {
    cat "$ST_TMP/verify.err" "$ST_TMP/verify.txt" >&2
    fail "dc1.orders on dc2 is not a faithful copy of orders on dc1"
}
log "dc2 dc1.orders: $(tail -n 1 "$ST_TMP/verify.txt")"
assert_contains "$ST_TMP/verify.txt" "^records=$N duplicates=0 missing=0 problems=0$" "verification of dc1.orders on dc2"

# the source too (the producer's idempotence, not the mirror, is what this checks)
rk dc1 verify orders --expect "a:$N:$PARTS" --wait-ms 1000 >"$ST_TMP/verify-src.txt" 2>&1 ||
    fail "orders on dc1 itself is not what was produced: $(tail -n 5 "$ST_TMP/verify-src.txt")"

wait_until 20 "flow dc1->dc2 reports orders caught up (lag 0, delivered == source end)" \
    flow_caught_up 'dc1->dc2' orders
mirror_status_json 'dc1->dc2' >"$ST_TMP/status.json"
log "dc1->dc2: $(flow_summary 'dc1->dc2')"
jq -e '[.partitions[] | select(.topic == "orders")] | length == 8 and
       all(.[]; .target_topic == "dc1.orders")' "$ST_TMP/status.json" >/dev/null ||
    fail "status lists $(jq -c '[.partitions[] | select(.topic == "orders") | [.partition, .target_topic]]' \
        "$ST_TMP/status.json") for orders, expected partitions 0..7 mapped to dc1.orders"
jq -e '[.partitions[] | select(.topic == "orders") | .delivered] | add == '"$N" "$ST_TMP/status.json" >/dev/null ||
    fail "status: delivered positions of orders add up to $(jq '[.partitions[] | select(.topic == "orders") | .delivered] | add' "$ST_TMP/status.json"), expected $N"
# heartbeats every second cross the 40 ms link: the measured latency is real, not zero
latency_measured() { mirror_status_json 'dc1->dc2' | jq -e '.latency_ms.samples > 0' >/dev/null; }
wait_until 20 "a replication latency measured from heartbeats" latency_measured
mirror_status_json 'dc1->dc2' >"$ST_TMP/status.json"
p50=$(jq '.latency_ms.p50' "$ST_TMP/status.json")
awk "BEGIN { exit !($p50 >= $WAN_DELAY_MS) }" ||
    fail "replication latency p50 $p50 ms over a link that delays $WAN_DELAY_MS ms each way: not measured end to end"
jq -e '.errors | length == 0' "$ST_TMP/status.json" >/dev/null ||
    log "note: the flow reported errors: $(jq -c '.errors' "$ST_TMP/status.json")"

# nothing outside the patterns: dc2 has dc1.orders and no dc1.skipped
topics_of dc2 >"$ST_TMP/dc2-topics.txt"
assert_contains "$ST_TMP/dc2-topics.txt" '^dc1\.orders$' "dc2's topics"
assert_not_contains "$ST_TMP/dc2-topics.txt" 'skipped' "dc2's topics (skipped is not in the flow)"
assert_eq "$N $PARTS" "$(rk dc2 count dc1.orders)" "records and partitions of dc1.orders on dc2"

# Several target producers (the flow's `producers`, 4 by default), each partition always
# through the same one: on dc2's disk each partition's batches carry one producer id, and
# the 8 partitions are spread over 4 ids (one producer would put 5 requests of one
# partition each in flight per 80 ms round trip: docs/mirroring.md, "Tests and benchmark").
target_producer_ids dc2 dc1.orders >"$ST_TMP/pids.txt"
log "dc2 dc1.orders: partition:producer id $(awk '{printf "%s:%s ", $1, $2}' "$ST_TMP/pids.txt")"
assert_eq "$PARTS" "$(wc -l <"$ST_TMP/pids.txt")" "(partition, producer id) pairs in dc2's batches of dc1.orders (one per partition)"
assert_eq 4 "$(cut -d' ' -f2 "$ST_TMP/pids.txt" | sort -u | wc -l)" "distinct producer ids among dc1.orders' partitions on dc2"

# the text status names the flow and its partitions
mirror_cli status >"$ST_TMP/status.txt" || fail "strait mirror status failed: $(cat "$ST_TMP/status.txt")"
assert_contains "$ST_TMP/status.txt" 'dc1->dc2' "strait mirror status"
assert_contains "$ST_TMP/status.txt" 'orders' "strait mirror status"

mirror_stop
log "figures: $N records over the ${WAN_DELAY_MS} ms link, 0 duplicates; latency p50 $p50 ms" \
    "p99 $(jq '.latency_ms.p99' "$ST_TMP/status.json") ms; live produce $((t_prod / 1000000)) ms," \
    "all mirrored at $((t_all / 1000000)) ms"
