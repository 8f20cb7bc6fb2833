#!/usr/bin/env bash
# Idempotent producers:
#  1. librdkafka with enable.idempotence=true (rk_idempotent, acks=all, 5 requests in
#     flight) produces 16,000 records with unique sequence numbers in their values into a
#     3-partition topic through netproxy (straitd advertises the proxy's port; 20 ms
#     one-way delay, so requests are in flight), and the test drops every connection five
#     times mid-stream. The producer must report every record delivered and records
#     sent again (its statistics); the log must hold every record exactly once (no duplicates, no gaps), in
#     production order within each partition, at the offsets the producer was told.
#  2. raw_idempotent: InitProducerId, a batch (pid, epoch 0, sequence 0) sent three times
#     byte for byte is acknowledged at its original offset each time and stored once; a
#     sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER (45); after the producer moved to
#     epoch 1 a batch of epoch 0 gets INVALID_PRODUCER_EPOCH (47).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"

TOPIC=idem
COUNT=16000
DROPS=5
start_proxied_broker
"$RK_BIN/rk_admin" "$DIRECT_BOOTSTRAP" create "$TOPIC" 3 >/dev/null
proxy_cmd delay 20

# ---- 1. librdkafka through dropped connections ----
st_bg "$ST_TMP/acks.txt" "$ST_TMP/producer.err" \
    "$RK_BIN/rk_idempotent" "$BOOTSTRAP" "$TOPIC" "$COUNT" 4000
producer=$ST_BG_PID
acked_at_least() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge "$1" ]; }
for d in $(seq 1 $DROPS); do
    wait_until 60 "$((d * COUNT / (DROPS + 2))) acknowledged records" acked_at_least $((d * COUNT / (DROPS + 2)))
    proxy_cmd drop
    log "drop $d after $(wc -l <"$ST_TMP/acks.txt") acks: $PROXY_ANSWER"
done
st_wait_pid "$producer" 120 || fail "rk_idempotent did not finish within 120 s"
wait "$producer" || fail "rk_idempotent failed: $(tail -n 5 "$ST_TMP/producer.err")"
summary=$(tail -n 1 "$ST_TMP/producer.err")
log "producer: $summary"
transmitted=$(sed -n 's/.*transmitted \([0-9]*\)$/\1/p' <<<"$summary")
resent=$((${transmitted:-0} - COUNT))
[ "$resent" -gt 0 ] || fail "the producer re-sent no record (transmitted ${transmitted:-?} for $COUNT): the drops hit nothing in flight, the test proved nothing"

: >"$ST_TMP/log.txt"
for p in 0 1 2; do
    kc -C -t "$TOPIC" -p "$p" -o beginning -e -q -f '%p %o %s\n' >>"$ST_TMP/log.txt" ||
        fail "kcat -C $TOPIC [$p] failed"
done
sed -i 's/ seq-/ /' "$ST_TMP/log.txt" # "<partition> <offset> <i>"
assert_eq "$COUNT" "$(wc -l <"$ST_TMP/log.txt")" "records in the log"
dups=$(cut -d' ' -f3 "$ST_TMP/log.txt" | sort -n | uniq -d | head -n 5 | tr '\n' ' ')
[ -z "$dups" ] || fail "sequence numbers stored more than once: $dups"
assert_eq "$(seq 0 $((COUNT - 1)))" "$(cut -d' ' -f3 "$ST_TMP/log.txt" | sort -n)" "sequence numbers in the log (each once, none missing)"
disorder=$(awk 'NR > 1 && $1 == p && $3 <= last {print; exit} {p = $1; last = $3}' "$ST_TMP/log.txt")
[ -z "$disorder" ] || fail "out of production order within its partition: $disorder"
sort "$ST_TMP/acks.txt" >"$ST_TMP/acks-sorted.txt"
sort "$ST_TMP/log.txt" >"$ST_TMP/log-sorted.txt"
assert_same_file "$ST_TMP/acks-sorted.txt" "$ST_TMP/log-sorted.txt" "acknowledged (partition, offset, sequence) vs the log"
log "$COUNT records, each exactly once and in order per partition, despite $DROPS drops that made the producer send $resent records again"

# ---- 2. the raw client ----
"$RK_BIN/rk_admin" "$DIRECT_BOOTSTRAP" create raw-idem 1 >/dev/null
"$RK_BIN/raw_idempotent" "$BROKER_PORT" raw-idem >"$ST_TMP/raw.txt" || {
    cat "$ST_TMP/raw.txt"
    fail "raw_idempotent failed"
}
sed "s/^/    /" "$ST_TMP/raw.txt"
records=$(awk '$1 == "records" {print $2}' "$ST_TMP/raw.txt")
kc -C -t raw-idem -p 0 -o beginning -e -q -f '%o %k %s\n' >"$ST_TMP/raw-log.txt"
cat >"$ST_TMP/raw-expected.txt" <<TXT
0 idem-0 epoch 0 sequence 0
1 idem-1 epoch 0 sequence 1
2 idem-2 epoch 0 sequence 2
3 idem-3 epoch 0 sequence 3
4 idem-0 epoch 1 sequence 0
5 idem-1 epoch 1 sequence 1
TXT
assert_eq "$records" "$(wc -l <"$ST_TMP/raw-log.txt")" "records raw-idem holds"
assert_same_file "$ST_TMP/raw-expected.txt" "$ST_TMP/raw-log.txt" "raw-idem: each batch once, the rejected ones absent"
stop_broker
