#!/usr/bin/env bash
# strait-mirror failover (issue 7, done 4), dc1 → dc2 with identity naming over the 40 ms
# WAN link. dc2's orders already held a few records of its own before mirroring began, so
# a mirrored record's dc2 offset is its dc1 offset plus 3 or 4 (per partition): offsets
# must be translated, not copied.
#  1. group app.one reads part of orders on dc1 (37, 137, ... 737 records of partitions
#     0..7) and commits; the periodic checkpoint writes the translated offsets on dc2;
#  2. more records arrive; app.one reads 50 more of each partition and commits;
#     `strait mirror failover dc1->dc2` stops the flow, writes the final translated
#     offsets and reports nothing at risk (everything had been replicated);
#  3. a consumer of app.one on dc2 reads exactly the records app.one had not committed
#     on dc1: per partition its first record is the one after the last committed, and
#     the records and their total match;
#  4. failback: records produced on dc2 after the failover reach dc1 (once), nothing dc1
#     already had is copied back, and the group's dc2 offsets are translated onto dc1;
#  5. `strait mirror reset` runs the original flow again: it resumes and does not send
#     dc2's records back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=8
N1=16000 # records before the group reads
N2=4000  # records after
N=$((N1 + N2))
LOCAL=29 # dc2's own records in orders: 4 in partitions 0..4, 3 in 5..7
shift_of() { if [ "$1" -lt $((LOCAL % PARTS)) ]; then echo $((LOCAL / PARTS + 1)); else echo $((LOCAL / PARTS)); fi; }

dc_start dc1
dc_start dc2 wan

rk dc2 produce orders l 0 "$LOCAL" "$PARTS" --create >/dev/null || fail "producing dc2's own records failed"
rk dc1 produce orders a 0 "$N1" "$PARTS" --create >"$ST_TMP/produce1.txt" || fail "producing to dc1 failed"
mirror_write_config "$(MIRROR_GROUPS='"app\\..*"' mirror_flow dc1 dc2 identity '"orders"')"
mirror_start
wait_count 60 dc2 orders $((LOCAL + N1))
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders

# committed_lines FILE: "p offset" pairs from rk_mirror_check group's "committed p offset"
committed_lines() { sed -n 's/^committed \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$1" | sort -n; }

# ---- 1. a group reads part of orders on dc1; the checkpoint translates its offsets ----
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read1.txt" --limits 37,137,237,337,437,537,637,737 \
    >"$ST_TMP/group1.txt" || fail "group app.one on dc1 failed: $(cat "$ST_TMP/group1.txt")"
committed_lines "$ST_TMP/group1.txt" >"$ST_TMP/c1.txt"
assert_eq "0 37|1 137|2 237|3 337|4 437|5 537|6 637|7 737" "$(paste -sd'|' "$ST_TMP/c1.txt")" \
    "app.one's commits on dc1"
# expected_dc2 FILE: the translated offsets ("p offset") of the dc1 commits in FILE
expected_dc2() {
    local p o
    while read -r p o; do echo "$p $((o + $(shift_of "$p")))"; done <"$1"
}
expected_dc2 "$ST_TMP/c1.txt" >"$ST_TMP/want1.txt"
dc2_offsets_are() { [ "$(rk dc2 committed app.one orders "$PARTS")" = "$(cat "$1")" ]; }
t0=$(date +%s%N)
wait_until 20 "the checkpoint to write app.one's translated offsets on dc2 ($(paste -sd, "$ST_TMP/want1.txt"))" \
    dc2_offsets_are "$ST_TMP/want1.txt"
log "checkpoint: app.one's offsets on dc2 are the translated ones after $((($(date +%s%N) - t0) / 1000000)) ms"
log "dc1->dc2: $(flow_summary 'dc1->dc2')"

# ---- 2. more records; the group reads on; failover ----
rk dc1 produce orders a "$N1" "$N2" "$PARTS" >"$ST_TMP/produce2.txt" || fail "producing to dc1 failed"
wait_count 60 dc2 orders $((LOCAL + N))
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read2.txt" --limit 50 >"$ST_TMP/group2.txt" ||
    fail "group app.one on dc1 (second read) failed: $(cat "$ST_TMP/group2.txt")"
committed_lines "$ST_TMP/group2.txt" >"$ST_TMP/c2.txt"
assert_eq "0 87|1 187|2 287|3 387|4 487|5 587|6 687|7 787" "$(paste -sd'|' "$ST_TMP/c2.txt")" \
    "app.one's second commits on dc1"
mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover.txt" 2>&1 ||
    fail "strait mirror failover failed: $(cat "$ST_TMP/failover.txt")"
log "strait mirror failover 'dc1->dc2':"
sed 's/^/    /' "$ST_TMP/failover.txt"
assert_contains "$ST_TMP/failover.txt" 'app\.one' "failover output (the group whose offsets it wrote)"
mirror_status_json 'dc1->dc2' >"$ST_TMP/status.json"
assert_eq failed-over "$(jq -r .state "$ST_TMP/status.json")" "the flow's state after failover"
expected_dc2 "$ST_TMP/c2.txt" >"$ST_TMP/want2.txt"
got=$(rk dc2 committed app.one orders "$PARTS")
assert_eq "$(paste -sd, "$ST_TMP/want2.txt")" "$(echo "$got" | paste -sd,)" \
    "app.one's offsets on dc2 after failover (dc1's last commits, translated)"

# ---- 3. the group goes on on dc2 with exactly what it had not committed ----
rk dc2 group app.one orders "$PARTS" "$ST_TMP/read-dc2.txt" >"$ST_TMP/group-dc2.txt" ||
    fail "group app.one on dc2 failed: $(cat "$ST_TMP/group-dc2.txt")"
# want: per partition p, from dc1 offset c (the commit) to the end (N/PARTS records): the
# record of dc1 offset o is a-(o*PARTS+p), at dc2 offset o + shift(p)
: >"$ST_TMP/want-dc2.txt"
while read -r p c; do
    s=$(shift_of "$p")
    awk -v p="$p" -v c="$c" -v s="$s" -v n=$((N / PARTS)) -v P="$PARTS" \
        'BEGIN { for (o = c; o < n; o++) printf "%d %d a-%d\n", p, o + s, o * P + p }' >>"$ST_TMP/want-dc2.txt"
done <"$ST_TMP/c2.txt"
sort -k1,1n -k2,2n "$ST_TMP/read-dc2.txt" >"$ST_TMP/read-dc2.sorted"
for p in $(seq 0 $((PARTS - 1))); do
    first_want=$(awk -v p="$p" '$1 == p { print; exit }' "$ST_TMP/want-dc2.txt")
    first_got=$(awk -v p="$p" '$1 == p { print; exit }' "$ST_TMP/read-dc2.sorted")
    assert_eq "$first_want" "$first_got" "first record app.one read on dc2 in partition $p (partition offset id)"
done
want_total=$(wc -l <"$ST_TMP/want-dc2.txt")
assert_eq "$want_total" "$(wc -l <"$ST_TMP/read-dc2.txt")" "records app.one read on dc2 (the $N minus the $(awk '{ s += $2 } END { print s }' "$ST_TMP/c2.txt") committed on dc1)"
assert_same_file "$ST_TMP/want-dc2.txt" "$ST_TMP/read-dc2.sorted" "records app.one read on dc2"
log "app.one on dc2 read exactly the $want_total records it had not committed on dc1"

# ---- 4. failback ----
rk dc2 produce orders b 0 800 "$PARTS" >"$ST_TMP/produce-b.txt" || fail "producing to dc2 after failover failed"
mirror_cli failback 'dc1->dc2' >"$ST_TMP/failback.txt" 2>&1 ||
    fail "strait mirror failback failed: $(cat "$ST_TMP/failback.txt")"
log "strait mirror failback 'dc1->dc2':"
sed 's/^/    /' "$ST_TMP/failback.txt"
wait_count 60 dc1 orders $((N + 800))
rk dc1 verify orders --expect "a:$N:$PARTS:-" --expect "b:800:$PARTS:dc2" --wait-ms 3000 \
    >"$ST_TMP/verify-dc1.txt" 2>&1 || {
    cat "$ST_TMP/verify-dc1.txt" >&2
    fail "after failback dc1's orders should hold its $N records and dc2's 800 new ones, each once"
}
log "dc1 orders after failback: $(tail -n 1 "$ST_TMP/verify-dc1.txt")"
assert_eq "$((N + 800)) $PARTS" "$(rk dc1 count orders)" "records in orders on dc1 after failback (nothing copied back twice)"
# the reversed flow checkpoints dc2's groups onto dc1: app.one committed the end of each
# dc2 partition (the divergence point), which is where dc2's new records begin on dc1
for p in $(seq 0 $((PARTS - 1))); do echo "$p $((N / PARTS))"; done >"$ST_TMP/want-back.txt"
dc1_offsets_are() { [ "$(rk dc1 committed app.one orders "$PARTS")" = "$(cat "$1")" ]; }
wait_until 20 "the reversed flow to write app.one's offsets back on dc1 ($(paste -sd, "$ST_TMP/want-back.txt"))" \
    dc1_offsets_are "$ST_TMP/want-back.txt"
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read-back.txt" >"$ST_TMP/group-back.txt" ||
    fail "group app.one back on dc1 failed: $(cat "$ST_TMP/group-back.txt")"
awk -v P="$PARTS" -v n=$((N / PARTS)) 'BEGIN { for (p = 0; p < P; p++) for (k = 0; k < 100; k++)
    printf "%d %d b-%d\n", p, n + k, k * P + p }' >"$ST_TMP/want-back-read.txt"
sort -k1,1n -k2,2n "$ST_TMP/read-back.txt" >"$ST_TMP/read-back.sorted"
assert_same_file "$ST_TMP/want-back-read.txt" "$ST_TMP/read-back.sorted" "records app.one read back on dc1 (dc2's 800 new ones)"

# ---- 5. back to normal: reset ----
# dc1->dc2 resumes from its offset map; the 800 records failback brought to dc1 carry
# strait.origin dc2, so they are not sent to dc2 a second time
mirror_cli reset 'dc1->dc2' >"$ST_TMP/reset.txt" 2>&1 || fail "strait mirror reset failed: $(cat "$ST_TMP/reset.txt")"
log "strait mirror reset 'dc1->dc2': $(cat "$ST_TMP/reset.txt")"
rk dc1 produce orders a "$N" 80 "$PARTS" >/dev/null || fail "producing to dc1 after failback failed"
wait_count 60 dc2 orders $((LOCAL + N + 800 + 80))
wait_until 30 "flow dc1->dc2 caught up again" flow_caught_up 'dc1->dc2' orders
assert_eq "$((LOCAL + N + 800 + 80)) $PARTS" "$(rk dc2 count orders)" \
    "records in orders on dc2 after the original flow restarted (dc2's own 800 not copied back to it)"
mirror_stop
