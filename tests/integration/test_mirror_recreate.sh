#!/usr/bin/env bash
# A source topic deleted and recreated (issue 20 limit 5), dc1 → dc2, prefix naming, over
# the 40 ms WAN link. Records of each incarnation carry their own tag (a, b, c).
#  1. orders (a: 2,000 records) is deleted; the daemon reports it; orders is created again
#     with 3,000 new records (b) — more per partition than were copied of a: the copy
#     dc1.orders keeps a and gets b after it, never interleaved, in offset map epoch 1
#     (strait.src "dc1/<offset>@1"), and the flow says what happened;
#  2. deleted and recreated again at once, before the daemon looks, with fewer records
#     (c: 400): the copy's position is past the new end: detected all the same, c goes
#     after b in epoch 2;
#  3. a restart resumes epoch 2 where it was: 200 more c records arrive, nothing twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=4
dc_start dc1
dc_start dc2 wan
rk dc1 produce orders a 0 2000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
mirror_start
wait_count 60 dc2 dc1.orders 2000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders

# tags_in_order: per partition of dc1.orders on dc2, the tags of its records in offset
# order collapse to the expected sequence (e.g. "a b": every a before every b)
tags_in_order() {
    local want=$1 p got
    for p in $(seq 0 $((PARTS - 1))); do
        # keys are "k-<tag>-<i>" (some are null: no line)
        got=$(timeout 60 "$KCAT" -b "${DC_BOOT[dc2]}" -C -t dc1.orders -p "$p" -o beginning -e -q \
            -f '%k\n' | sed -n 's/^k-\([a-z]\)-[0-9]*$/\1/p' | uniq | paste -sd' ')
        [ "$got" = "$want" ] || fail "dc1.orders[$p] on dc2 holds the incarnations in the order \"$got\", expected \"$want\""
    done
}
errors_match() { mirror_status_json 'dc1->dc2' | jq -e --arg re "$1" 'any(.errors[]; .message | test($re))' >/dev/null; }
epochs_are() { mirror_status_json 'dc1->dc2' | jq -e --argjson e "$1" '[.partitions[] | select(.topic == "orders") | .epoch // 0] | length == 4 and all(. == $e)' >/dev/null; }

# ---- 1. deleted, noticed, recreated with more records ----
dc_strait dc1 topics delete orders >/dev/null || fail "deleting orders on dc1 failed"
wait_until 20 "the flow to report orders deleted" errors_match "source topic orders was deleted"
rk dc1 produce orders b 0 3000 "$PARTS" --create >/dev/null || fail "producing the new orders failed"
wait_count 60 dc2 dc1.orders 5000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
wait_until 10 "every partition of orders in epoch 1" epochs_are 1
rk dc2 verify dc1.orders --expect "a:2000:$PARTS:dc1" --expect "b:3000:$PARTS:dc1" --wait-ms 3000 \
    >"$ST_TMP/verify1.txt" 2>&1 || {
    cat "$ST_TMP/verify1.txt" >&2
    fail "dc1.orders on dc2 should hold the 2000 a records and the 3000 b records, each once"
}
tags_in_order "a b"
assert_eq "5000 $PARTS" "$(rk dc2 count dc1.orders)" "records in dc1.orders on dc2 after the first recreation"
src=$(timeout 30 "$KCAT" -b "${DC_BOOT[dc2]}" -C -t dc1.orders -p 0 -o -1 -e -q -f '%h\n' |
    grep -ao 'strait\.src=dc1/[0-9@]*' | cut -d= -f2)
[[ "$src" =~ ^dc1/[0-9]+@1$ ]] || fail "the last record's strait.src is \"$src\", expected dc1/<offset>@1"
log "recreated: $(mirror_status_json 'dc1->dc2' | jq -r '[.errors[].message | select(test("recreated"))][0]')"
log "dc2: $(tail -n 1 "$ST_TMP/verify1.txt"), last strait.src $src"

# ---- 2. deleted and recreated at once, with fewer records ----
dc_strait dc1 topics delete orders >/dev/null || fail "deleting orders on dc1 failed"
rk dc1 produce orders c 0 400 "$PARTS" --create >/dev/null || fail "producing the third orders failed"
wait_count 60 dc2 dc1.orders 5400
wait_until 30 "every partition of orders in epoch 2" epochs_are 2
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
tags_in_order "a b c"
log "recreated at once: $(mirror_status_json 'dc1->dc2' | jq -r '[.errors[].message | select(test("recreated"))] | last')"

# ---- 3. a restart resumes epoch 2 ----
mirror_stop
mirror_start
rk dc1 produce orders c 400 200 "$PARTS" >/dev/null || fail "producing to dc1 failed"
wait_count 60 dc2 dc1.orders 5600
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
wait_until 10 "every partition of orders in epoch 2 after the restart" epochs_are 2
rk dc2 verify dc1.orders --expect "a:2000:$PARTS:dc1" --expect "b:3000:$PARTS:dc1" \
    --expect "c:600:$PARTS:dc1" --wait-ms 3000 >"$ST_TMP/verify2.txt" 2>&1 || {
    cat "$ST_TMP/verify2.txt" >&2
    fail "dc1.orders on dc2 should hold a, b and c, each record once"
}
tags_in_order "a b c"
assert_eq "5600 $PARTS" "$(rk dc2 count dc1.orders)" "records in dc1.orders on dc2 after the restart"
log "dc2 after the restart: $(tail -n 1 "$ST_TMP/verify2.txt")"
mirror_stop
