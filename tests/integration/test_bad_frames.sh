#!/usr/bin/env bash
# Hostile input: raw_client sends garbage, a torn frame, a frame over
# socket.request.max.bytes (1 MiB here), an unknown API key, an unsupported Produce
# version, and Produce v7 requests with a bad CRC, a wrong record count, acks=5 and an
# invalid topic name. Meanwhile an acks=all librdkafka producer keeps producing: the
# broker must close the bad connections (logging each), answer the bad Produce
# requests with the right error codes, stay up, and keep every acknowledged record.
. "$(dirname "$0")/lib.sh"

MAX_BYTES=1048576
ST_EXTRA_CFG="socket = { request_max_bytes = $MAX_BYTES; };"
start_broker

# The concurrent producer; it stops when $ST_TMP/stop appears (or after 120 s).
st_bg "$ST_TMP/acks.txt" "$ST_TMP/producer.err" \
    "$RK_BIN/rk_durability" "$BOOTSTRAP" steady 1000000 --until "$ST_TMP/stop" \
    --max-seconds 120 --expect-all
producer=$ST_BG_PID
some_acks() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge 50 ]; }
wait_until 30 "the concurrent producer's first acknowledgements" some_acks

timeout 120 "$RK_BIN/raw_client" "$BROKER_PORT" steady "$MAX_BYTES" | tee "$ST_TMP/raw.txt" ||
    fail "raw_client reported a misbehaviour (see above)"
assert_contains "$ST_TMP/raw.txt" "all cases behaved" "raw_client finished"

# The producer must have kept going while the bad connections came and went.
before=$(wc -l <"$ST_TMP/acks.txt")
more_acks() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge $((before + 50)) ]; }
wait_until 30 "acknowledgements after the bad connections" more_acks
touch "$ST_TMP/stop"
st_wait_pid "$producer" 30 || fail "rk_durability did not stop within 30 s"
wait "$producer" || fail "the concurrent producer lost records: $(cat "$ST_TMP/producer.err")"
log "producer: $(tail -n 1 "$ST_TMP/producer.err")"
kill -0 "$BROKER_PID" 2>/dev/null || fail "straitd died"
assert_acked_readable "$ST_TMP/acks.txt" steady

# One log line per connection the broker closed, naming the peer.
broker_log_since_start >"$ST_TMP/run.log"
while read -r _ what peer; do
    if [ "$what" = truncated ]; then
        # The client hung up mid-frame: nothing to refuse; a line is welcome, not required.
        grep -q -- "$peer" "$ST_TMP/run.log" || log "note: no log line for the torn frame from $peer"
        continue
    fi
    assert_contains "$ST_TMP/run.log" "$peer([^0-9]|\$)" "the broker log names the bad connection $what ($peer)"
    log "$what: $(grep -m1 -E -- "$peer([^0-9]|\$)" "$ST_TMP/run.log" | cut -c1-160)"
done < <(grep '^bad-connection ' "$ST_TMP/raw.txt")

stop_broker
