# Shared helpers of the integration tests. Source it first thing:
#
#   . "$(dirname "$0")/lib.sh"
#
# Every test gets its own temporary directory ($ST_TMP), and every broker it starts a
# free port (--port 0, read back from the ready file) and an ipc:// management endpoint
# inside $ST_TMP, so tests can run in parallel. Everything a test starts is recorded by
# pid and stopped by the EXIT trap; nothing is found by name.
#
# Paths of the programs under test come from the environment (tests/integration/
# CMakeLists.txt sets them): STRAITD, STRAIT, KCAT, RK_BIN (directory of the rk_* and
# raw_client helpers).

set -euo pipefail

: "${STRAITD:?STRAITD must name the straitd binary (run through ctest)}"
: "${KCAT:=kcat}"
: "${RK_BIN:?RK_BIN must name the directory holding the rk_* helpers}"

ST_TEST_NAME=$(basename "$0" .sh)
ST_TMP=$(mktemp -d "/tmp/strait-test-${ST_TEST_NAME}-XXXXXX")
ST_DATA="$ST_TMP/data"
ST_LOG="$ST_TMP/straitd.log" # every broker start appends here
ST_READY="$ST_TMP/ready"
ST_MGMT="ipc://$ST_TMP/mgmt.ipc"
ST_EXTRA_CFG=""   # extra config groups (libconfig text) for the next start_broker
ST_BROKER_CFG=""  # extra settings inside the broker group, e.g. 'listeners = "...";'
BROKER_PID=""
BROKER_PORT=""
BOOTSTRAP=""
PLAINTEXT_PORT=""      # per-protocol ports, when the ready file lists them (broker.listeners)
SASL_PLAINTEXT_PORT=""
SASL_SSL_PORT=""
ST_LOG_MARK=0     # line count of $ST_LOG when the current broker started
ST_PIDS=()        # helper processes started with st_bg
ST_T0=$(date +%s)

log() { printf '[%s +%ss] %s\n' "$ST_TEST_NAME" "$(($(date +%s) - ST_T0))" "$*"; }

fail() {
    printf '[%s] FAIL: %s\n' "$ST_TEST_NAME" "$*" >&2
    exit 1
}

# Runs on exit: stops whatever is still running (by pid), shows the broker log on
# failure, removes the temp dir (kept with KEEP_TMP=1).
st_cleanup() {
    local rc=$?
    set +e
    for pid in "${ST_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null
        st_wait_pid "$BROKER_PID" 20 || kill -KILL "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ -f "$ST_LOG" ]; then
        echo "---- last 60 lines of the broker log ($ST_LOG) ----" >&2
        tail -n 60 "$ST_LOG" >&2
        echo "----" >&2
    fi
    if [ "${KEEP_TMP:-0}" = 1 ] || { [ "$rc" -ne 0 ] && [ "${KEEP_TMP_ON_FAIL:-0}" = 1 ]; }; then
        echo "kept $ST_TMP" >&2
    else
        rm -rf "$ST_TMP"
    fi
    if [ "$rc" -eq 0 ]; then
        log "PASS ($(($(date +%s) - ST_T0)) s)"
    fi
    exit "$rc"
}
trap st_cleanup EXIT
trap 'exit 130' INT TERM

# st_wait_pid PID SECONDS: true once PID has exited, false if it still runs after SECONDS.
st_wait_pid() {
    local pid=$1 deadline=$(($(date +%s) + $2))
    while kill -0 "$pid" 2>/dev/null; do
        # an exited child not yet reaped (a zombie) counts as exited
        if [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" = Z ]; then return 0; fi
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
    return 0
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds;
# fails the test naming DESCRIPTION after SECONDS.
wait_until() {
    local secs=$1 what=$2
    shift 2
    local deadline=$(($(date +%s) + secs))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.1
    done
}

# st_bg OUT ERR COMMAND...: starts a helper in the background, remembers its pid in
# ST_BG_PID (and for the cleanup trap).
st_bg() {
    local out=$1 err=$2
    shift 2
    "$@" >"$out" 2>"$err" &
    ST_BG_PID=$!
    ST_PIDS+=("$ST_BG_PID")
}

# start_broker: writes $ST_TMP/straitd.cfg (broker group with $ST_BROKER_CFG inside, mgmt
# group, then $ST_EXTRA_CFG), or uses $ST_CONFIG_FILE when set, and starts straitd on a
# free port over $ST_DATA (kept across restarts); with ST_CLI_OVERRIDES=0 the host,
# port, data dir and management url come from the config file alone. Waits (up to 30 s) for the ready file,
# then exports BROKER_PID, BROKER_PORT, BOOTSTRAP, and PLAINTEXT_PORT / SASL_PLAINTEXT_PORT
# / SASL_SSL_PORT for each "PROTOCOL=port" token the ready file lists after the mgmt url
# (empty when absent; ports change across restarts since every listener binds port 0).
start_broker() {
    [ -z "$BROKER_PID" ] || fail "start_broker: a broker is already running (pid $BROKER_PID)"
    local cfg="${ST_CONFIG_FILE:-$ST_TMP/straitd.cfg}"
    if [ -z "${ST_CONFIG_FILE:-}" ]; then
        cat >"$cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$ST_DATA"; log_level = "info";
           $ST_BROKER_CFG };
mgmt = { url = "$ST_MGMT"; };
$ST_EXTRA_CFG
CFG
    fi
    rm -f "$ST_READY"
    touch "$ST_LOG"
    ST_LOG_MARK=$(wc -l <"$ST_LOG")
    echo "==== start_broker $(date -u +%FT%TZ) ====" >>"$ST_LOG"
    if [ "${ST_CLI_OVERRIDES:-1}" = 1 ]; then
        "$STRAITD" -c "$cfg" --host 127.0.0.1 --port 0 --data-dir "$ST_DATA" \
            --mgmt "$ST_MGMT" --ready-file "$ST_READY" >>"$ST_LOG" 2>&1 &
    else # everything from the config file (ST_BOOTSTRAP_HOST names its broker.host)
        "$STRAITD" -c "$cfg" --ready-file "$ST_READY" >>"$ST_LOG" 2>&1 &
    fi
    BROKER_PID=$!
    local deadline=$(($(date +%s) + 30)) rc
    while [ ! -s "$ST_READY" ]; do
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            wait "$BROKER_PID" && rc=0 || rc=$?
            BROKER_PID=""
            fail "straitd exited (status $rc) before it was ready; see the log below"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || fail "straitd not ready within 30 s"
        sleep 0.05
    done
    local tokens tok
    read -r BROKER_PORT _ tokens <"$ST_READY" || true
    [[ "$BROKER_PORT" =~ ^[0-9]+$ ]] && [ "$BROKER_PORT" -gt 0 ] ||
        fail "ready file holds \"$(cat "$ST_READY")\", expected \"<port> <mgmt url> [PROTOCOL=port...]\""
    PLAINTEXT_PORT="" SASL_PLAINTEXT_PORT="" SASL_SSL_PORT=""
    for tok in ${tokens:-}; do
        [[ "$tok" =~ ^(PLAINTEXT|SASL_PLAINTEXT|SASL_SSL)=([0-9]+)$ ]] ||
            fail "ready file token \"$tok\" is not PLAINTEXT|SASL_PLAINTEXT|SASL_SSL=<port>"
        printf -v "${BASH_REMATCH[1]}_PORT" '%s' "${BASH_REMATCH[2]}"
    done
    BOOTSTRAP="${ST_BOOTSTRAP_HOST:-127.0.0.1}:$BROKER_PORT"
    export BROKER_PID BROKER_PORT BOOTSTRAP PLAINTEXT_PORT SASL_PLAINTEXT_PORT SASL_SSL_PORT
    log "straitd pid $BROKER_PID ready on $BOOTSTRAP${tokens:+ ($tokens)}"
}

# stop_broker: SIGTERM, wait (20 s) and require exit status 0 and the clean-shutdown marker.
stop_broker() {
    [ -n "$BROKER_PID" ] || fail "stop_broker: no broker running"
    kill -TERM "$BROKER_PID"
    st_wait_pid "$BROKER_PID" 20 || fail "straitd (pid $BROKER_PID) still running 20 s after SIGTERM"
    local rc=0
    wait "$BROKER_PID" || rc=$?
    BROKER_PID=""
    [ "$rc" -eq 0 ] || fail "straitd exited with status $rc after SIGTERM, expected 0"
    [ -e "$ST_DATA/.clean_shutdown" ] || fail "no $ST_DATA/.clean_shutdown after a clean stop"
    log "straitd stopped cleanly"
}

# kill9_broker: SIGKILL, as a crash would.
kill9_broker() {
    [ -n "$BROKER_PID" ] || fail "kill9_broker: no broker running"
    kill -KILL "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
    log "straitd killed with SIGKILL"
}

# broker_log_since_start: the log lines of the current (or last) broker run.
broker_log_since_start() {
    tail -n +"$((ST_LOG_MARK + 1))" "$ST_LOG"
}

# kc ARGS...: kcat against the broker, bounded in time.
kc() {
    timeout 120 "$KCAT" -b "$BOOTSTRAP" "$@"
}

# read_topic TOPIC FORMAT: every record of partition 0 from the beginning to the end,
# formatted by kcat's -f FORMAT.
read_topic() {
    kc -C -t "$1" -p 0 -o beginning -e -q -f "$2"
}

# ---- assertions: each prints what was expected and what was found ----

assert_eq() { # EXPECTED ACTUAL WHAT
    [ "$1" = "$2" ] || fail "$3: expected \"$1\", got \"$2\""
}

assert_contains() { # FILE PATTERN WHAT (grep -E)
    grep -Eq -- "$2" "$1" || {
        echo "---- $1 ----" >&2
        head -n 40 "$1" >&2
        fail "$3: no line matching /$2/ in $1"
    }
}

assert_not_contains() { # FILE PATTERN WHAT
    ! grep -Eq -- "$2" "$1" || fail "$3: unexpected line matching /$2/ in $1: $(grep -E -m1 -- "$2" "$1")"
}

# assert_same_file EXPECTED ACTUAL WHAT: byte for byte (sha256), showing the first difference.
assert_same_file() {
    local want got
    want=$(sha256sum <"$1" | cut -d' ' -f1)
    got=$(sha256sum <"$2" | cut -d' ' -f1)
    if [ "$want" != "$got" ]; then
        echo "expected: $(wc -lc <"$1") (lines bytes) sha256 $want ($1)" >&2
        echo "actual:   $(wc -lc <"$2") (lines bytes) sha256 $got ($2)" >&2
        cmp "$1" "$2" >&2 || true
        diff <(head -c 2000000 "$1") <(head -c 2000000 "$2") | head -n 10 | cut -c1-200 >&2 || true
        fail "$3: contents differ"
    fi
    log "$3: identical ($(wc -l <"$2") lines, sha256 ${got:0:16}…)"
}

# assert_acked_readable ACKS TOPIC: every "<partition> <offset> <key>" line an rk_durability
# producer printed is readable at that partition and offset with that key.
assert_acked_readable() {
    local acks=$1 topic=$2 got="$ST_TMP/read-$2.txt" missing
    [ -s "$acks" ] || fail "no acknowledged records in $acks: the producer made no progress"
    : >"$got"
    for p in $(cut -d' ' -f1 "$acks" | sort -u); do
        kc -C -t "$topic" -p "$p" -o beginning -e -q -f '%p %o %k\n' >>"$got" ||
            fail "kcat could not read $topic [$p]"
    done
    missing=$(sort "$acks" | comm -23 - <(sort "$got") | head -n 5)
    [ -z "$missing" ] || fail "acknowledged records not readable from $topic (first few: $missing); $(wc -l <"$acks") acked, $(wc -l <"$got") read"
    log "all $(wc -l <"$acks") acknowledged records of $topic are readable"
}
