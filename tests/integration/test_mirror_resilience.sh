#!/usr/bin/env bash
# strait-mirror resilience (issue 7, done 3), dc1 → dc2 (prefix naming) over the 40 ms WAN
# link, while a producer writes a steady stream to dc1:
#  1. kill -9 of the daemon mid-stream, then a restart: it resumes where it stopped;
#  2. the WAN link cut for 10 s mid-stream: the flow stalls (the status shows the lag
#     growing) and recovers by itself once the link is back;
#  then dc1.orders on dc2 is complete, byte for byte, in order, no gap. Duplicates (a
#  record copied again after the kill) are allowed but counted and reported;
#  3. records deleted from the source (DeleteRecords) while the flow was paused are
#     reported as a gap with their exact range, and the flow goes on;
#  4. the source topic deleted under the daemon is reported in the flow's errors, and
#     the daemon still stops cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

N=${MIRROR_RECORDS:-100000}
RATE=${MIRROR_RATE:-500000} # value bytes a second: ~135 bytes a record, ~3,700 records/s
PARTS=8

dc_start dc1
dc_start dc2 wan

rk dc1 produce stream a 0 0 "$PARTS" --create >/dev/null || fail "creating stream on dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"stream"')"
mirror_start

st_bg "$ST_TMP/produce.txt" "$ST_TMP/produce.err" \
    "$RK_CHECK" produce "${DC_BOOT[dc1]}" stream a 0 "$N" "$PARTS" --rate "$RATE"
PRODUCER=$ST_BG_PID
log "producer pid $PRODUCER: $N records to dc1 stream at $RATE value bytes/s"

# ---- 1. kill -9 mid-stream ----
wait_count 30 dc2 dc1.stream $((N / 6))
mirror_kill9
at_kill=$(topic_count dc2 dc1.stream)
src_at_kill=$(topic_count dc1 stream)
log "at the kill: dc1 stream $src_at_kill records, dc2 dc1.stream $at_kill"
# the stream goes on without the daemon for a while
wait_until 30 "dc1 stream grew by $((N / 10)) records while the daemon was down" \
    count_at_least dc1 stream $((src_at_kill + N / 10))
mirror_start
wait_count 30 dc2 dc1.stream $((src_at_kill + N / 10))
log "after the restart: $(flow_summary 'dc1->dc2')"

# ---- 2. the link cut for 10 s mid-stream ----
kill -0 "$PRODUCER" 2>/dev/null || fail "the producer finished before the cut: raise MIRROR_RECORDS or lower MIRROR_RATE"
before_cut=$(topic_count dc2 dc1.stream)
wan_cut
cut_t0=$(date +%s)
lag_grows() {
    mirror_status_json 'dc1->dc2' | jq -e '[.partitions[] | select(.topic == "stream") | .lag_records] | add > 0' >/dev/null
}
wait_until 8 "the status to show lag on stream during the cut" lag_grows
# the daemon stays manageable while a cluster is unreachable (status answers)
max_status_ms=0
for k in 1 2 3; do
    s0=$(date +%s%N)
    mirror_status_json 'dc1->dc2' >"$ST_TMP/cut-status.json" 2>"$ST_TMP/cut-status.err" ||
        fail "strait mirror status got no answer during the cut (try $k after $((($(date +%s%N) - s0) / 1000000)) ms:" \
            "$(cat "$ST_TMP/cut-status.err")): the daemon's loop blocked while dc2 was unreachable"
    took=$((($(date +%s%N) - s0) / 1000000))
    [ "$took" -le "$max_status_ms" ] || max_status_ms=$took
    log "during the cut: status answered in $took ms: lag" \
        "$(jq '[.partitions[] | select(.topic == "stream") | .lag_records] | add' "$ST_TMP/cut-status.json") records," \
        "$(jq '.errors | length' "$ST_TMP/cut-status.json") errors"
    [ "$(date +%s)" -lt $((cut_t0 + 8)) ] || break
    sleep 1
done
[ "$max_status_ms" -lt 1000 ] ||
    log "WARNING: status took up to $max_status_ms ms to answer during the cut (the daemon's loop blocks while dc2 is unreachable)"
left=$((cut_t0 + 10 - $(date +%s)))
[ "$left" -le 0 ] || sleep "$left" # the cut lasts 10 s: a duration, not an assertion
wan_restore
after_cut=$(topic_count dc2 dc1.stream)
log "dc2 dc1.stream: $before_cut records before the cut, $after_cut right after it"
t_restore=$(date +%s%N)
wait_count 30 dc2 dc1.stream $((after_cut + 1000))
log "the flow moved again $((($(date +%s%N) - t_restore) / 1000000)) ms after the link came back"

# ---- the stream ends; the copy must be complete ----
wait "$PRODUCER" || fail "the producer failed: $(cat "$ST_TMP/produce.err")"
log "dc1: $(cat "$ST_TMP/produce.txt")"
wait_count 60 dc2 dc1.stream "$N"
wait_until 30 "flow dc1->dc2 caught up on stream" flow_caught_up 'dc1->dc2' stream
rk dc2 verify dc1.stream --expect "a:$N:$PARTS:dc1" --max-dups "$N" --wait-ms 5000 \
    >"$ST_TMP/verify.txt" 2>&1 || {
    cat "$ST_TMP/verify.txt" >&2
    fail "dc1.stream on dc2 is incomplete or wrong after a kill -9 and a 10 s cut"
}
dups=$(sed -n 's/^records=.* duplicates=\([0-9]*\) .*/\1/p' "$ST_TMP/verify.txt")
total=$(topic_count dc2 dc1.stream)
log "dc2 dc1.stream: $total records, every one of the $N once at least and in order; DUPLICATES: $dups"
dup_parts=$(grep '^duplicates per partition' "$ST_TMP/verify.txt" || true)
[ -z "$dup_parts" ] || log "$dup_parts"
log "$(flow_summary 'dc1->dc2')"
mirror_status_json 'dc1->dc2' >"$ST_TMP/status.json"
jq -e '.gaps | length == 0' "$ST_TMP/status.json" >/dev/null ||
    fail "the flow reports gaps: $(jq -c .gaps "$ST_TMP/status.json")"
skipped=$(jq '.duplicates_skipped' "$ST_TMP/status.json")
log "the daemon reports $skipped duplicates skipped; the target holds $dups"
echo "DUPLICATES=$dups" >"$ST_TMP/result.txt"

# ---- 3. records deleted from the source before they were copied ----
# paused, 100 new records in each partition; those of partition 0 are deleted
# (DeleteRecords) before the flow resumes: it must report the lost range, not skip it
mirror_cli pause 'dc1->dc2' >"$ST_TMP/pause.txt" 2>&1 || fail "strait mirror pause failed: $(cat "$ST_TMP/pause.txt")"
assert_eq paused "$(mirror_status_json 'dc1->dc2' | jq -r .state)" "the flow's state after pause"
rk dc1 produce stream a "$N" $((PARTS * 100)) "$PARTS" >/dev/null || fail "producing to dc1 failed"
per=$((N / PARTS))
rk dc1 truncate stream 0 $((per + 100)) >"$ST_TMP/truncate.txt" || fail "DeleteRecords on dc1 failed"
log "dc1: $(cat "$ST_TMP/truncate.txt") (records $per..$((per + 99)) of partition 0 deleted, never copied)"
mirror_cli resume 'dc1->dc2' >"$ST_TMP/resume.txt" 2>&1 || fail "strait mirror resume failed: $(cat "$ST_TMP/resume.txt")"
gap_reported() {
    mirror_status_json 'dc1->dc2' | jq -e --argjson f "$per" --argjson t $((per + 100)) \
        'any(.gaps[]; .topic == "stream" and .partition == 0 and .from == $f and .to == $t)' >/dev/null
}
wait_until 20 "the flow to report the gap stream[0] [$per, $((per + 100)))" gap_reported
wait_count 30 dc2 dc1.stream $((total + (PARTS - 1) * 100))
log "gap reported: $(mirror_status_json 'dc1->dc2' | jq -c .gaps)"
wait_until 20 "flow dc1->dc2 caught up on stream after the gap" flow_caught_up 'dc1->dc2' stream
assert_eq $((total + (PARTS - 1) * 100)) "$(topic_count dc2 dc1.stream)" \
    "records in dc1.stream on dc2 (the 100 new ones of the 7 untouched partitions arrived, nothing else)"
total=$(topic_count dc2 dc1.stream)

# ---- 4. the source topic deleted under the daemon ----
# a message naming stream that was not there before the deletion
stream_errors() { mirror_status_json 'dc1->dc2' | jq -c '[.errors[].message | select(test("stream"))]'; }
before_delete=$(stream_errors)
dc_strait dc1 topics delete stream >"$ST_TMP/delete.txt" 2>&1 ||
    fail "strait topics delete stream on dc1 failed: $(cat "$ST_TMP/delete.txt")"
deletion_reported() {
    stream_errors | jq -e --argjson old "$before_delete" 'any(.[]; . as $m | $old | index([$m]) | not)' >/dev/null
}
wait_until 30 "the flow's errors to report that stream disappeared from dc1" deletion_reported
log "reported: $(stream_errors | jq -r --argjson old "$before_delete" '[.[] | . as $m | select($old | index([$m]) | not)] | join(" / ")')"
assert_eq "$total" "$(topic_count dc2 dc1.stream)" "records in dc1.stream on dc2 after the source was deleted"
mirror_stop
log "figures: $N records, kill -9 at $at_kill on the target, 10 s cut at $before_cut; duplicates $dups"
