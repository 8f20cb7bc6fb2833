#!/usr/bin/env bash
# strait-mirror failover when the source datacenter is gone (issue 20): dc1 → dc2 (prefix
# naming). MODE (first argument) says how dc1 disappears:
#   kill       dc1's straitd is killed with SIGKILL (dc2 behind the 40 ms WAN link);
#   blackhole  dc1 sits behind the WAN link and the link stops carrying anything: open
#              connections stay open but silent, new ones are accepted and never answered
#              (what a lost datacenter looks like from outside: no reset, no answer).
# Steps:
#  1. 8,000 records mirrored; group app.one reads part of them on dc1 and commits; the
#     checkpoint writes the translated offsets on dc2;
#  2. the flow is paused and 5,000 more records reach dc1 that the mirror does not copy;
#     the flow still learns the source's end offsets (status shows the lag); app.one reads
#     50 more (mirrored) records of each partition and commits; the checkpoint writes them;
#  3. dc1 disappears; `strait mirror failover 'dc1->dc2'` must answer within 10 s, mark
#     every at-risk range "[source unreachable ...]" with the exact unmirrored range
#     [1000, 1625) of each partition, list app.one's offsets it wrote to dc2, and status
#     must keep answering meanwhile;
#  4. app.one on dc2 resumes exactly after its last commit on dc1 (first record per
#     partition, the records, their total).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

MODE=${1:-kill}
case "$MODE" in kill | blackhole) ;; *) fail "mode must be kill or blackhole, not $MODE" ;; esac
PARTS=8
N1=8000 # mirrored
N2=5000 # produced while the flow is paused: never mirrored
PER1=$((N1 / PARTS))
PER=$(((N1 + N2) / PARTS))

if [ "$MODE" = kill ]; then
    dc_start dc1
    dc_start dc2 wan
else
    dc_start dc1 wan
    dc_start dc2
fi

rk dc1 produce orders a 0 "$N1" "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(MIRROR_GROUPS='"app\\..*"' mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders "$N1"
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders

committed_lines() { sed -n 's/^committed \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$1" | sort -n; }
dc2_offsets_are() { [ "$(rk dc2 committed app.one dc1.orders "$PARTS")" = "$(cat "$1")" ]; }

# ---- 1. a group reads part of orders on dc1; the checkpoint translates its offsets ----
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read1.txt" --limits 37,137,237,337,437,537,637,737 \
    >"$ST_TMP/group1.txt" || fail "group app.one on dc1 failed: $(cat "$ST_TMP/group1.txt")"
committed_lines "$ST_TMP/group1.txt" >"$ST_TMP/c1.txt"
wait_until 20 "the checkpoint to write app.one's offsets on dc2" dc2_offsets_are "$ST_TMP/c1.txt"

# ---- 2. records the mirror does not copy; the group commits more ----
mirror_cli pause 'dc1->dc2' >/dev/null || fail "strait mirror pause failed"
rk dc1 produce orders a "$N1" "$N2" "$PARTS" >/dev/null || fail "producing to dc1 failed"
source_ends_known() {
    mirror_status_json 'dc1->dc2' | jq -e --argjson e "$PER" \
        '[.partitions[] | select(.topic == "orders")] as $ps | ($ps | length) == 8 and
         all($ps[]; .source_end == $e and .delivered == ($e - 625))' >/dev/null
}
wait_until 20 "the paused flow to learn dc1's end offsets ($PER per partition)" source_ends_known
log "paused with $N2 records not copied: $(flow_summary 'dc1->dc2')"
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read2.txt" --limit 50 >"$ST_TMP/group2.txt" ||
    fail "group app.one on dc1 (second read) failed: $(cat "$ST_TMP/group2.txt")"
committed_lines "$ST_TMP/group2.txt" >"$ST_TMP/c2.txt"
assert_eq "0 87|1 187|2 287|3 387|4 487|5 587|6 687|7 787" "$(paste -sd'|' "$ST_TMP/c2.txt")" \
    "app.one's second commits on dc1"
wait_until 20 "the checkpoint to write app.one's second offsets on dc2" dc2_offsets_are "$ST_TMP/c2.txt"

# ---- 3. dc1 is gone; fail over ----
if [ "$MODE" = kill ]; then
    kill -KILL "${DC_PID[dc1]}"
    wait "${DC_PID[dc1]}" 2>/dev/null || true
    DC_PID[dc1]=""
    log "dc1's straitd killed with SIGKILL"
else
    proxy_cmd blackhole
    log "WAN link to dc1 black-holed ($PROXY_ANSWER)"
fi
t0=$(date +%s%N)
mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover.txt" 2>&1 &
FAILOVER_PID=$!
# the daemon keeps answering status while the failover runs
max_status_ms=0
while kill -0 "$FAILOVER_PID" 2>/dev/null; do
    s0=$(date +%s%N)
    mirror_status_json 'dc1->dc2' >/dev/null 2>"$ST_TMP/status.err" ||
        fail "status got no answer during the failover: $(cat "$ST_TMP/status.err")"
    took=$((($(date +%s%N) - s0) / 1000000))
    [ "$took" -le "$max_status_ms" ] || max_status_ms=$took
    sleep 0.2
done
rc=0
wait "$FAILOVER_PID" || rc=$?
took_ms=$((($(date +%s%N) - t0) / 1000000))
log "strait mirror failover 'dc1->dc2' (exit $rc, $took_ms ms; status answered within $max_status_ms ms meanwhile):"
sed 's/^/    /' "$ST_TMP/failover.txt"
[ "$rc" -eq 0 ] || fail "strait mirror failover failed with dc1 gone"
[ "$took_ms" -le 10000 ] || fail "failover took $took_ms ms with dc1 gone, over the 10 s promised"
for p in $(seq 0 $((PARTS - 1))); do
    assert_contains "$ST_TMP/failover.txt" \
        "NOT replicated: orders-$p offsets $PER1\\.\\.$PER \\(625 records\\) \\[source unreachable" \
        "failover output for partition $p"
done
assert_contains "$ST_TMP/failover.txt" "app\\.one  *dc1\\.orders  *0  *87 " "failover output (app.one's offsets written)"
assert_eq failed-over "$(mirror_status_json 'dc1->dc2' | jq -r .state)" "the flow's state after failover"
got=$(rk dc2 committed app.one dc1.orders "$PARTS")
assert_eq "$(paste -sd, "$ST_TMP/c2.txt")" "$(echo "$got" | paste -sd,)" \
    "app.one's offsets on dc2 after failover (dc1's last commits, translated)"

# ---- 4. the group resumes on dc2 exactly after its last commit ----
rk dc2 group app.one dc1.orders "$PARTS" "$ST_TMP/read-dc2.txt" >"$ST_TMP/group-dc2.txt" ||
    fail "group app.one on dc2 failed: $(cat "$ST_TMP/group-dc2.txt")"
: >"$ST_TMP/want-dc2.txt"
while read -r p c; do
    awk -v p="$p" -v c="$c" -v n="$PER1" -v P="$PARTS" \
        'BEGIN { for (o = c; o < n; o++) printf "%d %d a-%d\n", p, o, o * P + p }' >>"$ST_TMP/want-dc2.txt"
done <"$ST_TMP/c2.txt"
sort -k1,1n -k2,2n "$ST_TMP/read-dc2.txt" >"$ST_TMP/read-dc2.sorted"
for p in $(seq 0 $((PARTS - 1))); do
    assert_eq "$(awk -v p="$p" '$1 == p { print; exit }' "$ST_TMP/want-dc2.txt")" \
        "$(awk -v p="$p" '$1 == p { print; exit }' "$ST_TMP/read-dc2.sorted")" \
        "first record app.one read on dc2 in partition $p"
done
assert_same_file "$ST_TMP/want-dc2.txt" "$ST_TMP/read-dc2.sorted" "records app.one read on dc2"
log "app.one on dc2 read exactly the $(wc -l <"$ST_TMP/want-dc2.txt") mirrored records it had not committed on dc1"
t0=$(date +%s%N)
mirror_stop
log "strait-mirror stopped $((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM with dc1 gone"
