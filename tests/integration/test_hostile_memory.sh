#!/usr/bin/env bash
# Clients must not make the broker allocate what they announce (issue 8, item 5).
#
# 1. 200 connections to the SASL port each send the 4-byte size of a 100 MB frame before
#    logging in. Frames before authentication are capped (sasl.server.max.receive.size,
#    512 KiB here): each is closed at once with a log line, and the broker's peak virtual
#    memory (VmPeak) and peak RSS (VmHWM) stay within a bound. (Before the fix: 200 x
#    100 MB reserved, VmSize ~20 GB.)
# 2. 100 PLAINTEXT connections (authenticated as ANONYMOUS) each announce a 50 MB frame
#    and send 1 MiB of it. Buffers grow as bytes arrive and a broker-wide budget for
#    partly read requests (queued.max.request.bytes, 32 MiB here) pauses reading past it:
#    the connections stay open, memory stays near the budget, and kcat -L is answered
#    meanwhile.
# 3. The budget pauses, never fails: six kcat producers sending ~1 MB requests through a
#    2 MiB budget all finish and every record reads back.
# 5 (run after 1). Quiet connections hold no read buffer: 2,000 PLAINTEXT connections
#    that sent ApiVersions and went quiet add little to RSS; stats.net.read_buffers
#    counts the connections holding one.
# 6. A failed login's answer is held back (the failed-login delay, 5 s here), not its
#    request: 300 connections each sending a SaslAuthenticate of 500,000 bytes (a PLAIN
#    message that cannot be right) add little to RSS while their answers wait.
# 4. Clients that never log in cannot take the budget from those that did: 300
#    connections to the SASL port announce a 500,000-byte frame each and send nothing
#    more (300 x 64 KiB would be over twice the 8 MiB budget). They may hold only a
#    quarter of it, so a kcat producer on the PLAINTEXT listener, whose ~100 KB requests
#    need the budget too, is not paused behind them. (Before the fix it waited for as long
#    as they stayed: kcat timed out.)
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI}"

net_stat() { # NAME: a counter of the connection layer (status → stats.net.NAME)
    "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"]["net"][sys.argv[1]])' "$1"
}

# hostile_start NAME WHAT ARGS...: `raw_hostile conns ARGS` in the background until
# hostile_stop NAME, once all its connections are open (WHAT says which, for the wait).
declare -A HOSTILE_PIDS
hostile_start() {
    local name=$1 what=$2
    shift 2
    st_bg "$ST_TMP/$name.txt" "$ST_TMP/$name.err" "$RK_BIN/raw_hostile" conns "$@" \
        --hold-ms 90000 --stop-file "$ST_TMP/stop-$name"
    HOSTILE_PIDS[$name]=$ST_BG_PID
    # shellcheck disable=SC2317 # called by wait_until
    all_open() { grep -q '^opened ' "$ST_TMP/$name.txt"; }
    wait_until 60 "$what" all_open
}
# hostile_stop NAME: stops it and sets HOSTILE_SUMMARY to its last line.
hostile_stop() {
    touch "$ST_TMP/stop-$1"
    st_wait_pid "${HOSTILE_PIDS[$1]}" 30 || fail "raw_hostile ($1) did not stop"
    wait "${HOSTILE_PIDS[$1]}" || fail "raw_hostile ($1) failed: $(cat "$ST_TMP/$1.err")"
    HOSTILE_SUMMARY=$(tail -n 1 "$ST_TMP/$1.txt")
}

BUDGET=$((32 * 1024 * 1024))
ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG="socket = { queued_max_request_bytes = $BUDGET; };
security = { sasl_max_receive_size = 524288; };"
start_broker

# status_kb FIELD: a /proc/<broker>/status field in kB (VmPeak, VmSize, VmHWM, VmRSS).
status_kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$BROKER_PID/status"; }
mb() { echo $(($1 / 1024)); }

base_peak=$(status_kb VmPeak)
base_hwm=$(status_kb VmHWM)
log "baseline: VmPeak $(mb "$base_peak") MB, VmHWM $(mb "$base_hwm") MB"

# ---- 1: huge frames announced before authentication ----
"$RK_BIN/raw_hostile" conns --port "$SASL_PLAINTEXT_PORT" --count 200 --from 127.0.0.2 \
    --announce 100000000 --hold-ms 5000 --until-closed >"$ST_TMP/pre-auth.txt" ||
    fail "raw_hostile failed: $(cat "$ST_TMP/pre-auth.txt")"
summary=$(tail -n 1 "$ST_TMP/pre-auth.txt")
log "pre-auth announcers: $summary"
peak=$(status_kb VmPeak)
hwm=$(status_kb VmHWM)
log "after 200 x 100 MB announced before login: VmPeak $(mb "$peak") MB (+$(mb $((peak - base_peak))) MB), VmHWM $(mb "$hwm") MB (+$(mb $((hwm - base_hwm))) MB)"
[ $((peak - base_peak)) -lt $((64 * 1024)) ] ||
    fail "virtual memory grew by $(mb $((peak - base_peak))) MB for 200 unauthenticated 4-byte headers (bound 64 MB)"
[ $((hwm - base_hwm)) -lt $((32 * 1024)) ] ||
    fail "RSS grew by $(mb $((hwm - base_hwm))) MB for 200 unauthenticated 4-byte headers (bound 32 MB)"
[[ "$summary" =~ closed-by-broker\ 200\  ]] ||
    fail "the broker should close all 200 connections announcing 100 MB before login: $summary"
broker_log_since_start >"$ST_TMP/run.log"
assert_contains "$ST_TMP/run.log" "127\.0\.0\.2:[0-9]+.*100000000 bytes before authentication.*sasl.server.max.receive.size \(524288\)" \
    "a log line for a frame over the pre-authentication limit"
lines=$(grep -c "before authentication exceeds" "$ST_TMP/run.log" || true)
log "log lines for the 200 refusals: $lines ($(grep -m1 "before authentication exceeds" "$ST_TMP/run.log" | cut -c1-200))"
[ "$lines" -le 10 ] || fail "$lines log lines for 200 refused frames: they should be rate-limited"

# ---- 5: quiet connections hold no read buffer ----
base_rss=$(status_kb VmRSS)
hostile_start quiet "2,000 quiet connections" --port "$PLAINTEXT_PORT" --count 2000 \
    --from 127.0.0.7 --api-versions
rss=$(status_kb VmRSS)
buffers=$(net_stat read_buffers)
log "2,000 connections that sent ApiVersions and went quiet: VmRSS +$(((rss - base_rss) / 1024)) MB ($(((rss - base_rss) * 1024 / 2000)) bytes each), $buffers read buffers held"
[ "$buffers" -le 10 ] || fail "$buffers quiet connections hold a read buffer (16 KiB each)"
hostile_stop quiet

# ---- 2: authenticated clients announcing 50 MB frames and sending 1 MiB each ----
base_peak=$(status_kb VmPeak)
hostile_start announce "100 connections sending 1 MiB each" --port "$PLAINTEXT_PORT" \
    --count 100 --from 127.0.0.3 --announce 50000000 --send 1048576
# 100 MiB sent, 32 MiB of budget: reading pauses on most of them.
waiting() { [ "$(net_stat budget_waiting)" -ge 50 ]; }
wait_until 30 "connections paused for the budget" waiting
queued=$(net_stat queued_request_bytes)
log "partly read requests hold $(mb $((queued / 1024))) MB of the $(mb $((BUDGET / 1024))) MB budget; $(net_stat budget_waiting) connections paused"
# Past the budget by at most the oldest reader's buffer (it may always grow, 4 MiB here).
[ "$queued" -le $((BUDGET + 4 * 1024 * 1024)) ] ||
    fail "partly read requests hold $queued bytes, budget $BUDGET"
# While they hold the budget, small requests on other connections are answered.
t0=$(date +%s%N)
kc -L -m 10 >"$ST_TMP/meta.txt" 2>&1 || fail "kcat -L failed while the budget was full: $(cat "$ST_TMP/meta.txt")"
log "kcat -L while the budget is full: $((($(date +%s%N) - t0) / 1000000)) ms"
hostile_stop announce
summary=$HOSTILE_SUMMARY
log "authenticated announcers: $summary"
[[ "$summary" =~ closed-by-broker\ 0\  ]] ||
    fail "connections waiting for budget must be paused, not closed: $summary"
peak=$(status_kb VmPeak)
hwm=$(status_kb VmHWM)
log "after 100 x 50 MB announced, 1 MiB sent each (budget $(mb $((BUDGET / 1024))) MB): VmPeak $(mb "$peak") MB (+$(mb $((peak - base_peak))) MB), VmHWM $(mb "$hwm") MB"
# Allocating as announced reserves 100 x 50 MB = 5,000 MB. The bounds leave room for what
# a sanitizer build (the one CI tests) adds: allocator regions, and freed buffers kept in
# quarantine (each connection's outgrown 64 KiB and 256 KiB buffers).
[ $((peak - base_peak)) -lt $((BUDGET / 1024 + 256 * 1024)) ] ||
    fail "virtual memory grew by $(mb $((peak - base_peak))) MB: buffers must grow as bytes arrive, within the $(mb $((BUDGET / 1024))) MB budget"
[ "$hwm" -lt $((base_hwm + BUDGET / 1024 + 192 * 1024)) ] ||
    fail "RSS reached $(mb "$hwm") MB: partly read requests must stay within the budget"
kill -0 "$BROKER_PID" || fail "straitd died"
stop_broker

# ---- 3: a small budget pauses producers, it does not fail them ----
ST_EXTRA_CFG="socket = { queued_max_request_bytes = 2097152; };"
start_broker
python3 -c 'import sys
for i in range(400):
    sys.stdout.write("%06d " % i + "x" * 20000 + "\n")' >"$ST_TMP/records.txt"
pids=()
for p in 1 2 3 4 5 6; do
    timeout 120 "$KCAT" -b "$BOOTSTRAP" -P -t big -p 0 -X batch.size=1000000 -X linger.ms=50 \
        -X message.max.bytes=1000000 <"$ST_TMP/records.txt" >"$ST_TMP/producer$p.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || fail "a kcat producer failed through the 2 MiB budget: $(cat "$ST_TMP"/producer*.log | head -5)"
done
got=$(read_topic big '%s\n' | wc -l)
assert_eq 2400 "$got" "records read back after six producers shared a 2 MiB budget"
broker_log_since_start >"$ST_TMP/run3.log"
log "budget pauses: $(grep -c 'queued.max.request.bytes' "$ST_TMP/run3.log" || true) log lines"
stop_broker

# ---- 4: unauthenticated connections hold only their share of the budget ----
BUDGET=$((8 * 1024 * 1024))
ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG="socket = { queued_max_request_bytes = $BUDGET; auth_timeout_ms = 120000; };"
start_broker
hostile_start hogs "300 connections announcing 500,000 bytes before logging in" \
    --port "$SASL_PLAINTEXT_PORT" --count 300 --from 127.0.0.6 --announce 500000
hogs_paused() { [ "$(net_stat budget_waiting)" -ge 100 ]; }
wait_until 30 "the unauthenticated connections paused at their share" hogs_paused
python3 -c 'import sys
for i in range(50):
    sys.stdout.write("%06d " % i + "y" * 100000 + "\n")' >"$ST_TMP/records4.txt"
t0=$(date +%s%N)
timeout 40 "$KCAT" -b "$BOOTSTRAP" -P -t share -p 0 -X linger.ms=20 -X message.timeout.ms=30000 \
    <"$ST_TMP/records4.txt" >"$ST_TMP/producer4.log" 2>&1 ||
    fail "a kcat producer could not send 100 KB requests while 300 unauthenticated connections held the budget: $(head -n 5 "$ST_TMP/producer4.log")"
log "kcat produced 50 x 100 KB beside 300 unauthenticated announcers in $((($(date +%s%N) - t0) / 1000000)) ms"
assert_eq 50 "$(read_topic share '%s\n' | wc -l)" "records read back"
unauth=$(net_stat queued_unauth_request_bytes)
log "unauthenticated connections hold $((unauth / 1024)) KiB of the $((BUDGET / 1024)) KiB budget; $(net_stat budget_waiting) paused"
# A quarter of the budget, past it by at most the oldest one's frame (500,000 bytes).
[ "$unauth" -le $((BUDGET / 4 + 500000)) ] ||
    fail "unauthenticated connections hold $unauth bytes of partly read requests, their share is $((BUDGET / 4))"
hostile_stop hogs
summary=$HOSTILE_SUMMARY
log "unauthenticated announcers: $summary"
[[ "$summary" =~ closed-by-broker\ 0\  ]] ||
    fail "connections paused for their share of the budget must not be closed: $summary"
stop_broker

# ---- 6: failed logins held back do not hold their requests ----
ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
# A small budget, so that little is read at a time and what the broker holds is what it
# keeps; a sanitizer build (CI's) reuses freed memory at once instead of quarantining it.
ST_EXTRA_CFG='security = { sasl_mechanisms = "PLAIN"; failed_auth_delay_ms = 5000; };
socket = { queued_max_request_bytes = 8388608; };'
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" start_broker
sasl_requests() {
    "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json |
        python3 -c 'import json, sys; print((json.load(sys.stdin)["stats"]["requests_by_api"] or {}).get("SaslAuthenticate", 0))'
}
base_rss=$(status_kb VmRSS)
hostile_start held "300 logins of 500,000 bytes sent" --port "$SASL_PLAINTEXT_PORT" --count 300 \
    --from 127.0.0.8 --sasl-bytes 500000 --until-closed
all_read() { [ "$(sasl_requests)" -ge 300 ]; }
wait_until 30 "the broker read the 300 logins" all_read
rss=$(status_kb VmRSS)
log "300 failed logins of 500,000 bytes, answers held back: VmRSS +$(((rss - base_rss) / 1024)) MB"
# Holding the requests would take 300 x 500,000 bytes = 143 MB.
[ $((rss - base_rss)) -lt $((48 * 1024)) ] ||
    fail "VmRSS grew by $(((rss - base_rss) / 1024)) MB while 300 failed logins waited for their answers: the requests are held"
# The answers come after the delay, and each connection is closed after its answer.
st_wait_pid "${HOSTILE_PIDS[held]}" 30 || fail "the held-back logins were not answered and closed"
hostile_stop held
log "logins held back: $HOSTILE_SUMMARY"
[[ "$HOSTILE_SUMMARY" =~ closed-by-broker\ 300\  ]] ||
    fail "every failed login should be answered and closed after the delay: $HOSTILE_SUMMARY"
stop_broker
