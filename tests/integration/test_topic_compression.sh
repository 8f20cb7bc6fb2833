#!/usr/bin/env bash
# Topic-level compression.type (issue 11, item 1): batches are recompressed on append
# into the topic's codec when the producer used another, as Kafka does.
#   - librdkafka's CreateTopics with compression.type=<codec> succeeds (it used to be
#     refused: only "producer" was accepted);
#   - an uncompressed kcat producer writes to a zstd topic: every stored batch is zstd
#     (read from the segment files), and kcat reads back exactly the lines it sent;
#   - rk_compression produces with each codec into topics whose compression.type is a
#     different codec (or uncompressed) and checks every record back exactly (offsets,
#     keys, null keys and values, headers, timestamps): the segments hold only the
#     topic's codec;
#   - compression.type changed live (strait topics alter) applies to the next batch.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI}"

# codecs_of TOPIC: the distinct codecs of the batches stored in TOPIC's partition 0,
# read from the segment files (RecordBatch v2 headers: attributes at byte 21), comma-
# separated, then the number of batches.
codecs_of() {
    /usr/bin/python3 - "$ST_DATA/$1-0" <<'PYEOF'
import glob, struct, sys
names = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
seen, batches = set(), 0
for path in sorted(glob.glob(sys.argv[1] + "/*.log")):
    data = open(path, "rb").read()
    pos = 0
    while pos + 61 <= len(data):
        length, = struct.unpack(">i", data[pos + 8:pos + 12])
        attributes, = struct.unpack(">h", data[pos + 21:pos + 23])
        seen.add(names.get(attributes & 7, "?"))
        batches += 1
        pos += 12 + length
print(",".join(sorted(seen)), batches)
PYEOF
}

start_broker
admin() { "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }

# 1. CreateTopics with compression.type, as librdkafka's admin API sends it.
"$RK_BIN/rk_admin" "$BOOTSTRAP" create zstd-topic 1 compression.type=zstd >/dev/null ||
    fail "librdkafka CreateTopics with compression.type=zstd was refused"
admin topics describe zstd-topic >"$ST_TMP/describe.txt"
assert_contains "$ST_TMP/describe.txt" "compression.type.*zstd" "describe shows compression.type=zstd"

# 2. An uncompressed producer, a zstd topic.
seq 1 3000 | awk '{ printf "key-%d:value %d %s\n", $1, $1, ($1 % 7 ? "lorem ipsum dolor sit amet" : "") }' >"$ST_TMP/sent.txt"
kc -P -t zstd-topic -p 0 -K : -z none -X linger.ms=5 -X batch.num.messages=200 <"$ST_TMP/sent.txt" ||
    fail "kcat could not produce to zstd-topic"
read -r codecs batches <<<"$(codecs_of zstd-topic)"
log "zstd-topic: $batches batches stored, codecs: $codecs"
[ "$batches" -ge 2 ] || fail "expected several batches in zstd-topic, found $batches"
assert_eq "zstd" "$codecs" "codec of every batch stored in zstd-topic"
read_topic zstd-topic '%k:%s\n' >"$ST_TMP/read.txt"
assert_same_file "$ST_TMP/sent.txt" "$ST_TMP/read.txt" "kcat reads back what it sent through zstd-topic"

# 3. Every producer codec into a topic of another codec, checked record by record.
targets=(zstd lz4 gzip uncompressed snappy) # for producers none gzip snappy lz4 zstd
producers=(none gzip snappy lz4 zstd)
for i in 0 1 2 3 4; do
    "$RK_BIN/rk_admin" "$BOOTSTRAP" create "compression-${producers[$i]}" 1 \
        "compression.type=${targets[$i]}" >/dev/null ||
        fail "CreateTopics compression-${producers[$i]} with compression.type=${targets[$i]} was refused"
done
timeout 240 "$RK_BIN/rk_compression" "$BOOTSTRAP" 2000 >"$ST_TMP/rk.txt" 2>&1 ||
    { cat "$ST_TMP/rk.txt" >&2; fail "rk_compression found a difference after recompression"; }
for i in 0 1 2 3 4; do
    want=${targets[$i]}
    [ "$want" = uncompressed ] && want=none
    read -r codecs batches <<<"$(codecs_of "compression-${producers[$i]}")"
    assert_eq "$want" "$codecs" "batches of compression-${producers[$i]} (produced ${producers[$i]}, topic ${targets[$i]})"
    log "compression-${producers[$i]}: $batches batches, all $codecs"
done

# 4. Changed live: later batches take the new codec, earlier ones stay.
admin topics alter zstd-topic --config compression.type=lz4 >/dev/null ||
    fail "strait topics alter compression.type=lz4 failed"
echo "key-late:late value" | kc -P -t zstd-topic -p 0 -K : -z none || fail "kcat could not produce"
read -r codecs _ <<<"$(codecs_of zstd-topic)"
assert_eq "lz4,zstd" "$codecs" "codecs of zstd-topic after the change"
got=$(kc -C -t zstd-topic -p 0 -o -1 -e -q -f '%k:%s')
assert_eq "key-late:late value" "$got" "kcat reads the record written after the change"

# 5. A value Kafka does not know is refused with its reason.
if "$RK_BIN/rk_admin" "$BOOTSTRAP" create bad-codec 1 compression.type=brotli >"$ST_TMP/bad.txt" 2>&1; then
    fail "compression.type=brotli was accepted"
fi
assert_contains "$ST_TMP/bad.txt" "producer, uncompressed, gzip, snappy, lz4 or zstd" "the refusal lists the valid values"

stop_broker
