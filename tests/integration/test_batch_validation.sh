#!/usr/bin/env bash
# Compressed batches are looked inside before they are stored (issue 8, item 3): a
# Produce whose batch has a valid CRC and the gzip attribute but 64 random bytes as its
# body used to be acknowledged, after which kcat stopped at it ("Invalid compressed
# data") and kafka-python raised BadGzipFile, never reaching the valid record behind
# it; a 16-byte body claiming 2,147,483,647 records was accepted and moved the next
# offset by as much. raw_batches sends those batches (and others no client would
# build) by hand: each must be refused with the code Kafka answers, and the valid
# records around them must be readable, in order, by kcat and by kafka-python.
. "$(dirname "$0")/lib.sh"

PY=${PYTHON3:-/usr/bin/python3}
"$PY" -c 'import kafka' 2>/dev/null ||
    fail "kafka-python is missing: ./deploy/install-packages.sh --test (Debian python3-kafka)"

start_broker
TOPIC=poison
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null

timeout 60 "$RK_BIN/raw_batches" "$BROKER_PORT" "$TOPIC" | tee "$ST_TMP/raw.txt" ||
    fail "raw_batches reported a misbehaviour (see above)"
assert_contains "$ST_TMP/raw.txt" "all cases behaved" "raw_batches finished"

# Each refusal is logged with the reason, naming the peer.
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "rejected \(INVALID_RECORD\).*do not decompress" "the log says why the random gzip body was refused"
assert_contains "$ST_TMP/run.log" "2147483647 records" "the log names the impossible record count"
assert_contains "$ST_TMP/run.log" "zstd batches need Produce v7" "the log says why zstd in v3 was refused"

# kcat reads every stored record, the gzip batch and the one after the refused ones.
want=$'gz-0\ngz-1\nafter-poison-0'
got=$(read_topic "$TOPIC" '%s\n')
assert_eq "$want" "$got" "kcat reads the partition to its end"

# kafka-python (pure Python: its own gzip reader) reads the same.
got=$(timeout 60 "$PY" - "$BOOTSTRAP" "$TOPIC" <<'PYEOF'
import sys
from kafka import KafkaConsumer, TopicPartition
consumer = KafkaConsumer(bootstrap_servers=sys.argv[1], enable_auto_commit=False,
                         auto_offset_reset="earliest", consumer_timeout_ms=5000,
                         api_version=(2, 5, 0))
tp = TopicPartition(sys.argv[2], 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
end = consumer.end_offsets([tp])[tp]
for record in consumer:
    print(record.value.decode())
    if record.offset + 1 >= end:
        break
consumer.close()
PYEOF
) || fail "kafka-python could not read $TOPIC"
assert_eq "$want" "$got" "kafka-python reads the partition to its end"
log "kcat and kafka-python read: $(echo "$got" | tr '\n' ' ')"

stop_broker
