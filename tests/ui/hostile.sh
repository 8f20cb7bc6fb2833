#!/usr/bin/env bash
# strait-console against hostile clients (tests/ui/console_hostile.py, no browser): a
# straitd b0 with tenants acme and globex, a second one b1 with acme, a console with an
# operator and a tenant user of acme, then the checks named in $HOSTILE_CHECKS (default:
# all):
#
#   metrics_auth          /metrics is refused to anonymous clients and tenant users
#   origin                the websocket's Origin must be exactly the console's
#   sockets_per_session   one session cannot open websockets without bound
#   backpressure          clients that never read cannot make the console buffer without bound
#   audit_flood           a tenant's refused actions stay small and few in the audit log
#   login_flood           a client hammering the login (from 127.0.0.2) keeps no one out
#   action_pool           a tenant's reads of a stopped broker do not hold up others' actions
#   slowloris             requests trickled a byte at a time are cut off
#
# Environment (ctest sets it): STRAITD, STRAIT, STRAIT_CONSOLE, KCAT, RK_BIN.
. "$(dirname "$0")/../integration/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI (run through ctest)}"
: "${STRAIT_CONSOLE:?STRAIT_CONSOLE must name the strait-console binary (run through ctest)}"
UI_DIR=$(cd "$(dirname "$0")" && pwd)
CHECKS=${HOSTILE_CHECKS:-metrics_auth origin sockets_per_session backpressure audit_flood login_flood action_pool slowloris}

CONSOLE_PID=""
hostile_cleanup() {
    local rc=$?
    set +e
    if [ -n "$CONSOLE_PID" ]; then
        kill -TERM "$CONSOLE_PID" 2>/dev/null
        st_wait_pid "$CONSOLE_PID" 20 || kill -KILL "$CONSOLE_PID" 2>/dev/null
        wait "$CONSOLE_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ -f "$ST_TMP/console.log" ]; then
        echo "---- last 40 lines of the console log ----" >&2
        tail -n 40 "$ST_TMP/console.log" >&2
    fi
    (exit "$rc")
    st_cleanup
}
trap hostile_cleanup EXIT

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
start_broker
cli() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
for cmd in "tenants create acme" "tenants create globex" \
    "topics create acme.orders --partitions 1" "topics create globex.orders --partitions 1"; do
    # shellcheck disable=SC2086
    cli $cmd >"$ST_TMP/out.txt" 2>&1 || fail "strait $cmd: $(cat "$ST_TMP/out.txt")"
done

# A second broker, b1, with tenant acme too: check action_pool stops it (SIGSTOP).
B1_DIR="$ST_TMP/b1"
mkdir -p "$B1_DIR"
cat >"$B1_DIR/straitd.cfg" <<CFG
broker = { id = 1; host = "127.0.0.1"; data_dir = "$B1_DIR/data"; log_level = "info"; };
mgmt = { url = "ipc://$B1_DIR/mgmt.ipc"; };
CFG
st_bg "$B1_DIR/straitd.log" "$B1_DIR/straitd.log" "$STRAITD" -c "$B1_DIR/straitd.cfg" \
    --port 0 --ready-file "$B1_DIR/ready"
export B1_PID=$ST_BG_PID
wait_until 30 "the second straitd's ready file" test -s "$B1_DIR/ready"
for cmd in "tenants create acme" "topics create acme.orders --partitions 1"; do
    # shellcheck disable=SC2086
    timeout 60 "$STRAIT" --mgmt "ipc://$B1_DIR/mgmt.ipc" --data-dir "$B1_DIR/data" \
        --bootstrap "127.0.0.1:$(awk '{print $1}' "$B1_DIR/ready")" $cmd \
        >"$ST_TMP/out.txt" 2>&1 || fail "strait $cmd on b1: $(cat "$ST_TMP/out.txt")"
done

hash() { printf '%s\n' "$1" | "$STRAIT_CONSOLE" --hash-password; }
export OPERATOR_PW=operator-pw-1 TENANT_PW=acme-viewer-pw
OPERATOR_HASH=$(hash "$OPERATOR_PW") || fail "strait-console --hash-password failed"
TENANT_HASH=$(hash "$TENANT_PW") || fail "strait-console --hash-password failed"
cat >"$ST_TMP/console.cfg" <<CFG
console = { listen = "127.0.0.1"; port = 0; state_dir = "$ST_TMP/console-state";
            login_failure_delay_ms = 100; };
clusters = ( { name = "dc1";
    brokers = ( { name = "b0"; mgmt = "$ST_MGMT"; token_file = "$ST_DATA/meta/mgmt.token"; },
                { name = "b1"; mgmt = "ipc://$B1_DIR/mgmt.ipc";
                  token_file = "$B1_DIR/data/meta/mgmt.token"; } ); } );
users = (
  { name = "olga"; role = "operator"; password_hash = "$OPERATOR_HASH"; },
  { name = "acme-viewer"; role = "tenant"; tenant = "acme"; password_hash = "$TENANT_HASH"; }
);
CFG
# Under AddressSanitizer (the CI build links it) freed memory waits in a quarantine of up
# to 256 MiB, which would hide what the console really keeps: the backpressure check
# measures RSS, so no quarantine.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
    "$STRAIT_CONSOLE" -c "$ST_TMP/console.cfg" --ready-file "$ST_TMP/console.ready" >"$ST_TMP/console.log" 2>&1 &
CONSOLE_PID=$!
wait_until 30 "strait-console's ready file" test -s "$ST_TMP/console.ready"
export CONSOLE_PID AUDIT_LOG="$ST_TMP/console-state/audit.log" CONSOLE_LOG="$ST_TMP/console.log"
# Per-session websockets the console allows (admin-ui/console.h ST_WS_MAX_PER_SESSION).
export WS_PER_SESSION=16
URL="http://127.0.0.1:$(cat "$ST_TMP/console.ready")"
# The tenant's prefix reaches the console with its first survey round.
wait_until 10 "the console's first survey round" grep -q "broker dc1/b1 is up" "$ST_TMP/console.log"
log "strait-console pid $CONSOLE_PID on $URL"

# shellcheck disable=SC2086
/usr/bin/python3 "$UI_DIR/console_hostile.py" "$URL" $CHECKS || fail "a hostile-client check failed (above)"
kill -0 "$CONSOLE_PID" || fail "the console died under the hostile clients"
log "the console held: $CHECKS"
