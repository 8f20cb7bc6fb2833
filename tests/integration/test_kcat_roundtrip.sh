#!/usr/bin/env bash
# kcat against straitd: -L shows the broker and the topic; 100,000 records with keys,
# headers and values of varying sizes go in with kcat -P and come back out of kcat -C
# byte for byte (sha256 of the expected and the actual formatted stream).
#
# kcat -P can only attach the same headers to every record of one run (-H), so the
# records go in as 10 runs of 10,000, each with header h=<run> (plus src=kcat): the
# header value still varies along the topic. Per-record header values are checked by
# rk_compression.
. "$(dirname "$0")/lib.sh"

TOPIC=roundtrip
RUNS=10
PER_RUN=10000
TOTAL=$((RUNS * PER_RUN))

start_broker

# Deterministic input: record i has key "key-<i>" and a value "v<i>:" padded with a
# cycling alphabet to 1..700 bytes. in-<run>.txt feeds kcat -P (key TAB value);
# expected.txt is what kcat -C must print (key TAB headers TAB value).
awk -v runs="$RUNS" -v per="$PER_RUN" -v dir="$ST_TMP" 'BEGIN {
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,;!?"
    pad = alphabet
    while (length(pad) < 800) pad = pad alphabet
    for (r = 0; r < runs; r++) {
        in_file = dir "/in-" r ".txt"
        for (j = 0; j < per; j++) {
            i = r * per + j
            size = (i * 7919) % 700 + 1
            value = substr("v" i ":" substr(pad, (i % 60) + 1), 1, size)
            print "key-" i "\t" value > in_file
            print "key-" i "\th=" r ",src=kcat\t" value > (dir "/expected.txt")
        }
        close(in_file)
    }
}'
assert_eq "$TOTAL" "$(wc -l <"$ST_TMP/expected.txt")" "generated input lines"

for r in $(seq 0 $((RUNS - 1))); do
    kc -P -t "$TOPIC" -p 0 -K $'\t' -H "h=$r" -H src=kcat -X acks=all <"$ST_TMP/in-$r.txt" ||
        fail "kcat -P run $r failed"
done
log "produced $TOTAL records with kcat -P"

kc -L -t "$TOPIC" >"$ST_TMP/metadata.txt"
assert_contains "$ST_TMP/metadata.txt" "broker [0-9]+ at 127\.0\.0\.1:$BROKER_PORT" "kcat -L lists the broker"
assert_contains "$ST_TMP/metadata.txt" "topic \"$TOPIC\" with 1 partitions" "kcat -L lists the topic"
assert_contains "$ST_TMP/metadata.txt" "partition 0, leader [0-9]+" "kcat -L lists the partition"

read_topic "$TOPIC" '%k\t%h\t%s\n' >"$ST_TMP/actual.txt"
assert_same_file "$ST_TMP/expected.txt" "$ST_TMP/actual.txt" "kcat -C output of $TOTAL records"

# The offsets are dense and the end offset is the record count.
kc -Q -t "$TOPIC:0:-1" >"$ST_TMP/end.txt"
assert_contains "$ST_TMP/end.txt" "offset $TOTAL\$" "end offset via ListOffsets (kcat -Q)"
