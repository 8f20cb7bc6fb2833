#!/usr/bin/env bash
# Log compaction:
#  (a) __consumer_offsets stays small under endless commits: a broker with one offsets
#      partition of 512 KiB segments takes 200,000 offset commits of one group
#      (rk_commit_flood: one OffsetCommit each); the bytes one commit costs on disk are
#      measured from the first 100; the directory __consumer_offsets-0 must shrink
#      below 10% of what 200,100 commits would take uncompacted, and the committed
#      offset is still right (librdkafka committed()), also after a restart;
#  (b) a user topic with cleanup.policy=compact, segment.bytes=16384 and
#      min.cleanable.dirty.ratio=0.01 gets 20 rounds of values for 500 keys, then
#      tombstones for 50 of them. Once the cleaner caught up: every key appears at most
#      once below the active segment, a full read ends with each live key's last value
#      ("<key>:19") and each deleted key's tombstone (or nothing), offsets are kept (the
#      end offset does not move) and far fewer than the 10,050 records remain.
. "$(dirname "$0")/lib.sh"

ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 1;
                         offsets_segment_bytes = 524288; };
log = { retention_check_interval_ms = 200; };'
start_broker
GROUP=flood-group
OFFSETS_DIR="$ST_DATA/__consumer_offsets-0"
dir_bytes() { du -sb "$1" | cut -f1; }
log_bytes() { cat "$1"/*.log | wc -c; }

# ---- (a) 200,000 commits ----
"$RK_BIN/rk_admin" "$BOOTSTRAP" create flood-target 1 >/dev/null
"$RK_BIN/rk_commit_flood" "$BOOTSTRAP" "$GROUP" flood-target 100 >"$ST_TMP/warmup.txt" ||
    fail "rk_commit_flood (100 commits) failed"
[ -d "$OFFSETS_DIR" ] || fail "no $OFFSETS_DIR after 100 commits (groups.offsets_topic_partitions = 1)"
per_commit=$(($(log_bytes "$OFFSETS_DIR") / 100))
[ "$per_commit" -gt 20 ] || fail "100 commits took $((per_commit * 100)) bytes of log: the commits are not in $OFFSETS_DIR"
log "one commit takes $per_commit bytes of __consumer_offsets-0"

"$RK_BIN/rk_commit_flood" "$BOOTSTRAP" "$GROUP" flood-target 200000 100 >"$ST_TMP/flood.txt" ||
    fail "rk_commit_flood (200,000 commits) failed"
log "rk_commit_flood: $(cat "$ST_TMP/flood.txt")"
read -r _ written < <("$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" __consumer_offsets 0)
[ "$written" -ge 200100 ] || fail "__consumer_offsets [0] end offset $written: the 200,100 commits are not all there"
uncompacted=$((per_commit * 200100))
small() { [ "$(dir_bytes "$OFFSETS_DIR")" -lt $((uncompacted / 10)) ]; }
wait_until 90 "__consumer_offsets-0 below 10% of $uncompacted bytes" small
size=$(dir_bytes "$OFFSETS_DIR")
log "__consumer_offsets-0: $written records written, $size bytes on disk ($(ls "$OFFSETS_DIR"/*.log | wc -l) segments) vs $uncompacted uncompacted ($((size * 1000 / uncompacted / 10)).$((size * 1000 / uncompacted % 10))%)"
assert_eq 200100 "$("$RK_BIN/rk_commit_flood" "$BOOTSTRAP" "$GROUP" flood-target committed)" \
    "committed offset after compaction"
stop_broker
start_broker
assert_eq 200100 "$("$RK_BIN/rk_commit_flood" "$BOOTSTRAP" "$GROUP" flood-target committed)" \
    "committed offset after compaction and a restart"

# ---- (b) a compacted user topic ----
TOPIC=compacted
DIR="$ST_DATA/$TOPIC-0"
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 cleanup.policy=compact segment.bytes=16384 \
    min.cleanable.dirty.ratio=0.01 >/dev/null
{
    for r in $(seq 0 19); do
        seq 0 499 | awk -v r="$r" '{printf "key-%d\tkey-%d:%d\n", $1, $1, r}'
    done
    seq 0 10 499 | awk '{printf "key-%d\t\n", $1}' # tombstones (-Z: empty value → null)
} >"$ST_TMP/updates.txt"
kc -P -t "$TOPIC" -p 0 -K $'\t' -Z -X acks=all -X batch.num.messages=100 -X linger.ms=1 \
    <"$ST_TMP/updates.txt" || fail "kcat -P $TOPIC failed"
produced=$(wc -l <"$ST_TMP/updates.txt")
log "produced $produced records; $(ls "$DIR"/*.log | wc -l) segments, $(log_bytes "$DIR") bytes"

# caught_up: the cleaner has been over every segment but the active one: below the
# active segment's base offset no key appears twice. Leaves the full read in read.txt.
caught_up() {
    local active
    active=$(ls "$DIR"/*.log | sort | tail -n 1)
    active=$((10#$(basename "$active" .log)))
    read_topic "$TOPIC" '%o %k %s\n' | sed 's/ $/ NULL/' >"$ST_TMP/read.txt" || return 1
    [ "$(wc -l <"$ST_TMP/read.txt")" -lt $((produced / 3)) ] || return 1
    [ -z "$(awk -v a="$active" '$1 < a {print $2}' "$ST_TMP/read.txt" | sort | uniq -d | head -n 1)" ]
}
wait_until 60 "the cleaner to compact $TOPIC below its active segment" caught_up
remaining=$(wc -l <"$ST_TMP/read.txt")
log "after compaction: $remaining records, $(ls "$DIR"/*.log | wc -l) segments, $(log_bytes "$DIR") bytes"

# Offsets are kept: strictly increasing, and the last record is still the last offset.
awk 'NR > 1 && $1 <= prev {print "offset " $1 " after " prev; exit 1} {prev = $1}' "$ST_TMP/read.txt" ||
    fail "offsets out of order after compaction"
assert_eq $((produced - 1)) "$(tail -n 1 "$ST_TMP/read.txt" | cut -d' ' -f1)" "offset of the last record after compaction"
# The value a full read ends with, per key.
awk '{last[$2] = $3} END {for (k in last) print k, last[k]}' "$ST_TMP/read.txt" | sort >"$ST_TMP/final.txt"
seq 0 499 | awk '$1 % 10 != 0 {printf "key-%d key-%d:19\n", $1, $1}' | sort >"$ST_TMP/live-expected.txt"
grep -v ' NULL$' "$ST_TMP/final.txt" >"$ST_TMP/live-final.txt" || true
assert_same_file "$ST_TMP/live-expected.txt" "$ST_TMP/live-final.txt" "each live key's latest value after compaction"
deleted=$(awk '$2 == "NULL" {print $1}' "$ST_TMP/final.txt" | sort)
expected_deleted=$(seq 0 10 499 | sed 's/^/key-/' | sort)
[ -z "$(comm -23 <(echo "$deleted") <(echo "$expected_deleted") | grep .)" ] ||
    fail "keys ending in a tombstone that were never deleted: $(comm -23 <(echo "$deleted") <(echo "$expected_deleted") | head -n 3)"
log "$remaining of $produced records remain; every live key reads back as its round-19 value, $(echo "$deleted" | grep -c .) deleted keys end in their tombstone"
stop_broker
