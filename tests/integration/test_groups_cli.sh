#!/usr/bin/env bash
# strait groups list | describe | reset-offsets | delete:
#  1. 1,000 records, `kcat -G -c 300` consumes 300 and commits: `groups list` shows the
#     group, `groups describe` shows CURRENT-OFFSET 300, LOG-END-OFFSET 1000, LAG 700
#     (and --json the same lag);
#  2. reset-offsets --to-earliest without --execute prints the plan (300 → 0) and
#     changes nothing; with --execute each of --to-offset, --shift-by, --to-latest,
#     --to-datetime and --to-earliest lands where it should (describe shows it) and a
#     `kcat -G` started after --to-offset 123 reads offset 123 first;
#  3. while the group has an active member, describe shows it, and reset-offsets
#     --execute and delete are refused with a message saying the group is active;
#  4. once the member left, delete works and the group is gone from the list.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

TOPIC=lagging
GROUP=cli-grp
ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 3; };'
start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
err="$ST_TMP/err.txt"

# row: "CURRENT-OFFSET LOG-END-OFFSET LAG" of $TOPIC partition 0 in `groups describe`
row() {
    st groups describe "$GROUP" >"$out" || fail "strait groups describe $GROUP failed: $(cat "$out")"
    awk -v t="$TOPIC" '$1 == t && $2 == "0" {print $3, $4, $5}' "$out"
}
reset() { # ARGS...: reset-offsets of $TOPIC, output in $out
    st groups reset-offsets "$GROUP" --topic "$TOPIC" "$@" >"$out" 2>"$err" ||
        fail "strait groups reset-offsets $* failed: $(cat "$err")"
}
expect_refused() { # WHAT PATTERN ARGS...
    local what=$1 pattern=$2 rc=0
    shift 2
    st "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$what: succeeded while the group is active"
    assert_contains "$err" "$pattern" "$what: the message says why"
    log "$what: refused: $(head -n 1 "$err")"
}

"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
seq 1 1000 | awk '{printf "k%d\tv%d\n", $1, $1}' | kc -P -t "$TOPIC" -p 0 -K $'\t' -X acks=all ||
    fail "kcat -P failed"

# ---- 1. a consumer 700 behind ----
kc -G "$GROUP" -c 300 -q -f '%k\n' -X auto.offset.reset=earliest "$TOPIC" >"$ST_TMP/first.txt" ||
    fail "kcat -G -c 300 failed"
assert_eq 300 "$(wc -l <"$ST_TMP/first.txt")" "records kcat -G -c 300 consumed"
st groups list >"$out" || fail "strait groups list failed"
assert_contains "$out" "^$GROUP " "groups list shows $GROUP"
assert_eq "300 1000 700" "$(row)" "CURRENT-OFFSET LOG-END-OFFSET LAG after consuming 300 of 1000"
sed 's/^/    /' "$out"
st groups describe "$GROUP" --json >"$ST_TMP/describe.json" || fail "groups describe --json failed"
assert_contains "$ST_TMP/describe.json" '"lag": *700' "groups describe --json shows the lag"

# ---- 2. reset-offsets ----
reset --to-earliest
assert_contains "$out" "^$TOPIC +0 +300 +0( |$)" "the dry run's plan: $TOPIC [0] from 300 to 0"
assert_contains "$out" "dry run" "the dry run says nothing changed"
assert_eq "300 1000 700" "$(row)" "describe after a dry run (unchanged)"

reset --to-offset 123 --execute
assert_eq "123 1000 877" "$(row)" "describe after --to-offset 123 --execute"
kc -G "$GROUP" -c 1 -q -f '%o %k\n' -X auto.offset.reset=earliest "$TOPIC" >"$ST_TMP/one.txt" ||
    fail "kcat -G -c 1 after the reset failed"
assert_eq "123 k124" "$(cat "$ST_TMP/one.txt")" "the first record a consumer reads after --to-offset 123"
assert_eq "124 1000 876" "$(row)" "describe after that consumer committed one record"
reset --shift-by -24 --execute
assert_eq "100 1000 900" "$(row)" "describe after --shift-by -24 --execute"
reset --to-latest --execute
assert_eq "1000 1000 0" "$(row)" "describe after --to-latest --execute"
reset --to-datetime 2000-01-01T00:00:00Z --execute
assert_eq "0 1000 1000" "$(row)" "describe after --to-datetime 2000-01-01 --execute (before every record)"
reset --to-latest --execute
reset --to-earliest --execute
assert_eq "0 1000 1000" "$(row)" "describe after --to-earliest --execute"
log "reset-offsets: dry run, --to-offset, --shift-by, --to-latest, --to-datetime, --to-earliest all as expected"

# ---- 3. refused while a member is active ----
"$RK_BIN/rk_admin" "$BOOTSTRAP" create cli-other 1 >/dev/null
st_bg /dev/null "$ST_TMP/member.err" \
    "$RK_BIN/rk_group_consumer" "$BOOTSTRAP" "$GROUP" cli-other "$ST_TMP/member.out"
member=$ST_BG_PID
assigned() { grep -q '^assignment: 0$' "$ST_TMP/member.err"; }
wait_until 30 "the member to be assigned cli-other [0]" assigned
st groups describe "$GROUP" >"$out" || fail "groups describe with an active member failed"
sed 's/^/    /' "$out"
awk '$1 == "cli-other" && $2 == "0" && $6 != "-"' "$out" | grep -q . ||
    fail "describe does not show the active member owning cli-other [0]"
assert_contains "$out" "Stable, 1 member" "describe shows the group Stable with one member"
expect_refused "reset-offsets --execute while active" "active.*stop its consumers" \
    groups reset-offsets "$GROUP" --topic "$TOPIC" --to-latest --execute
assert_eq "0 1000 1000" "$(row)" "describe after the refused reset (unchanged)"
expect_refused "delete while active" "active|member|stop its consumers|NON_EMPTY" groups delete "$GROUP"

# ---- 4. delete once inactive ----
kill -TERM "$member"
st_wait_pid "$member" 20 || fail "the member did not stop within 20 s"
wait "$member" || fail "the member exited with an error: $(tail -n 3 "$ST_TMP/member.err")"
empty() { st groups describe "$GROUP" 2>/dev/null | grep -q "Empty, 0 members"; }
wait_until 20 "the group to be Empty after its member left" empty
st groups delete "$GROUP" >"$out" 2>"$err" || fail "groups delete of the empty group failed: $(cat "$err")"
assert_contains "$out" "deleted group \"$GROUP\"" "groups delete"
st groups list >"$out" || fail "strait groups list failed"
assert_not_contains "$out" "^$GROUP " "groups list after the delete"
rc=0
st groups describe "$GROUP" >"$out" 2>"$err" || rc=$?
if [ "$rc" -eq 0 ]; then
    assert_not_contains "$out" "^$TOPIC " "describe of the deleted group shows no offsets"
fi
log "delete: the group and its offsets are gone"
stop_broker
