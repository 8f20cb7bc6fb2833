#!/usr/bin/env bash
# JSON log lines for log shippers (tracker issue 18): straitd with broker.log_format =
# "json" in its file, a second straitd with --log-format json on its command line, and
# strait-mirror with log_format = "json" copying between them. Each does real work —
# topics created, records produced, consumed and mirrored, hostile frames refused
# (raw_client: warnings naming peers), a clean stop — and afterwards every line each
# wrote parses as one JSON object with time, level, component and message
# (check_json_lines.py). An unknown format is refused with a clear message.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CHECK="$(dirname "$0")/check_json_lines.py"
: "${STRAIT_MIRROR:?STRAIT_MIRROR must name the strait-mirror binary (run through ctest)}"
: "${STRAIT:?STRAIT must name the strait CLI (run through ctest)}"

# A bad format is a usage error that says what is accepted.
rc=0
"$STRAITD" --log-format xml --port 0 --data-dir "$ST_TMP/x" >"$ST_TMP/bad.txt" 2>&1 || rc=$?
assert_eq 2 "$rc" "straitd --log-format xml exit status"
assert_contains "$ST_TMP/bad.txt" 'text or json' "straitd names the accepted formats"
printf 'broker = { log_format = "yaml"; };\n' >"$ST_TMP/bad.cfg"
rc=0
"$STRAITD" -c "$ST_TMP/bad.cfg" --port 0 --data-dir "$ST_TMP/x" >"$ST_TMP/bad.txt" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "straitd accepted broker.log_format = \"yaml\""
assert_contains "$ST_TMP/bad.txt" 'broker.log_format must be "text" or "json"' "the config error"

# Broker A: JSON from the config file; hostile frames make warnings with peers in them.
ST_BROKER_CFG='log_format = "json";'
ST_EXTRA_CFG='socket = { request_max_bytes = 1048576; };'
start_broker
A_BOOT=$BOOTSTRAP
timeout 60 "$STRAIT" --bootstrap "$BOOTSTRAP" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" topics create logs.orders --partitions 2 ||
    fail "strait topics create on A failed"
seq 1 200 | sed 's/^/line "with quotes" \\ and a tab\t/' | kc -P -t logs.orders ||
    fail "kcat produce to A failed"
timeout 120 "$RK_BIN/raw_client" "$BROKER_PORT" logs.raw 1048576 >"$ST_TMP/raw.txt" ||
    fail "raw_client reported a misbehaviour: $(tail -n 3 "$ST_TMP/raw.txt")"

# Broker B: JSON from --log-format, started by hand (lib.sh's slot holds A).
B_DIR="$ST_TMP/b"
mkdir -p "$B_DIR"
"$STRAITD" --host 127.0.0.1 --port 0 --data-dir "$B_DIR/data" --mgmt "ipc://$B_DIR/mgmt.ipc" \
    --ready-file "$B_DIR/ready" --log-format json >"$B_DIR/straitd.log" 2>&1 &
B_PID=$!
ST_PIDS+=("$B_PID")
wait_until 30 "broker B's ready file" test -s "$B_DIR/ready"
read -r B_PORT _ <"$B_DIR/ready"
B_BOOT="127.0.0.1:$B_PORT"

# strait-mirror A → B, JSON from its config.
cat >"$ST_TMP/mirror.cfg" <<CFG
clusters = ( { alias = "a"; bootstrap = "$A_BOOT"; }, { alias = "b"; bootstrap = "$B_BOOT"; } );
flows = ( { source = "a"; target = "b"; topics = [ "logs.orders" ]; sync_interval_ms = 1000; } );
mgmt = { url = "ipc://$ST_TMP/mirror.ipc"; token = "t"; };
state_dir = "$ST_TMP/mirror-state";
log_format = "json";
CFG
"$STRAIT_MIRROR" -c "$ST_TMP/mirror.cfg" --ready-file "$ST_TMP/mirror.ready" \
    >"$ST_TMP/mirror.log" 2>&1 &
M_PID=$!
ST_PIDS+=("$M_PID")
wait_until 30 "strait-mirror's ready file" test -s "$ST_TMP/mirror.ready"
mirrored() {
    [ "$(timeout 20 "$KCAT" -b "$B_BOOT" -C -t a.logs.orders -o beginning -e -q 2>/dev/null | wc -l)" -ge 200 ]
}
wait_until 60 "200 records mirrored to B's a.logs.orders" mirrored
log "200 records mirrored A → B"

# Clean stops, in order; each must exit 0.
for name in mirror B; do
    pid=$M_PID
    [ "$name" = B ] && pid=$B_PID
    kill -TERM "$pid"
    st_wait_pid "$pid" 30 || fail "$name still running 30 s after SIGTERM"
    rc=0
    wait "$pid" || rc=$?
    assert_eq 0 "$rc" "$name's exit status after SIGTERM"
done
stop_broker

# Every line: JSON with the fields. lib.sh writes "==== start_broker" markers into A's
# log; they are the test's, not the broker's.
grep -v '^==== start_broker' "$ST_LOG" >"$ST_TMP/a.log"
$PY "$CHECK" "$ST_TMP/a.log" straitd 10 || fail "broker A's log is not all JSON lines"
$PY "$CHECK" "$B_DIR/straitd.log" straitd 5 || fail "broker B's log is not all JSON lines"
$PY "$CHECK" "$ST_TMP/mirror.log" strait-mirror 3 || fail "strait-mirror's log is not all JSON lines"
# The hostile connections were logged as warnings, and the clean stops as the last line.
jq -e -s 'map(select(.level == "warn")) | length > 0' "$ST_TMP/a.log" >/dev/null ||
    fail "no warn line in A's log after raw_client's hostile frames"
assert_eq "stopped cleanly" "$(tail -n 1 "$ST_TMP/a.log" | jq -r .message)" "A's last message"
assert_eq "stopped cleanly" "$(tail -n 1 "$B_DIR/straitd.log" | jq -r .message)" "B's last message"
assert_eq "stopped cleanly" "$(tail -n 1 "$ST_TMP/mirror.log" | jq -r .message)" "the mirror's last message"
