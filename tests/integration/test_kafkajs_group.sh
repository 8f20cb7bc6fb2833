#!/usr/bin/env bash
# kafkajs consumer groups (tests/integration/js/group_consume.js), which also completes
# issue 2's kafkajs consume proof (a kafkajs consumer always joins a group):
#  1. kafkajs produces 3,000 messages with keys and headers into a 3-partition topic;
#  2. a kafkajs consumer group member (consumer.run, eachMessage) reads every one back
#     exactly once with its key, value and headers, in offset order per partition, and
#     its committed offsets (admin.fetchOffsets) are the end offsets;
#  3. kcat -C reads the same records (the kafkajs producer wrote what kafkajs read);
#  4. a second run of the same group joins, fetches, and gets nothing new.
. "$(dirname "$0")/lib.sh"
JS_DIR="$(cd "$(dirname "$0")/js" && pwd)"
: "${NODE:=node}"
[ -d "$JS_DIR/node_modules/kafkajs" ] ||
    fail "kafkajs is not installed: run 'npm ci' in $JS_DIR (deploy/test.sh does)"

TOPIC=kjs-group
GROUP=kjs-group-1
COUNT=3000
ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 3; };'
start_broker
js() { BOOTSTRAP="$BOOTSTRAP" timeout 120 "$NODE" "$JS_DIR/group_consume.js" "$@"; }

js produce "$TOPIC" "$COUNT" >"$ST_TMP/produce.txt" || fail "group_consume.js produce failed"
log "$(cat "$ST_TMP/produce.txt")"
js consume "$TOPIC" "$GROUP" "$COUNT" >"$ST_TMP/consume.txt" || fail "group_consume.js consume failed"
sed "s/^/    /" "$ST_TMP/consume.txt"
assert_contains "$ST_TMP/consume.txt" "^consumed $COUNT messages, each once" "the kafkajs group member read everything"
assert_contains "$ST_TMP/consume.txt" "^committed offsets of $GROUP equal the end offsets" "the group's offsets are committed"

for p in 0 1 2; do
    kc -C -t "$TOPIC" -p "$p" -o beginning -e -q -f '%k\t%h\t%s\n' >>"$ST_TMP/kcat.txt" ||
        fail "kcat -C $TOPIC [$p] failed"
done
assert_eq "$COUNT" "$(wc -l <"$ST_TMP/kcat.txt")" "records kcat reads from $TOPIC"
sort "$ST_TMP/kcat.txt" >"$ST_TMP/kcat-sorted.txt"
seq 0 $((COUNT - 1)) | awk '{y = ""; for (j = 0; j < $1 % 40; j++) y = y "y";
    printf "key-%d\tseq=%d,src=kafkajs-group\tvalue-%d-%s\n", $1, $1, $1, y}' | sort >"$ST_TMP/expected.txt"
assert_same_file "$ST_TMP/expected.txt" "$ST_TMP/kcat-sorted.txt" "kafkajs records read with kcat"

js again "$TOPIC" "$GROUP" >"$ST_TMP/again.txt" 2>&1 || { cat "$ST_TMP/again.txt" >&2; fail "the second run of $GROUP failed"; }
sed "s/^/    /" "$ST_TMP/again.txt"
assert_contains "$ST_TMP/again.txt" "received nothing new" "the second run gets nothing new"
stop_broker
