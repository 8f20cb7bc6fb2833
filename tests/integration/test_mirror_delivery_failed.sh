#!/usr/bin/env bash
# A delivery that fails is copied again without a duplicate and without stalling the
# partition (review of issue 20: what is reported copied is what the target has),
# dc1 → dc2 with prefix naming, dc2 behind the fault proxy. dc1's orders (1 partition)
# holds blocks of 50 records, alternately its own (tag a) and records that came from dc2
# (strait.origin=dc2: skipped by the flow, as after a failback). The proxy rewrites the
# first Produce response to dc2 into INVALID_RECORD (87) — the broker stored the batch,
# the mirror is told it failed. Then:
#  - the flow resumes the partition from its map and a scan of dc2, which finds the
#    records the broker did store: dc2 ends with each a record exactly once (copying again
#    from the failed offset wrote the stored ones twice);
#  - the partition does not stall: a failed report used to leave the skipped records
#    behind it in the flow's in-flight FIFO, each later report took the wrong entry and
#    the FIFO never emptied, so the partition was never copied again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

BLOCKS=6 # 3 of dc1's own, 3 from dc2
dc_start dc1
dc_start dc2 wan
own=0
for b in $(seq 0 $((BLOCKS - 1))); do
    if [ $((b % 2)) -eq 0 ]; then
        rk dc1 produce orders a "$own" 50 1 --create >/dev/null || fail "producing to dc1 failed"
        own=$((own + 50))
    else
        seq 1 50 | sed "s/^/from-dc2-$b-/" |
            timeout 30 "$KCAT" -P -b "${DC_DIRECT[dc1]}" -t orders -p 0 -H strait.origin=dc2 ||
            fail "producing dc2's records to dc1 failed"
    fi
done
assert_eq "$((BLOCKS * 50)) 1" "$(rk dc1 count orders)" "records in orders on dc1"
proxy_cmd fail-produce 87 1
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_until 30 "the proxy to rewrite a Produce response" \
    grep -q "a Produce response now says error 87" "$ST_TMP/netproxy.log"
log_has() { mirror_log_since_start | grep -q "$1"; }
wait_until 30 "the flow to say the delivery failed" log_has 'not written to dc1.orders'
wait_count 60 dc2 dc1.orders "$own"
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
rk dc2 verify dc1.orders --expect "a:$own:1:dc1" --wait-ms 3000 >"$ST_TMP/verify.txt" 2>&1 || {
    cat "$ST_TMP/verify.txt" >&2
    fail "dc1.orders on dc2 is not exactly dc1's own $own records, each once"
}
assert_eq "$own 1" "$(rk dc2 count dc1.orders)" "records in dc1.orders on dc2 (none twice)"
assert_eq 0 "$(mirror_status_json 'dc1->dc2' | jq .in_flight_records)" "records in flight once caught up"
log "dc2: $(tail -n 1 "$ST_TMP/verify.txt"); $(flow_summary 'dc1->dc2')"
mirror_stop
