#!/usr/bin/env bash
# strait-mirror's state_dir is locked (<state_dir>/.lock, flock, holding the pid), as the
# broker's data directory is (test_data_dir_lock.sh):
#  1. a strait-mirror runs (one flow between two aliases of one broker: it only has to
#     start);
#  2. a second strait-mirror with the same config (and so the same state_dir) but its own
#     management endpoint must refuse at start: exit non-zero within 10 s, its message
#     naming the lock file and the first daemon's pid, no ready file; the first keeps
#     running and the lock keeps its pid;
#  3. once the first stopped (SIGTERM, exit 0), the same second command starts.
# Without the lock the second daemon started and served: two daemons ran the same flows
# side by side, both copying to the target.
. "$(dirname "$0")/lib.sh"
: "${STRAIT_MIRROR:?STRAIT_MIRROR must name the strait-mirror binary}"

start_broker
STATE="$ST_TMP/mirror-state"
write_cfg() { # FILE MGMT_URL
    cat >"$1" <<CFG
clusters = ( { alias = "a"; bootstrap = "$BOOTSTRAP"; }, { alias = "b"; bootstrap = "$BOOTSTRAP"; } );
flows = ( { source = "a"; target = "b"; topics = [ "lock-check" ]; naming = "prefix"; } );
mgmt = { url = "$2"; token = "t0k3n"; };
state_dir = "$STATE";
CFG
}
write_cfg "$ST_TMP/m1.cfg" "ipc://$ST_TMP/m1.ipc"
write_cfg "$ST_TMP/m2.cfg" "ipc://$ST_TMP/m2.ipc"

mirror_run() { # N: starts strait-mirror with mN.cfg in the background, its pid in M_PID
    rm -f "$ST_TMP/ready$1"
    "$STRAIT_MIRROR" -c "$ST_TMP/m$1.cfg" --ready-file "$ST_TMP/ready$1" >"$ST_TMP/m$1.log" 2>&1 &
    M_PID=$!
    ST_PIDS+=("$M_PID")
}
ready() { [ -s "$ST_TMP/ready$1" ]; }

# ---- 1. the first daemon ----
mirror_run 1
first=$M_PID
wait_until 30 "the first strait-mirror to be ready" ready 1

# ---- 2. the second, on the same state_dir ----
mirror_run 2
second=$M_PID
st_wait_pid "$second" 10 ||
    fail "a second strait-mirror on $STATE still runs 10 s after its start (ready: $(cat "$ST_TMP/ready2" 2>/dev/null || echo none)): two daemons share one state_dir"
rc=0
wait "$second" || rc=$?
[ "$rc" -ne 0 ] || fail "the second strait-mirror exited 0; it must refuse with a non-zero status"
[ ! -e "$ST_TMP/ready2" ] || fail "the second strait-mirror wrote a ready file: it served"
assert_contains "$ST_TMP/m2.log" "$STATE/\.lock" "the refusal names the lock file"
assert_contains "$ST_TMP/m2.log" "process $first" "the refusal names the pid holding the lock"
log "FIGURE second strait-mirror (exit status $rc): $(grep -m1 'lock' "$ST_TMP/m2.log")"
kill -0 "$first" 2>/dev/null || fail "the first strait-mirror died"
assert_eq "$first" "$(tr -d '\n' <"$STATE/.lock")" "pid in $STATE/.lock after the refused start"

# ---- 3. after the first stops, the second starts ----
kill -TERM "$first"
st_wait_pid "$first" 30 || fail "the first strait-mirror still runs 30 s after SIGTERM"
rc=0
wait "$first" || rc=$?
[ "$rc" -eq 0 ] || fail "the first strait-mirror exited $rc after SIGTERM, expected 0"
mirror_run 2
second=$M_PID
wait_until 30 "the second strait-mirror to be ready once the first stopped" ready 2
assert_eq "$second" "$(tr -d '\n' <"$STATE/.lock")" "pid in $STATE/.lock"
kill -TERM "$second"
st_wait_pid "$second" 30 || fail "the second strait-mirror still runs 30 s after SIGTERM"
stop_broker
