#!/usr/bin/env bash
# Exactly-once consume-transform-produce under kill -9 (issue 19's proof): librdkafka's
# transactional loop (rk_txn ctp-assign: read `in` read_committed from the group's
# committed offset, write "out-<v>" for every record, commit outputs and input offsets
# together every 5 records) is killed with SIGKILL at a random moment 20 times, each
# time started again; a last run finishes the input. Then read_committed sees every
# output exactly once, in input order: no output of a killed run's open transaction
# (aborted by the next run's init_transactions, which fences the dead producer), and no
# input skipped or processed twice (its offsets were committed in the same transaction).
. "$(dirname "$0")/lib.sh"

ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; };'
start_broker
# More input than the killed runs can reach: each lives at most 2.0 s at 20 ms a record,
# so 20 runs process at most 2,000 (with 400 a quiet CI machine processed all of it before
# the last kill, and the test could not show a kill interrupting work)
N=2100
for t in in-k out-k; do "$RK_BIN/rk_admin" "$BOOTSTRAP" create "$t" 1 >/dev/null; done
seq 0 $((N - 1)) | kc -P -t in-k -p 0 -X acks=all || fail "kcat -P in-k failed"

export RK_TXN_DELAY_MS=20 # 5 records: a transaction open ~100 ms, so kills land in them
committed_out() { kc -C -t out-k -p 0 -o beginning -e -q -X isolation.level=read_committed -f '%s\n'; }
kills=0
for round in $(seq 1 20); do
    st_bg "$ST_TMP/run$round.out" "$ST_TMP/run$round.err" \
        "$RK_BIN/rk_txn" "$BOOTSTRAP" ctp-assign in-k out-k g-kill app-kill 5
    pid=$ST_BG_PID
    # a random moment 0.4-2.0 s into the run: during start-up, mid-transaction, or
    # during a commit — the point of the test is that the moment is not chosen
    sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.2f", 0.4 + (r % 160) / 100}')"
    if kill -KILL "$pid" 2>/dev/null; then
        kills=$((kills + 1))
    fi
    wait "$pid" 2>/dev/null || true
done
done_so_far=$(committed_out | wc -l)
log "$kills runs killed with SIGKILL; $done_so_far of $N outputs committed so far"
[ "$kills" -ge 15 ] || fail "only $kills of 20 runs were still running when killed"
[ "$done_so_far" -lt "$N" ] || fail "the killed runs processed the whole input: the kills did not interrupt work"
out=$(RK_TXN_DELAY_MS=0 "$RK_BIN/rk_txn" "$BOOTSTRAP" ctp-assign in-k out-k g-kill app-kill 5 2>"$ST_TMP/last.err") ||
    fail "the last run failed: $(tail -n 3 "$ST_TMP/last.err")"
log "the last run: $out"
seq 0 $((N - 1)) | sed 's/^/out-/' >"$ST_TMP/want.txt"
committed_out >"$ST_TMP/got.txt"
assert_same_file "$ST_TMP/want.txt" "$ST_TMP/got.txt" "read_committed outputs after $kills kills: each input exactly once, in order"
aborted=$(($(kc -C -t out-k -p 0 -o beginning -e -q -X isolation.level=read_uncommitted -f '%s\n' | wc -l) - N))
log "exactly once: $N outputs; $aborted records of killed runs' transactions aborted in the log"
# kills that landed inside transactions whose records were already in the log: what
# the read_committed check above proves was dropped
[ "$aborted" -gt 0 ] || fail "no kill landed in a transaction with records in the log (aborted 0)"
stop_broker
