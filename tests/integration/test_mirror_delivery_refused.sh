#!/usr/bin/env bash
# A batch the target refuses (and does not store) while later batches of the partition
# are stored is copied again, and nothing is lost nor written twice (review of issue 20's
# failed-delivery resume). dc1 → dc2, prefix naming, orders with 1 partition. dc2's
# dc1.orders accepts timestamps at most an hour off (message.timestamp.difference.max.ms,
# a setting the flow never copies). Then, in one go, dc1 gets a record stamped two hours
# ago followed by 8 records of 400 KB: the flow's producer sends them in several batches,
# dc2 refuses the first (INVALID_TIMESTAMP: the old record and the large ones with it)
# and stores the later ones. The flow resumes the partition from its map and a scan of
# dc2: the scan finds the later records, but the refused ones are not on dc2, so it must
# copy again from the first of them (the resume used to start after the last record
# found, skipping the refused batch for good while saying "copying again from there").
# Once the operator lifts dc2's limit, dc2 holds every record of dc1's, each once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PY=/usr/bin/python3 # Debian's, where python3-kafka is installed
"$PY" -c 'import kafka' 2>/dev/null || fail "kafka-python missing: deploy/install-packages.sh --test"

dc_start dc1
dc_start dc2
seq 0 9 | sed 's/^/small-/' | timeout 30 "$KCAT" -P -b "${DC_DIRECT[dc1]}" -t orders -p 0 ||
    fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders 10
dc_strait dc2 configs alter --topic dc1.orders --set message.timestamp.difference.max.ms=3600000 \
    >"$ST_TMP/alter.txt" 2>&1 || fail "setting dc2's timestamp limit failed: $(cat "$ST_TMP/alter.txt")"

"$PY" - "${DC_DIRECT[dc1]}" <<'EOF' || fail "producing the old and large records to dc1 failed"
import sys, time
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks="all", linger_ms=50)
now = int(time.time() * 1000)
p.send("orders", value=b"old-0", partition=0, timestamp_ms=now - 2 * 3600 * 1000)
for i in range(8):
    p.send("orders", value=(b"large-%d-" % i) + b"x" * (400 << 10), partition=0, timestamp_ms=now)
p.flush(30)
p.close(10)
EOF
log_has() { mirror_log_since_start | grep -q "$1"; }
wait_until 30 "the flow to say dc2 refused a delivery" log_has 'not written to dc1.orders: .*[Tt]imestamp'
got=$(topic_count dc2 dc1.orders)
log "dc2 holds $got records of dc1.orders when the refusal is seen"
# while dc2 refuses, the flow keeps trying the refused record (once per scan), and says
# it copies again from there once, not once a try (the status keeps 20 errors)
refusals() { grep -c 'produce to dc1.orders-0 rejected (INVALID_TIMESTAMP)' "${DC_LOG[dc2]}"; }
refused_8() { [ "$(refusals)" -ge 8 ]; }
wait_until 60 "dc2 to refuse the record again (8 refusals)" refused_8
assert_eq 1 "$(mirror_log_since_start | grep -c 'source offset 10 is not on dc2: copying again from there')" \
    "times the flow said it copies orders[0] again from offset 10 (dc2 refused it $(refusals) times)"
# the operator lifts the limit: the refused records must now be copied
dc_strait dc2 configs alter --topic dc1.orders --delete message.timestamp.difference.max.ms \
    >"$ST_TMP/alter2.txt" 2>&1 || fail "lifting dc2's timestamp limit failed: $(cat "$ST_TMP/alter2.txt")"
wait_until 60 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
timeout 30 "$KCAT" -C -b "${DC_DIRECT[dc2]}" -t dc1.orders -p 0 -o beginning -e -q -f '%s\n' |
    cut -c1-12 | sed 's/-x*$//' >"$ST_TMP/dc2.txt" || fail "reading dc1.orders on dc2 failed"
sort "$ST_TMP/dc2.txt" | uniq -d >"$ST_TMP/dups.txt"
[ -s "$ST_TMP/dups.txt" ] && fail "records on dc2 twice: $(tr '\n' ' ' <"$ST_TMP/dups.txt")"
want=$( (seq 0 9 | sed 's/^/small-/'; echo old-0; seq 0 7 | sed 's/^/large-/') | sort)
assert_eq "$want" "$(sort "$ST_TMP/dc2.txt")" "dc1.orders on dc2: each of dc1's 19 records once"
log "dc2: $(wc -l <"$ST_TMP/dc2.txt") records, none twice; $(flow_summary 'dc1->dc2')"
mirror_stop
