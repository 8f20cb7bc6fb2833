#!/usr/bin/env bash
# Compaction of a topic written in transactions (issue 19), with librdkafka's
# transactional producer (rk_txn script) and kcat's read_committed consumer.
#
# A compacted topic (segment.bytes=2048, min.cleanable.dirty.ratio=0.01,
# delete.retention.ms=1000) gets 8 rounds, each a committed transaction setting keys
# key-0..39 to "c<round>" and then an aborted one setting the same keys to "a<round>"
# (the aborted ones also write keys that no committed transaction has: only-aborted-*).
# Once the cleaner has been over everything below the active segment:
#  - no aborted record is left in the log (read_uncommitted sees none),
#  - read_committed sees exactly one value per key, the latest committed one ("c7"),
#    and no key that only aborted transactions wrote — an aborted value must not make
#    the committed one look superseded (without the cleaner's transaction rules the
#    committed values were deleted and the aborted ones kept);
#  - markers of transactions with nothing left are removed (delete.retention.ms passed),
#  - after kill -9 and a restart the partition's transactions are rebuilt from the
#    compacted log: read_committed is not held back (a record produced after the restart
#    is seen) and still reads the same values.
. "$(dirname "$0")/lib.sh"

ST_EXTRA_CFG='log = { retention_check_interval_ms = 200; };'
start_broker
TOPIC=txn-compacted
DIR="$ST_DATA/$TOPIC-0"
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 cleanup.policy=compact segment.bytes=2048 \
    min.cleanable.dirty.ratio=0.01 delete.retention.ms=1000 >/dev/null

ROUNDS=8
KEYS=40
{
    for r in $(seq 0 $((ROUNDS - 1))); do
        echo begin
        for k in $(seq 0 $((KEYS - 1))); do echo "put key-$k c$r"; done
        echo commit
        echo begin
        for k in $(seq 0 $((KEYS - 1))); do echo "put key-$k a$r"; done
        for k in 0 1 2; do echo "put only-aborted-$k a$r"; done
        echo abort
    done
} >"$ST_TMP/script.txt"
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" script "$TOPIC" app-compact - <"$ST_TMP/script.txt" 2>"$ST_TMP/script.err") ||
    fail "rk_txn script failed: $(tail -n 3 "$ST_TMP/script.err")"
assert_eq "done $((ROUNDS * 2))" "$out" "rk_txn script"
# plain records that push the transactions out of the active segment
seq 0 199 | awk '{printf "filler\tf%d\n", $1}' |
    kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all || fail "kcat -P $TOPIC failed"
end_offset() { "$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" "$TOPIC" 0 | cut -d' ' -f2; }
written=$(end_offset)
log "wrote $written offsets ($((ROUNDS * 2)) transactions, their markers, 200 plain records); $(ls "$DIR"/*.log | wc -l) segments"

committed() { kc -C -t "$TOPIC" -p 0 -o beginning -e -q -X isolation.level=read_committed -f '%o %k %s\n'; }
uncommitted() { kc -C -t "$TOPIC" -p 0 -o beginning -e -q -X isolation.level=read_uncommitted -f '%o %k %s\n'; }
active_base() { local a; a=$(ls "$DIR"/*.log | sort | tail -n 1); echo $((10#$(basename "$a" .log))); }

# compacted: below the active segment no key appears twice
compacted() {
    local active
    active=$(active_base)
    uncommitted >"$ST_TMP/all.txt" || return 1
    [ -z "$(awk -v a="$active" '$1 < a && $2 != "filler" {print $2}' "$ST_TMP/all.txt" | sort | uniq -d | head -n 1)" ]
}
wait_until 60 "the cleaner to compact $TOPIC below its active segment" compacted
log "after compaction: $(wc -l <"$ST_TMP/all.txt") records (read_uncommitted), $(ls "$DIR"/*.log | wc -l) segments"

check_committed() { # WHAT
    committed >"$ST_TMP/committed.txt" || fail "kcat read_committed failed ($1)"
    awk '$2 != "filler" && $2 != "after-restart" {print $2, $3}' "$ST_TMP/committed.txt" | sort >"$ST_TMP/got.txt"
    seq 0 $((KEYS - 1)) | awk -v c="c$((ROUNDS - 1))" '{printf "key-%d %s\n", $1, c}' | sort >"$ST_TMP/want.txt"
    assert_same_file "$ST_TMP/want.txt" "$ST_TMP/got.txt" "read_committed after compaction ($1): each key once, its latest committed value"
}
check_committed "compacted"
[ -z "$(awk '$3 ~ /^a/' "$ST_TMP/all.txt" | head -n 1)" ] ||
    fail "aborted records left in the log: $(awk '$3 ~ /^a/' "$ST_TMP/all.txt" | head -n 3)"
# the markers: every transaction took an offset for its marker; those whose records are
# all gone and which are older than delete.retention.ms are removed by a later pass
markers_dropped() {
    broker_log_since_start | grep -Eo 'and [1-9][0-9]* transaction markers' | head -n 1 | grep -q .
}
# each poll adds dirty data, so passes go on until the markers are older than 1 s
n_more=0
dropped_after_more() {
    markers_dropped && return 0
    n_more=$((n_more + 1))
    seq 0 19 | awk -v i="$n_more" '{printf "filler\tg%d-%d\n", i, $1}' | kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all
    return 1
}
wait_until 30 "a pass to remove the markers of transactions with nothing left" dropped_after_more
log "the cleaner: $(broker_log_since_start | grep -Eo 'dropped [0-9]+ records and [0-9]+ transaction markers' | tail -n 1)"
check_committed "markers removed"

# kill -9 and restart: the transactions of the partition are rebuilt from what is left
kill9_broker
start_broker
echo "after-restart	r1" | kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all || fail "kcat -P after the restart failed"
sees_new() { committed | grep -q ' after-restart r1$'; }
wait_until 20 "read_committed to see the record produced after the restart" sees_new
check_committed "after kill -9 and a restart"
assert_eq "$(($(end_offset)))" "$(($(tail -n 1 "$ST_TMP/committed.txt" | cut -d' ' -f1) + 1))" \
    "read_committed reaches the end offset (the last stable offset is not held back)"
log "read_committed: $KEYS keys at c$((ROUNDS - 1)) only, before and after kill -9"
stop_broker
