#!/usr/bin/env bash
# Consumer group rebalance with real librdkafka members (rk_group_consumer: session
# timeout 6 s, commits after every 10 records of a partition and on revocation):
#  1. three members of one group on a six-partition topic each own two partitions;
#  2. a paced producer (rk_idempotent ... plain) produces 6,000 keyed records; a third of the way
#     in one member is killed with SIGKILL; within the session timeout (+ a margin) its
#     partitions move: the two survivors own three each;
#  3. once the producer is done the survivors drain: every acknowledged record was
#     processed by some member (none lost), every processed record is one that was
#     produced, and the duplicates, possible only for records processed but not yet
#     committed when the kill or a rebalance came, are counted and bounded by
#     6 partitions × 10 (the commit interval).
. "$(dirname "$0")/lib.sh"

TOPIC=rebal
GROUP=rebal-group
COUNT=6000
COMMIT_EVERY=10
SESSION_TIMEOUT_S=6
ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 3; };'
start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 6 >/dev/null

# assignment N: member N's latest assignment line, e.g. "0 3" ("" when none yet)
assignment() {
    grep '^assignment:' "$ST_TMP/c$1.err" 2>/dev/null | tail -n 1 | sed 's/^assignment: *//'
}
owns() { # N COUNT: member N's latest assignment has COUNT partitions
    [ "$(assignment "$1" | wc -w)" -eq "$2" ]
}
all_owned() { # N...: the members' assignments together are exactly partitions 0..5
    local n
    [ "$(for n in "$@"; do assignment "$n"; done | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 " ]
}

declare -A MEMBER
for n in 1 2 3; do
    st_bg /dev/null "$ST_TMP/c$n.err" \
        "$RK_BIN/rk_group_consumer" "$BOOTSTRAP" "$GROUP" "$TOPIC" "$ST_TMP/c$n.out" "$COMMIT_EVERY"
    MEMBER[$n]=$ST_BG_PID
done
three_by_two() { owns 1 2 && owns 2 2 && owns 3 2 && all_owned 1 2 3; }
wait_until 60 "three members owning two partitions each" three_by_two
log "assignments: c1 [$(assignment 1)] c2 [$(assignment 2)] c3 [$(assignment 3)]"

st_bg "$ST_TMP/acks.txt" "$ST_TMP/producer.err" \
    "$RK_BIN/rk_idempotent" "$BOOTSTRAP" "$TOPIC" "$COUNT" 1000 plain
producer=$ST_BG_PID
acked_at_least() { [ "$(wc -l <"$ST_TMP/acks.txt")" -ge "$1" ]; }
wait_until 30 "the producer's first $((COUNT / 3)) acknowledgements" acked_at_least $((COUNT / 3))

victim_partitions=$(assignment 1)
disown "${MEMBER[1]}" # no "Killed" job notice from bash; it is waited for by pid below
kill -KILL "${MEMBER[1]}"
st_wait_pid "${MEMBER[1]}" 10 || fail "member c1 still running 10 s after SIGKILL"
t_kill=$(date +%s%N)
log "killed member c1 (pid ${MEMBER[1]}) owning partitions [$victim_partitions] with $(wc -l <"$ST_TMP/c1.out") records processed"

two_by_three() { owns 2 3 && owns 3 3 && all_owned 2 3; }
wait_until $((SESSION_TIMEOUT_S + 15)) "c1's partitions to move to c2 and c3" two_by_three
moved_ms=$((($(date +%s%N) - t_kill) / 1000000))
log "c1's partitions moved after $moved_ms ms: c2 [$(assignment 2)] c3 [$(assignment 3)]"
[ "$moved_ms" -le $(((SESSION_TIMEOUT_S + 6) * 1000)) ] ||
    fail "the partitions moved only after $moved_ms ms; session timeout ${SESSION_TIMEOUT_S}s + 6 s margin"

st_wait_pid "$producer" 60 || fail "the producer did not finish within 60 s"
wait "$producer" || fail "the producer failed: $(tail -n 3 "$ST_TMP/producer.err")"
assert_eq "$COUNT" "$(wc -l <"$ST_TMP/acks.txt")" "records the producer saw acknowledged"

# produced: "<partition> <offset> k<i>" for every acknowledged record
awk '{print $1, $2, "k" $3}' "$ST_TMP/acks.txt" | sort -u >"$ST_TMP/produced.txt"
processed_all() {
    cat "$ST_TMP"/c[123].out | sort -u >"$ST_TMP/processed.txt"
    [ -z "$(comm -23 "$ST_TMP/produced.txt" "$ST_TMP/processed.txt" | head -n 1)" ]
}
deadline=$(($(date +%s) + 60))
until processed_all; do
    [ "$(date +%s)" -lt "$deadline" ] ||
        fail "records produced but never processed within 60 s (first few): $(comm -23 "$ST_TMP/produced.txt" "$ST_TMP/processed.txt" | head -n 5 | tr '\n' ';')"
    sleep 0.2
done
phantom=$(comm -13 "$ST_TMP/produced.txt" "$ST_TMP/processed.txt" | head -n 3)
[ -z "$phantom" ] || fail "members processed records nobody produced (or with the wrong key): $phantom"
log "all $COUNT produced records were processed; c1 $(wc -l <"$ST_TMP/c1.out"), c2 $(wc -l <"$ST_TMP/c2.out"), c3 $(wc -l <"$ST_TMP/c3.out")"

for n in 2 3; do
    kill -TERM "${MEMBER[$n]}"
    st_wait_pid "${MEMBER[$n]}" 20 || fail "member c$n did not stop within 20 s of SIGTERM"
    wait "${MEMBER[$n]}" || fail "member c$n exited with an error: $(tail -n 3 "$ST_TMP/c$n.err")"
done

total=$(cat "$ST_TMP"/c[123].out | wc -l)
dups=$((total - $(wc -l <"$ST_TMP/processed.txt")))
cat "$ST_TMP"/c[123].out | sort | uniq -d >"$ST_TMP/dups.txt"
on_victim=0
for p in $victim_partitions; do
    on_victim=$((on_victim + $(awk -v p="$p" '$1 == p' "$ST_TMP/dups.txt" | wc -l)))
done
log "duplicates: $dups records processed twice ($on_victim of them on c1's partitions [$victim_partitions]); $total processed in all"
[ "$dups" -le $((6 * COMMIT_EVERY)) ] ||
    fail "$dups duplicates; at most $((6 * COMMIT_EVERY)) records (6 partitions × commit interval $COMMIT_EVERY) can be uncommitted at a rebalance"
# A duplicate on c1's partitions is a record c1 processed but had not committed when it
# was killed: it must be in c1's output (and then again in a survivor's).
while read -r p o k; do
    case " $victim_partitions " in *" $p "*) ;; *) continue ;; esac
    grep -qx "$p $o $k" "$ST_TMP/c1.out" ||
        fail "duplicate \"$p $o $k\" on c1's partition $p was not processed by c1: a committed record was re-read"
done <"$ST_TMP/dups.txt"
stop_broker
