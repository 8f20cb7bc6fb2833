#!/usr/bin/env bash
# Moving off MirrorMaker 2 (issue 20 limit 7), dc1 → dc2, prefix naming (MM2's
# DefaultReplicationPolicy: orders → dc1.orders). rk_mm2 leaves what MM2 leaves: the
# copies, its offset syncs on dc1 (mm2-offset-syncs.dc2.internal) and its checkpoints on
# dc2 (dc1.checkpoints.internal), in MM2's record formats.
#  - MM2 copied 750 of each partition's 1,000 records; in partition 1 it copied records
#    300..339 twice (a restart from an older position), so the copy holds 40 duplicates
#    and its offsets drift by 40 from there;
#  - group app.one committed 500 of each partition on dc1; MM2 checkpointed it; group
#    app.gone exists only in MM2's checkpoints (partition 2, target offset 120).
# strait-mirror with mm2_import = true must copy only the 250 records of each partition
# MM2 had not (dc2 ends with 4,040 records: the 4,000, MM2's 40 duplicates, nothing
# else), translate app.one exactly (partition 1: 540, the others 500) so it resumes on
# dc2 right after its dc1 commit, and give app.gone MM2's offset.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

MM2="$RK_BIN/rk_mm2"
[ -x "$MM2" ] || fail "$MM2 is not built"
PARTS=4
dc_start dc1
dc_start dc2 wan
rk dc1 produce orders a 0 4000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"

# ---- what MirrorMaker 2 left ----
timeout 120 "$MM2" copy "${DC_BOOT[dc1]}" "${DC_BOOT[dc2]}" dc1 dc2 orders "$PARTS" 750 \
    --recopy 1:300:339 >"$ST_TMP/mm2-copy.txt" || fail "rk_mm2 copy failed"
log "MirrorMaker 2 (emulated): $(cat "$ST_TMP/mm2-copy.txt")"
assert_eq "3040 $PARTS" "$(rk dc2 count dc1.orders)" "records MM2 copied to dc2"
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read1.txt" --limit 500 >"$ST_TMP/group1.txt" ||
    fail "group app.one on dc1 failed: $(cat "$ST_TMP/group1.txt")"
timeout 60 "$MM2" checkpoint "${DC_BOOT[dc1]}" "${DC_BOOT[dc2]}" dc1 dc2 orders "$PARTS" app.one \
    >"$ST_TMP/mm2-ckpt.txt" || fail "rk_mm2 checkpoint failed"
timeout 60 "$MM2" checkpoint-put "${DC_BOOT[dc2]}" dc1 app.gone dc1.orders 2 130 120 ||
    fail "rk_mm2 checkpoint-put failed"
log "MM2's checkpoints: $(paste -sd';' "$ST_TMP/mm2-ckpt.txt"); app.gone dc1.orders 2 -> 120"

# ---- strait-mirror takes over ----
mirror_write_config "$(MIRROR_GROUPS='"app\\..*"' mirror_flow dc1 dc2 prefix '"orders"' "mm2_import = true;")"
mirror_start
wait_count 60 dc2 dc1.orders 4040
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
for p in $(seq 0 $((PARTS - 1))); do
    mirror_log_since_start | grep -q "orders\\[$p\\] starts where MirrorMaker 2 stopped: source offset 750" ||
        fail "the daemon did not start orders[$p] where MM2 stopped: $(mirror_log_since_start | grep -i mirrormaker)"
done
log "$(mirror_log_since_start | grep -o 'orders\[1\] starts where MirrorMaker 2 stopped.*')"
assert_eq "4040 $PARTS" "$(rk dc2 count dc1.orders)" "records in dc1.orders on dc2 (nothing copied again)"
rk dc2 verify dc1.orders --expect "a:4000:$PARTS:dc1?" --max-dups 40 --wait-ms 3000 >"$ST_TMP/verify.txt" 2>&1 || {
    cat "$ST_TMP/verify.txt" >&2
    fail "dc1.orders on dc2 should hold every record, in order, with only MM2's 40 duplicates"
}
assert_contains "$ST_TMP/verify.txt" "records=4040 duplicates=40 missing=0 problems=0" "verify of dc1.orders on dc2"

# ---- group positions ----
dc2_offsets_are() { [ "$(rk dc2 committed "$1" dc1.orders "$PARTS" | paste -sd,)" = "$2" ]; }
wait_until 20 "app.one's exact offsets on dc2" dc2_offsets_are app.one "0 500,1 540,2 500,3 500"
assert_eq "0 -1,1 -1,2 120,3 -1" "$(rk dc2 committed app.gone dc1.orders "$PARTS" | paste -sd,)" \
    "app.gone's offsets on dc2 (from MM2's checkpoints)"
rk dc2 group app.one dc1.orders "$PARTS" "$ST_TMP/read-dc2.txt" >"$ST_TMP/group-dc2.txt" ||
    fail "group app.one on dc2 failed: $(cat "$ST_TMP/group-dc2.txt")"
sort -k1,1n -k2,2n "$ST_TMP/read-dc2.txt" | awk '{ print $1, $3 }' >"$ST_TMP/read-dc2.ids"
for p in $(seq 0 $((PARTS - 1))); do
    assert_eq "$p a-$((500 * PARTS + p))" "$(awk -v p="$p" '$1 == p { print; exit }' "$ST_TMP/read-dc2.ids")" \
        "the first record app.one read on dc2 in partition $p"
done
assert_eq 2000 "$(wc -l <"$ST_TMP/read-dc2.txt")" "records app.one read on dc2 (the 500 after its commit in each partition)"
log "app.one resumed on dc2 exactly after its dc1 commit; app.gone got MM2's offset"
mirror_stop
