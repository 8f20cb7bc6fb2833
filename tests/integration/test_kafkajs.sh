#!/usr/bin/env bash
# kafkajs 2.2.4 (tests/integration/js): admin create/list/metadata, 1,000 messages with
# keys and headers produced with acks=-1, offsets checked with fetchTopicOffsets; the
# content is then read back with kcat -C and compared byte for byte. A kafkajs consumer
# (which always joins a group) reads back in test_kafkajs_group.sh.
. "$(dirname "$0")/lib.sh"
JS_DIR="$(cd "$(dirname "$0")/js" && pwd)"
: "${NODE:=node}"
[ -d "$JS_DIR/node_modules/kafkajs" ] ||
    fail "kafkajs is not installed: run 'npm ci' in $JS_DIR (deploy/test.sh does)"

start_broker
BOOTSTRAP="$BOOTSTRAP" timeout 120 "$NODE" "$JS_DIR/produce_consume.js" "$ST_TMP/expected.txt" ||
    fail "produce_consume.js failed"
read_topic kafkajs '%k\t%h\t%s\n' >"$ST_TMP/actual.txt"
assert_same_file "$ST_TMP/expected.txt" "$ST_TMP/actual.txt" "kafkajs records read with kcat"
stop_broker
