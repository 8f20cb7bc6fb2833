#!/usr/bin/env bash
# Transactions (issue 19, tracker 19), one broker as the transaction coordinator, proved
# with librdkafka's transactional producer (rk_txn) and read_committed / read_uncommitted
# consumers (kcat):
#  1. commit, abort, commit: read_committed sees exactly the committed records, with the
#     offsets Kafka gives them (each transaction's marker takes an offset);
#     read_uncommitted sees the aborted ones too.
#  2. a zombie: a second producer with the same transactional id fences the first, whose
#     commit fails fatally; only the second one's records are committed.
#  3. transaction.timeout.ms: an open transaction holds read_committed readers back (the
#     last stable offset), until the coordinator aborts it on its own; a batch the
#     producer sends late in that aborted transaction is refused (INVALID_PRODUCER_EPOCH)
#     and so cannot hold readers back again.
#  4. kill -9 of straitd mid-transaction: after the restart the open transaction is still
#     open (recovered from __transaction_state and the log), and the next producer with
#     the id aborts it and commits its own.
#  5. consume-transform-produce with send_offsets_to_transaction: 100 inputs give 100
#     outputs exactly once, and a second run (after a clean restart too) finds nothing
#     left to process: the offsets were committed with the outputs.
. "$(dirname "$0")/lib.sh"

committed() { kc -C -t "$1" -p 0 -o beginning -e -q -X isolation.level=read_committed -f '%o %s\n'; }
uncommitted() { kc -C -t "$1" -p 0 -o beginning -e -q -X isolation.level=read_uncommitted -f '%o %s\n'; }
seq_records() { # PREFIX FIRST_OFFSET N: "<offset> <prefix>-<i>" lines
    for i in $(seq 0 $(($3 - 1))); do echo "$(($2 + i)) $1-$i"; done
}

start_broker
for t in t-basic t-zombie t-timeout t-late t-crash in-ctp out-ctp; do
    "$RK_BIN/rk_admin" "$BOOTSTRAP" create "$t" 1 >/dev/null
done

# ---- 1. commit, abort, commit ----
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" commit-abort t-basic app-basic 10 2>"$ST_TMP/basic.err") ||
    fail "rk_txn commit-abort failed: $(tail -n 3 "$ST_TMP/basic.err")"
assert_eq done "$out" "rk_txn commit-abort"
# c-0..9 at 0-9, COMMIT at 10, a-0..9 at 11-20, ABORT at 21, d-0..9 at 22-31, COMMIT at 32
{ seq_records c 0 10; seq_records d 22 10; } >"$ST_TMP/want-committed.txt"
{ seq_records c 0 10; seq_records a 11 10; seq_records d 22 10; } >"$ST_TMP/want-all.txt"
committed t-basic >"$ST_TMP/got-committed.txt"
uncommitted t-basic >"$ST_TMP/got-all.txt"
assert_same_file "$ST_TMP/want-committed.txt" "$ST_TMP/got-committed.txt" "read_committed: the committed records only"
assert_same_file "$ST_TMP/want-all.txt" "$ST_TMP/got-all.txt" "read_uncommitted: the aborted records too, markers invisible"
log "commit/abort/commit: read_committed 20 records, read_uncommitted 30, markers at 10, 21, 32"

# ---- 2. a zombie is fenced ----
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" zombie t-zombie app-zombie 5 2>"$ST_TMP/zombie.err") ||
    fail "rk_txn zombie failed: $(tail -n 3 "$ST_TMP/zombie.err")"
assert_eq fenced "$out" "rk_txn zombie"
log "zombie: $(grep '^A: ' "$ST_TMP/zombie.err")"
seq_records z2 6 5 >"$ST_TMP/want-zombie.txt"
committed t-zombie >"$ST_TMP/got-zombie.txt"
assert_same_file "$ST_TMP/want-zombie.txt" "$ST_TMP/got-zombie.txt" "read_committed after the fence: the new producer's records only"
assert_eq 5 "$(uncommitted t-zombie | grep -c ' z1-')" "the zombie's records, aborted, in the log"

# ---- 3. the coordinator aborts a transaction past its timeout ----
st_bg "$ST_TMP/open3.out" "$ST_TMP/open3.err" "$RK_BIN/rk_txn" "$BOOTSTRAP" open t-timeout app-timeout 5 3000
open3=$ST_BG_PID
is_open() { grep -qx open "$1"; }
wait_until 30 "the transaction of app-timeout open" is_open "$ST_TMP/open3.out"
echo after-timeout | kc -P -t t-timeout -p 0
opened_at=$(date +%s)
[ -z "$(committed t-timeout)" ] || fail "read_committed saw records past an open transaction"
sees_after() { committed t-timeout | grep -q ' after-timeout$'; }
wait_until 20 "read_committed to see the record after the timed-out transaction" sees_after
log "the open transaction was aborted by its 3 s timeout; read_committed moved on $(($(date +%s) - opened_at)) s after"
broker_log_since_start | grep -q 'transactional id "app-timeout": aborting.*transaction.timeout.ms passed' ||
    fail "no log line about app-timeout's timeout"
assert_eq "5 after-timeout" "$(committed t-timeout)" "read_committed: the timed-out records are aborted"
kill "$open3"

# ---- 3b. a late batch of a timed-out transaction is refused ----
# Without the check the late batch would open a transaction in the partition that nobody
# ends, and read_committed would never get past it.
mkfifo "$ST_TMP/late.fifo"
"$RK_BIN/rk_txn" "$BOOTSTRAP" late t-late app-late 2000 <"$ST_TMP/late.fifo" >"$ST_TMP/late.out" 2>"$ST_TMP/late.err" &
late=$!
ST_PIDS+=("$late")
exec 3>"$ST_TMP/late.fifo"
wait_until 30 "the transaction of app-late open" is_open "$ST_TMP/late.out"
echo after-open | kc -P -t t-late -p 0
sees() { committed "$1" | grep -q " $2\$"; }
wait_until 20 "the coordinator to abort app-late's transaction" sees t-late after-open
echo go >&3
exec 3>&-
st_wait_pid "$late" 30 || fail "rk_txn late did not finish within 30 s"
wait "$late" || fail "rk_txn late failed: $(tail -n 3 "$ST_TMP/late.err")"
log "the late batch: $(grep -m1 'delivery failed' "$ST_TMP/late.err" || echo 'no delivery failure')"
grep -q 'delivery failed' "$ST_TMP/late.err" || fail "the late batch of an aborted transaction was accepted"
[ -z "$(uncommitted t-late | grep ' late-')" ] || fail "the late batch is in the log"
echo after-late | kc -P -t t-late -p 0
wait_until 10 "read_committed to see the record after the late batch" sees t-late after-late

# ---- 4. kill -9 of straitd mid-transaction ----
st_bg "$ST_TMP/open4.out" "$ST_TMP/open4.err" "$RK_BIN/rk_txn" "$BOOTSTRAP" open t-crash app-crash 5 60000
open4=$ST_BG_PID
wait_until 30 "the transaction of app-crash open" is_open "$ST_TMP/open4.out"
kill9_broker
kill "$open4"
start_broker
broker_log_since_start | grep -E 'loaded [0-9]+ transactional id' >"$ST_TMP/loaded.txt" ||
    fail "no log line about loading __transaction_state after the restart"
log "after kill -9: $(sed 's/.*INFO  //' "$ST_TMP/loaded.txt")"
echo after-crash | kc -P -t t-crash -p 0
[ -z "$(committed t-crash)" ] || fail "after the restart read_committed saw past the open transaction: it was lost"
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" commit t-crash app-crash 3 k2 2>"$ST_TMP/crash.err") ||
    fail "rk_txn commit after the restart failed: $(tail -n 3 "$ST_TMP/crash.err")"
# o-0..4 at 0-4 (aborted), after-crash at 5, ABORT at 6, k2-0..2 at 7-9, COMMIT at 10
{ echo "5 after-crash"; seq_records k2 7 3; } >"$ST_TMP/want-crash.txt"
committed t-crash >"$ST_TMP/got-crash.txt"
assert_same_file "$ST_TMP/want-crash.txt" "$ST_TMP/got-crash.txt" "read_committed after kill -9 and a new producer"
assert_eq 5 "$(uncommitted t-crash | grep -c ' o-')" "the interrupted transaction's records, aborted, in the log"

# ---- 5. consume-transform-produce ----
seq 0 99 | kc -P -t in-ctp -p 0
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" ctp in-ctp out-ctp g-ctp app-ctp 10 2>"$ST_TMP/ctp.err") ||
    fail "rk_txn ctp failed: $(tail -n 3 "$ST_TMP/ctp.err")"
assert_eq "processed 100" "$out" "the first run of the loop"
seq 0 99 | sed 's/^/out-/' >"$ST_TMP/want-ctp.txt"
kc -C -t out-ctp -p 0 -o beginning -e -q -X isolation.level=read_committed -f '%s\n' >"$ST_TMP/got-ctp.txt"
assert_same_file "$ST_TMP/want-ctp.txt" "$ST_TMP/got-ctp.txt" "each input transformed exactly once"
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" ctp in-ctp out-ctp g-ctp app-ctp 10 2>"$ST_TMP/ctp2.err") ||
    fail "rk_txn ctp (second run) failed: $(tail -n 3 "$ST_TMP/ctp2.err")"
assert_eq "processed 0" "$out" "a second run: the offsets were committed in the transactions"
stop_broker
start_broker
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" ctp in-ctp out-ctp g-ctp app-ctp 10 2>"$ST_TMP/ctp3.err") ||
    fail "rk_txn ctp (after a restart) failed: $(tail -n 3 "$ST_TMP/ctp3.err")"
assert_eq "processed 0" "$out" "after a clean restart"
out=$("$RK_BIN/rk_txn" "$BOOTSTRAP" commit t-basic app-basic 2 e 2>"$ST_TMP/again.err") ||
    fail "a transaction of a restored id failed: $(tail -n 3 "$ST_TMP/again.err")"
assert_eq "2" "$(committed t-basic | grep -c ' e-')" "records of a transaction after the restart"
log "consume-transform-produce: 100 in, 100 out once; nothing left to process after a restart"
stop_broker
