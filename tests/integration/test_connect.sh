#!/usr/bin/env bash
# strait connect standalone (tracker issue 18): Kafka Connect's file pipeline against a
# real straitd, read back with kcat.
#
# 1. The quickstart as Kafka writes it: a worker file with JsonConverter (schemas on)
#    and the two connector files by their short names; test.txt → connect-test →
#    test.sink.txt, then a line appended while it runs arrives too, and the topic holds
#    Kafka's exact JSON envelope. Restarted, nothing is sent or written twice.
# 2. Bad properties: each refused with the file, line, key and reason, exit status 2.
# 3. Exact restarts of the source: 20,000 lines into a 3-partition topic, the worker
#    killed with SIGKILL twice — once with records in flight (netproxy slows the link to
#    30 KB/s), once after everything was
#    acknowledged but before any offset store (offset.flush.interval.ms is 10 minutes) —
#    and the topic ends up with every line exactly once, and in file order per partition
#    for what one run sent (lines the first kill kept from the broker are sent by the
#    next run, after later lines that had arrived: order across a crash is not kept).
# 4. Exact restarts of the sink: killed with SIGKILL after writing everything but
#    before any commit but the first; restarted, the file holds every record once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"

: "${STRAIT:?STRAIT must name the strait CLI (run through ctest)}"
RK_CHECK="$RK_BIN/rk_mirror_check"
# Every client goes through netproxy, which part 3 slows down so that records are in
# flight when the worker is killed.
start_proxied_broker

# topic_count TOPIC: the sum of its partitions' end offsets.
topic_count() {
    local out
    out=$(timeout 60 "$RK_CHECK" count "$BOOTSTRAP" "$1") || fail "counting $1 failed"
    echo "${out%% *}"
}
count_at_least() { [ "$(topic_count "$1")" -ge "$2" ]; }
lines_are() { [ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]; }

# connect_start DIR LOG FILES...: strait connect standalone in DIR, in the background.
connect_start() {
    local dir=$1 out=$2
    shift 2
    (cd "$dir" && exec "$STRAIT" connect standalone "$@") >>"$out" 2>&1 &
    CONNECT_PID=$!
    ST_PIDS+=("$CONNECT_PID")
}
connect_stop() { # LOG: clean, SIGTERM, status 0 within 40 s
    kill -TERM "$CONNECT_PID"
    st_wait_pid "$CONNECT_PID" 40 || fail "strait connect still running 40 s after SIGTERM"
    local rc=0
    wait "$CONNECT_PID" || rc=$?
    [ "$rc" -eq 0 ] || fail "strait connect exited with status $rc after SIGTERM: $(tail -n 5 "$1")"
}
connect_kill9() {
    kill -KILL "$CONNECT_PID"
    wait "$CONNECT_PID" 2>/dev/null || true
}

# ---- 1. the quickstart, as written ----
QS="$ST_TMP/quickstart"
mkdir -p "$QS"
{
    echo "bootstrap.servers=$BOOTSTRAP"
    echo "key.converter=org.apache.kafka.connect.json.JsonConverter"
    echo "value.converter=org.apache.kafka.connect.json.JsonConverter"
    echo "key.converter.schemas.enable=true"
    echo "value.converter.schemas.enable=true"
    echo "offset.storage.file.filename=$QS/connect.offsets"
    echo "offset.flush.interval.ms=10000"
    echo "plugin.path=libs/connect-file-3.7.0.jar"
} >"$QS/connect-standalone.properties"
printf 'name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=test.txt\ntopic=connect-test\n' \
    >"$QS/connect-file-source.properties"
printf 'name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=test.sink.txt\ntopics=connect-test\n' \
    >"$QS/connect-file-sink.properties"
printf 'foo\nbar\n' >"$QS/test.txt"
connect_start "$QS" "$ST_TMP/qs.log" connect-standalone.properties \
    connect-file-source.properties connect-file-sink.properties
wait_until 60 "foo and bar in test.sink.txt" lines_are "$QS/test.sink.txt" 2
assert_eq $'foo\nbar' "$(cat "$QS/test.sink.txt")" "test.sink.txt"
echo 'Another line' >>"$QS/test.txt"
wait_until 30 "the appended line in test.sink.txt" lines_are "$QS/test.sink.txt" 3
assert_eq $'foo\nbar\nAnother line' "$(cat "$QS/test.sink.txt")" "test.sink.txt after the append"
kc -C -t connect-test -o beginning -e -q >"$ST_TMP/qs-topic.txt"
assert_eq '{"schema":{"type":"string","optional":false},"payload":"foo"}' \
    "$(head -n 1 "$ST_TMP/qs-topic.txt")" "connect-test's first record (JsonConverter's envelope)"
assert_eq 3 "$(wc -l <"$ST_TMP/qs-topic.txt")" "records in connect-test"
connect_stop "$ST_TMP/qs.log"
assert_contains "$ST_TMP/qs.log" 'plugin.path is ignored' "the note about plugin.path"
# The sink's progress is a real consumer group, named as Kafka Connect names it.
timeout 60 "$STRAIT" --bootstrap "$BOOTSTRAP" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" groups describe connect-local-file-sink \
    >"$ST_TMP/qs-group.txt" || fail "strait groups describe connect-local-file-sink failed"
assert_contains "$ST_TMP/qs-group.txt" 'connect-test' "the sink's group has committed offsets"
# Restarted with nothing new: nothing is sent or written twice.
connect_start "$QS" "$ST_TMP/qs2.log" connect-standalone.properties \
    connect-file-source.properties connect-file-sink.properties
wait_until 30 "the restarted worker's start" grep -q 'running 2 connectors' "$ST_TMP/qs2.log"
echo 'after restart' >>"$QS/test.txt"
wait_until 30 "the line added after the restart" lines_are "$QS/test.sink.txt" 4
connect_stop "$ST_TMP/qs2.log"
assert_eq $'foo\nbar\nAnother line\nafter restart' "$(cat "$QS/test.sink.txt")" \
    "test.sink.txt after a restart"
assert_eq 4 "$(topic_count connect-test)" "records in connect-test after a restart"
log "quickstart: test.txt → connect-test → test.sink.txt, appends and a restart, exactly once"

# ---- 2. bad properties ----
BAD="$ST_TMP/bad"
mkdir -p "$BAD"
good_worker="bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$BAD/offsets"
expect_refused() { # NAME WANT WORKER_TEXT CONNECTOR_TEXT
    local name=$1 want=$2 rc=0
    printf '%s\n' "$3" >"$BAD/$name-worker.properties"
    printf '%s\n' "$4" >"$BAD/$name.properties"
    (cd "$BAD" && timeout 30 "$STRAIT" connect standalone "$name-worker.properties" "$name.properties") \
        >"$BAD/$name.out" 2>&1 || rc=$?
    assert_eq 2 "$rc" "exit status for $name"
    grep -qF -- "$want" "$BAD/$name.out" || fail "$name: expected \"$want\" in: $(cat "$BAD/$name.out")"
}
src='name=s
connector.class=FileStreamSource
file=in.txt
topic=t'
expect_refused no-bootstrap "no-bootstrap-worker.properties: bootstrap.servers: missing" \
    "offset.storage.file.filename=x" "$src"
expect_refused no-offsets "no-offsets-worker.properties: offset.storage.file.filename: missing" \
    "bootstrap.servers=$BOOTSTRAP" "$src"
expect_refused typo-class 'typo-class.properties:2: connector.class: "FileStreamSourc" is not a connector' \
    "$good_worker" $'name=s\nconnector.class=FileStreamSourc\ntopic=t'
expect_refused tasks 'tasks.properties:4: tasks.max: "two" is not a whole number' \
    "$good_worker" $'name=s\nconnector.class=FileStreamSource\n# comment\ntasks.max=two\ntopic=t'
expect_refused escape 'escape.properties:3: malformed \uXXXX escape' \
    "$good_worker" $'name=s\nconnector.class=FileStreamSource\nfile=a\\u12.txt\ntopic=t'
expect_refused continued 'continued.properties:4: topic: "a,b": FileStreamSource writes one topic' \
    "$good_worker" $'name=s\nconnector.class=\\\n   FileStreamSource\ntopic=a,\\\n  b'
expect_refused converter 'converter-worker.properties:3: value.converter: "io.confluent.connect.avro.AvroConverter" is not a converter' \
    "$(printf '%s\n' "$good_worker" | sed 's/^value.converter=.*/value.converter=io.confluent.connect.avro.AvroConverter/')" "$src"
expect_refused no-topic 'no-topic.properties: topic: missing' \
    "$good_worker" $'name=s\nconnector.class=org.apache.kafka.connect.file.FileStreamSourceConnector'
expect_refused sink-both 'sink-both.properties:4: topics.regex: a sink connector needs exactly one' \
    "$good_worker" $'name=k\nconnector.class=FileStreamSink\ntopics=a\ntopics.regex=b.*'
expect_refused transforms 'transforms.properties:3: transforms: not supported' \
    "$good_worker" $'name=k\nconnector.class=FileStreamSink\ntransforms=MakeMap\ntopics=a'
log "bad properties: 10 cases refused with file, line, key and reason"

# ---- 3. the source, killed and restarted ----
EX="$ST_TMP/exact"
mkdir -p "$EX"
timeout 60 "$STRAIT" --bootstrap "$BOOTSTRAP" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" topics create exact --partitions 3 >/dev/null ||
    fail "creating the topic exact failed"
{
    echo "bootstrap.servers=$BOOTSTRAP"
    echo "key.converter=org.apache.kafka.connect.storage.StringConverter"
    echo "value.converter=org.apache.kafka.connect.storage.StringConverter"
    echo "offset.storage.file.filename=$EX/connect.offsets"
    echo "# no periodic store or commit: only at start and at a clean stop"
    echo "offset.flush.interval.ms=600000"
    echo "# a killed sink's group member is dropped after 6 s, not librdkafka's 45"
    echo "consumer.session.timeout.ms=6000"
    echo "# small batches: over the slowed link records arrive a few at a time"
    echo "producer.batch.num.messages=50"
} >"$EX/worker.properties"
printf 'name=exact-source\nconnector.class=org.apache.kafka.connect.file.FileStreamSourceConnector\nfile=%s\ntopic=exact\n' \
    "$EX/in.txt" >"$EX/source.properties"
: >"$EX/in.txt"
connect_start "$EX" "$ST_TMP/exact.log" worker.properties source.properties
# Lines arrive in chunks while it runs, over a link of 30 KB/s with 50 ms of delay each
# way; it is killed in the middle of that, with records sent and not yet acknowledged.
proxy_cmd delay 50
proxy_cmd rate 30000
for chunk in $(seq 0 9); do
    seq -f 'line-%06g' $((chunk * 2000 + 1)) $((chunk * 2000 + 2000)) >>"$EX/in.txt"
    if [ "$chunk" = 5 ]; then
        wait_until 60 "the first records of exact" count_at_least exact 1000
        connect_kill9
        proxy_cmd delay 0
        proxy_cmd rate 0
    fi
    sleep 0.02 # pacing of the writer, not a wait for a condition
done
log "source killed with SIGKILL at $(topic_count exact) records in the topic, with 12000 lines written"
connect_start "$EX" "$ST_TMP/exact.log" worker.properties source.properties
wait_until 120 "20000 records in exact" count_at_least exact 20000
assert_eq 20000 "$(topic_count exact)" "records in exact (a duplicate shows here)"
seq -f 'line-%06g' 20001 21000 >>"$EX/in.txt"
wait_until 60 "21000 records in exact" count_at_least exact 21000
assert_eq 21000 "$(topic_count exact)" "records in exact (a duplicate shows here)"
connect_kill9
log "source killed with SIGKILL after all 21000 were acknowledged, offsets last stored at its start"
connect_start "$EX" "$ST_TMP/exact.log" worker.properties source.properties
third_started() { [ "$(grep -c 'running 1 connector' "$ST_TMP/exact.log")" -ge 3 ]; }
wait_until 60 "the third start" third_started
seq -f 'line-%06g' 21001 21500 >>"$EX/in.txt"
wait_until 60 "21500 records in exact" count_at_least exact 21500
assert_eq 21500 "$(topic_count exact)" "records in exact (a duplicate shows here)"
connect_stop "$ST_TMP/exact.log"
grep 'resuming after position' "$ST_TMP/exact.log" | while read -r line; do log "  $line"; done
kc -C -t exact -o beginning -e -q -f '%p %s\n' >"$ST_TMP/exact-topic.txt"
cut -d' ' -f2 "$ST_TMP/exact-topic.txt" | sort >"$ST_TMP/exact-sorted.txt"
assert_same_file "$EX/in.txt" "$ST_TMP/exact-sorted.txt" "the topic exact holds every line of in.txt exactly once"
# Lines after the 12,000 written before the first kill were sent by the second and third
# runs only, which had nothing missing after them: in file order in every partition.
for p in 0 1 2; do
    awk -v p=$p '$1 == p && $2 > "line-012000" {print $2}' "$ST_TMP/exact-topic.txt" >"$ST_TMP/exact-p$p.txt"
    sort -c "$ST_TMP/exact-p$p.txt" || fail "partition $p of exact is not in file order"
done

# ---- 4. the sink, killed and restarted ----
printf 'name=exact-sink\nconnector.class=FileStreamSink\nfile=%s\ntopics=exact\n' \
    "$EX/out.txt" >"$EX/sink.properties"
connect_start "$EX" "$ST_TMP/sink.log" worker.properties sink.properties
wait_until 120 "21500 lines in out.txt" lines_are "$EX/out.txt" 21500
connect_kill9
log "sink killed with SIGKILL after writing all 21500 lines (committed only when it started)"
connect_start "$EX" "$ST_TMP/sink.log" worker.properties sink.properties
wait_until 30 "the restarted sink's truncation" grep -q 'dropped the last' "$ST_TMP/sink.log"
wait_until 120 "21500 lines in out.txt again" lines_are "$EX/out.txt" 21500
connect_stop "$ST_TMP/sink.log"
sort "$EX/out.txt" >"$ST_TMP/out-sorted.txt"
assert_same_file "$EX/in.txt" "$ST_TMP/out-sorted.txt" "out.txt holds every record exactly once"
log "sink: $(grep -m1 'dropped the last' "$ST_TMP/sink.log")"
stop_broker
