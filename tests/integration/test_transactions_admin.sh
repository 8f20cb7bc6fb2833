#!/usr/bin/env bash
# DescribeTransactions (65) and ListTransactions (66) through `strait transactions`
# (issue 19), against transactions librdkafka's producer (rk_txn) left open or ended:
#  1. list: every id with its producer id and state (Ongoing, CompleteCommit,
#     CompleteAbort); --state and --producer-id filter; an unknown state is an error;
#  1b. ListOffsets latest for read_committed is the last stable offset;
#  2. describe: the open transaction's state, epoch, timeout, start time and partitions;
#     a committed one has none; an unknown id is an error naming it, exit 1;
#  2b. OffsetFetch v7 with require_stable while a transaction holds a group's offset:
#     UNSTABLE_OFFSET_COMMIT (KIP-447); without it, or after the commit, the offset;
#  3. ACLs, as Kafka: after a restart with the authorizer on and no super user, the
#     plaintext principal (User:ANONYMOUS) holds DESCRIBE on transactional ids
#     PREFIXED "acme." only: list leaves out the others, describe of another id fails
#     with the authorization error, and of its own works; the transaction's topics the
#     caller may not DESCRIBE are left out of describe;
#  4. the broker settings transaction.max_timeout_ms (a longer transaction.timeout.ms is
#     refused) and transaction.id_expiration_ms (idle ids are forgotten).
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
for t in acme.t other.t; do "$RK_BIN/rk_admin" "$BOOTSTRAP" create "$t" 1 >/dev/null; done

st_bg "$ST_TMP/open.out" "$ST_TMP/open.err" "$RK_BIN/rk_txn" "$BOOTSTRAP" open acme.t acme.open 2 60000
open_pid=$ST_BG_PID
is_open() { grep -qx open "$ST_TMP/open.out"; }
wait_until 30 "the transaction of acme.open open" is_open
"$RK_BIN/rk_txn" "$BOOTSTRAP" commit other.t other.done 2 x >/dev/null 2>"$ST_TMP/c.err" ||
    fail "rk_txn commit: $(tail -n 3 "$ST_TMP/c.err")"
"$RK_BIN/rk_txn" "$BOOTSTRAP" commit-abort acme.t acme.done 1 >/dev/null 2>"$ST_TMP/ca.err" ||
    fail "rk_txn commit-abort: $(tail -n 3 "$ST_TMP/ca.err")"
# ListOffsets latest with isolation_level read_committed (librdkafka's watermarks) is the
# last stable offset: 0, where acme.open's records begin, not the end of acme.t-0 — a
# read_committed consumer reset to latest must not start past an open transaction.
read -r _ high_rc < <("$RK_BIN/rk_offset_reset" watermarks-committed "$BOOTSTRAP" acme.t 0)
read -r _ high_ru < <("$RK_BIN/rk_offset_reset" watermarks "$BOOTSTRAP" acme.t 0)
[ "${high_ru:-0}" -gt 2 ] || fail "acme.t-0 ends at ${high_ru:-?}, want past acme.open's 2 records"
assert_eq 0 "$high_rc" "latest offset of acme.t-0 for read_committed (end $high_ru)"

# ---- 1. list ----
st transactions list >"$ST_TMP/list.txt" 2>&1 || fail "strait transactions list: $(cat "$ST_TMP/list.txt")"
cat "$ST_TMP/list.txt"
awk 'NR > 1 {print $1, $3}' "$ST_TMP/list.txt" >"$ST_TMP/got.txt"
printf '%s\n' "acme.done CompleteCommit" "acme.open Ongoing" "other.done CompleteCommit" >"$ST_TMP/want.txt"
assert_same_file "$ST_TMP/want.txt" "$ST_TMP/got.txt" "strait transactions list: every id, sorted, with its state"
st transactions list --state Ongoing --json >"$ST_TMP/ongoing.json" || fail "list --state Ongoing failed"
assert_eq '["acme.open"]' "$(python3 -c 'import json,sys; print(json.dumps([r["transactional_id"] for r in json.load(open(sys.argv[1]))], separators=(",",":")))' "$ST_TMP/ongoing.json")" "list --state Ongoing"
other_pid=$(awk '$1 == "other.done" {print $2}' "$ST_TMP/list.txt")
assert_eq "other.done" "$(st transactions list --producer-id "$other_pid" | awk 'NR > 1 {print $1}')" "list --producer-id $other_pid"
if st transactions list --state Bogus >"$ST_TMP/bogus.txt" 2>&1; then fail "list --state Bogus succeeded"; fi
assert_contains "$ST_TMP/bogus.txt" '"Bogus" is not a transaction state' "list --state Bogus"

# ---- 2. describe ----
st transactions describe acme.open >"$ST_TMP/d.txt" 2>&1 || fail "describe acme.open: $(cat "$ST_TMP/d.txt")"
cat "$ST_TMP/d.txt"
assert_contains "$ST_TMP/d.txt" '^state +Ongoing$' "describe acme.open: state"
assert_contains "$ST_TMP/d.txt" '^timeout +60000 ms$' "describe acme.open: timeout"
assert_contains "$ST_TMP/d.txt" '^partitions +acme\.t-0$' "describe acme.open: its partition"
assert_contains "$ST_TMP/d.txt" '^started +20[0-9-]+T' "describe acme.open: start time"
st transactions describe other.done --json >"$ST_TMP/d2.json" || fail "describe other.done failed"
assert_eq "CompleteCommit 0 $other_pid" "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))[0]; print(o["state"], len(o["partitions"]), o["producer_id"])' "$ST_TMP/d2.json")" "describe other.done"
if st transactions describe nobody.app >"$ST_TMP/none.txt" 2>&1; then fail "describe of an unknown id succeeded"; fi
assert_contains "$ST_TMP/none.txt" 'transactional id "nobody.app": not found' "describe of an unknown id"
kill "$open_pid"
log "list and describe: $(wc -l <"$ST_TMP/got.txt") ids, acme.open Ongoing on acme.t-0"

# ---- 2b. OffsetFetch require_stable (KIP-447) ----
# A transaction holding offsets for g-stable (not yet committed): a fetch with
# require_stable gets UNSTABLE_OFFSET_COMMIT (88) so a read_committed consumer waits
# instead of starting from the old position; without it, the committed offset (none:
# -1). After the commit both see offset 5.
PY="$(dirname "$0")/py/offset_fetch_stable.py"
mkfifo "$ST_TMP/go.fifo"
"$RK_BIN/rk_txn" "$BOOTSTRAP" offsets-open acme.t acme.offsets g-stable 5 <"$ST_TMP/go.fifo" \
    >"$ST_TMP/offs.out" 2>"$ST_TMP/offs.err" &
offs_pid=$!
ST_PIDS+=("$offs_pid")
exec 3>"$ST_TMP/go.fifo"
is_offs_open() { grep -qx open "$ST_TMP/offs.out"; }
wait_until 30 "the transaction holding g-stable's offset open" is_offs_open
assert_eq "88 -1" "$(python3 "$PY" "$BOOTSTRAP" g-stable acme.t 1)" "OffsetFetch v7 require_stable during the transaction"
assert_eq "0 -1" "$(python3 "$PY" "$BOOTSTRAP" g-stable acme.t 0)" "OffsetFetch v7 without require_stable during the transaction"
echo go >&3
exec 3>&-
st_wait_pid "$offs_pid" 30 || fail "rk_txn offsets-open did not finish within 30 s"
wait "$offs_pid" || fail "rk_txn offsets-open failed: $(tail -n 3 "$ST_TMP/offs.err")"
assert_eq "0 5" "$(python3 "$PY" "$BOOTSTRAP" g-stable acme.t 1)" "OffsetFetch v7 require_stable after the commit"
log "require_stable: UNSTABLE_OFFSET_COMMIT while the offsets were in an open transaction, 5 after"

# ---- 3. ACLs ----
stop_broker
ST_EXTRA_CFG='security = { authorizer = true; };'
start_broker
# the open transaction survived the restart; ANONYMOUS may describe acme.* ids and
# topic acme.t, nothing else
st acls add --via-mgmt --principal User:ANONYMOUS --operation DESCRIBE --transactional-id acme. \
    --prefixed >/dev/null || fail "strait acls add (transactional id)"
st acls add --via-mgmt --principal User:ANONYMOUS --operation DESCRIBE --cluster >/dev/null ||
    fail "strait acls add (cluster: metadata)"
st transactions list >"$ST_TMP/list2.txt" 2>&1 || fail "list under ACLs: $(cat "$ST_TMP/list2.txt")"
assert_eq "acme.done acme.offsets acme.open" "$(awk 'NR > 1 {printf "%s%s", sep, $1; sep=" "}' "$ST_TMP/list2.txt")" "list under ACLs: only the ids ANONYMOUS may describe"
if st transactions describe other.done >"$ST_TMP/denied.txt" 2>&1; then fail "describe other.done succeeded without DESCRIBE on it"; fi
assert_contains "$ST_TMP/denied.txt" 'transactional id "other.done": DESCRIBE on it is not allowed' "describe without DESCRIBE"
st transactions describe acme.open >"$ST_TMP/d3.txt" 2>&1 || fail "describe acme.open under ACLs: $(cat "$ST_TMP/d3.txt")"
assert_contains "$ST_TMP/d3.txt" '^state +Ongoing$' "describe acme.open under ACLs"
# without DESCRIBE on topic acme.t, the transaction's partition is left out
assert_contains "$ST_TMP/d3.txt" '^partitions +-$' "describe acme.open without DESCRIBE on acme.t"
st acls add --via-mgmt --principal User:ANONYMOUS --operation DESCRIBE --topic acme.t >/dev/null ||
    fail "strait acls add (topic)"
st transactions describe acme.open >"$ST_TMP/d4.txt" 2>&1 || fail "describe acme.open: $(cat "$ST_TMP/d4.txt")"
assert_contains "$ST_TMP/d4.txt" '^partitions +acme\.t-0$' "describe acme.open with DESCRIBE on acme.t"
log "under ACLs: list shows acme.* only, describe of other.done is refused, topics filtered"
stop_broker

# ---- 4. transaction.max_timeout_ms and transaction.id_expiration_ms ----
ST_EXTRA_CFG='transaction = { max_timeout_ms = 5000; id_expiration_ms = 2000; };'
start_broker
# librdkafka's default transaction.timeout.ms (60000) is above the 5000 allowed
got=$("$RK_BIN/rk_txn" "$BOOTSTRAP" denied acme.t acme.long - 2>"$ST_TMP/4.err") ||
    fail "rk_txn denied: $(tail -n 3 "$ST_TMP/4.err")"
assert_eq INVALID_TRANSACTION_TIMEOUT "$got" "init_transactions asking 60000 ms with max_timeout_ms = 5000"
st_bg "$ST_TMP/short.out" "$ST_TMP/short.err" "$RK_BIN/rk_txn" "$BOOTSTRAP" open acme.t acme.short 1 4000
short_pid=$ST_BG_PID
is_short_open() { grep -qx open "$ST_TMP/short.out"; }
wait_until 30 "a transaction asking 4000 ms open" is_short_open
kill "$short_pid"
# the completed ids, idle for 2 s, are forgotten (the timed-out acme.short 2 s after its
# abort, too)
forgotten() { ! st transactions list | grep -qE '^(other|acme)\.done '; }
wait_until 30 "the idle ids to be forgotten after id_expiration_ms" forgotten
short_gone() { ! st transactions list | grep -q '^acme\.short '; }
wait_until 30 "acme.short, once its transaction timed out (4 s) and it idled 2 s, forgotten" short_gone
broker_log_since_start | grep -q 'transactional id "acme.short": idle for over 2000 ms, forgotten' ||
    fail "no log line about acme.short being forgotten"
log "max_timeout_ms: 60000 refused, 4000 accepted; id_expiration_ms: idle ids forgotten"
stop_broker
