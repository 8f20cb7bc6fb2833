# Helpers of the strait-mirror tests: two "datacenters" (each a straitd with its own data
# dir, port and management endpoint), a WAN link (tests/tools/netproxy, 40 ms each way) in
# front of one of them, and strait-mirror started and stopped by pid with a generated
# config. Source it after lib.sh and proxy_lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/proxy_lib.sh"
#   . "$(dirname "$0")/mirror_lib.sh"
#   dc_start dc1                 # local to the daemon
#   dc_start dc2 wan             # remote: every client reaches it through the WAN proxy
#   mirror_write_config "$(mirror_flow dc1 dc2 prefix '"orders"')"
#   mirror_start
#
# lib.sh runs one broker per test through BROKER_PID and friends; dc_start calls its
# start_broker with that broker's own ST_DATA / ST_LOG / ST_READY / ST_MGMT and moves the
# result into the DC_* arrays, so any number of brokers run side by side. The remote
# broker advertises the proxy's port, so Metadata sends every client of it (the daemon,
# the test's producers and checkers) back through the link.
#
# Environment (ctest sets it): STRAIT_MIRROR (the daemon), STRAIT (the CLI), RK_BIN (for
# rk_mirror_check), NETPROXY. jq reads the status JSON.

: "${STRAIT_MIRROR:?STRAIT_MIRROR must name the strait-mirror binary (run through ctest)}"
: "${STRAIT:?STRAIT must name the strait CLI (run through ctest)}"
command -v jq >/dev/null || fail "jq is needed to read strait mirror status --json (apt-get install jq)"
RK_CHECK="$RK_BIN/rk_mirror_check"
[ -x "$RK_CHECK" ] || fail "$RK_CHECK is not built"

WAN_DELAY_MS=${WAN_DELAY_MS:-40}
declare -A DC_PID DC_PORT DC_BOOT DC_DIRECT DC_MGMT DC_DATA DC_LOG DC_SASL
DC_NAMES=()
WAN_DC="" # the datacenter behind the proxy

MIRROR_PID=""
MIRROR_CFG="$ST_TMP/mirror.cfg"
MIRROR_LOG="$ST_TMP/mirror.log"
MIRROR_READY="$ST_TMP/mirror.ready"
MIRROR_MGMT="ipc://$ST_TMP/mirror-mgmt.ipc"
MIRROR_TOKEN="mirror-test-token"
MIRROR_STATE="$ST_TMP/mirror-state"
MIRROR_LOG_MARK=0

# Replaces lib.sh's EXIT trap: on failure first shows the daemon's status and the end of
# every log (the daemon's, each datacenter's), then stops the daemon and the brokers by
# pid, then lets st_cleanup stop the rest (the proxy, helpers) and remove the temp dir.
mirror_cleanup() {
    local rc=$? dc
    set +e
    if [ "$rc" -ne 0 ]; then
        if [ -n "$MIRROR_PID" ] && kill -0 "$MIRROR_PID" 2>/dev/null; then
            echo "---- strait mirror status (at failure) ----" >&2
            timeout 10 "$STRAIT" mirror status --mgmt "$MIRROR_MGMT" --token "$MIRROR_TOKEN" >&2
        fi
        if [ -f "$MIRROR_LOG" ]; then
            echo "---- last 80 lines of the strait-mirror log ($MIRROR_LOG) ----" >&2
            tail -n 80 "$MIRROR_LOG" >&2
        fi
        for dc in "${DC_NAMES[@]}"; do
            echo "---- last 25 lines of $dc's straitd log ----" >&2
            tail -n 25 "${DC_LOG[$dc]}" >&2
        done
        [ -f "$ST_TMP/netproxy.log" ] && { echo "---- netproxy log ----" >&2; tail -n 10 "$ST_TMP/netproxy.log" >&2; }
        echo "----" >&2
    fi
    if [ -n "$MIRROR_PID" ]; then
        kill -TERM "$MIRROR_PID" 2>/dev/null
        st_wait_pid "$MIRROR_PID" 20 || kill -KILL "$MIRROR_PID" 2>/dev/null
        wait "$MIRROR_PID" 2>/dev/null
    fi
    for dc in "${DC_NAMES[@]}"; do
        [ -n "${DC_PID[$dc]}" ] || continue
        kill -TERM "${DC_PID[$dc]}" 2>/dev/null
        st_wait_pid "${DC_PID[$dc]}" 20 || kill -KILL "${DC_PID[$dc]}" 2>/dev/null
        wait "${DC_PID[$dc]}" 2>/dev/null
    done
    (exit "$rc")
    st_cleanup
}
trap mirror_cleanup EXIT

# dc_start NAME [wan]: a straitd for datacenter NAME under $ST_TMP/NAME. With "wan" it
# sits behind the WAN proxy (started on first use, WAN_DELAY_MS each way). Sets
# DC_PID/DC_PORT/DC_DIRECT (its own address)/DC_BOOT (what clients use: the proxy for the
# remote one)/DC_MGMT/DC_DATA/DC_LOG [NAME], and DC_SASL [NAME] (host:port) when it has a
# SASL_PLAINTEXT listener. DC_BROKER_CFG (settings inside its broker group, e.g.
# listeners) and DC_EXTRA_CFG (more groups, e.g. security) add to its config; with
# listeners, the first one (PLAINTEXT) is the one the mirror and the helpers use.
dc_start() {
    local name=$1 wan=${2:-} adv=""
    local dir="$ST_TMP/$name"
    mkdir -p "$dir"
    # lib.sh's start_broker reads these; bash locals are visible to the functions we call
    local ST_DATA="$dir/data" ST_LOG="$dir/straitd.log" ST_READY="$dir/ready"
    local ST_MGMT="ipc://$dir/mgmt.ipc"
    if [ "$wan" = wan ]; then
        [ -n "$PROXY_PID" ] || start_proxy --delay-ms "$WAN_DELAY_MS"
        adv="advertised_port = $PROXY_PORT;"
    fi
    # no initial rebalance delay: the tests' group members join one at a time
    cat >"$dir/straitd.cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$ST_DATA"; log_level = "info"; $adv
           ${DC_BROKER_CFG:-} };
mgmt = { url = "$ST_MGMT"; };
groups = { initial_rebalance_delay_ms = 0; };
${DC_EXTRA_CFG:-}
CFG
    ST_CONFIG_FILE="$dir/straitd.cfg" start_broker
    DC_PID[$name]=$BROKER_PID
    [ -z "$PLAINTEXT_PORT" ] || BROKER_PORT=$PLAINTEXT_PORT
    DC_SASL[$name]=${SASL_PLAINTEXT_PORT:+127.0.0.1:$SASL_PLAINTEXT_PORT}
    DC_PORT[$name]=$BROKER_PORT
    DC_DIRECT[$name]="127.0.0.1:$BROKER_PORT"
    DC_BOOT[$name]="127.0.0.1:$BROKER_PORT"
    DC_MGMT[$name]=$ST_MGMT
    DC_DATA[$name]=$ST_DATA
    DC_LOG[$name]=$ST_LOG
    DC_NAMES+=("$name")
    BROKER_PID="" # lib.sh's single-broker slot is free for the next one
    if [ "$wan" = wan ]; then
        proxy_cmd target "127.0.0.1:$BROKER_PORT"
        DC_BOOT[$name]="127.0.0.1:$PROXY_PORT"
        WAN_DC=$name
        log "$name: straitd pid ${DC_PID[$name]} on ${DC_DIRECT[$name]}, reached through the WAN link" \
            "${DC_BOOT[$name]} (${WAN_DELAY_MS} ms each way)"
    else
        log "$name: straitd pid ${DC_PID[$name]} on ${DC_BOOT[$name]}"
    fi
}

# dc_strait NAME ARGS...: the strait CLI against datacenter NAME's management endpoint.
dc_strait() {
    local name=$1
    shift
    timeout 60 "$STRAIT" --mgmt "${DC_MGMT[$name]}" --data-dir "${DC_DATA[$name]}" \
        --bootstrap "${DC_DIRECT[$name]}" "$@"
}

wan_cut() {
    proxy_cmd cut
    log "WAN link cut ($PROXY_ANSWER)"
}
wan_restore() {
    proxy_cmd restore
    log "WAN link restored"
}

# ---- rk_mirror_check ----

# rk NAME MODE ARGS...: rk_mirror_check MODE against datacenter NAME (bounded in time).
rk() {
    local name=$1 mode=$2
    shift 2
    timeout 300 "$RK_CHECK" "$mode" "${DC_BOOT[$name]}" "$@"
}

# topic_count NAME TOPIC: the sum of the topic's end offsets on NAME (0 when absent).
topic_count() {
    local out
    out=$(rk "$1" count "$2") || fail "rk_mirror_check count $2 on $1 failed"
    echo "${out%% *}"
}

# count_at_least NAME TOPIC N: true once NAME's TOPIC holds at least N records.
count_at_least() {
    [ "$(topic_count "$1" "$2")" -ge "$3" ]
}

# wait_count SECONDS NAME TOPIC N: waits until TOPIC on NAME holds at least N records,
# logging how long that took.
wait_count() {
    local secs=$1 name=$2 topic=$3 n=$4 t0
    t0=$(date +%s%N)
    local deadline=$(($(date +%s) + secs)) got
    while :; do
        got=$(topic_count "$name" "$topic")
        [ "$got" -ge "$n" ] && break
        [ "$(date +%s)" -lt "$deadline" ] ||
            fail "timed out after ${secs}s waiting for $n records in $topic on $name: it holds $got"
        sleep 0.2
    done
    log "$topic on $name holds $got records (>= $n) after $((($(date +%s%N) - t0) / 1000000)) ms"
}

# topics_of NAME: NAME's topic names, sorted, one a line.
topics_of() {
    rk "$1" topics | sort
}

# ---- the daemon ----

# mirror_flow SOURCE TARGET NAMING TOPICS [EXTRA]: one flow's config block; TOPICS is the
# libconfig list body (e.g. '"orders", "events"'), EXTRA more settings; MIRROR_GROUPS the
# body of its groups list [".*"], MIRROR_SYNC_MS its sync_interval_ms [1000].
mirror_flow() {
    cat <<FLOW
    { source = "$1"; target = "$2"; topics = [ $4 ]; naming = "$3";
      groups = [ ${MIRROR_GROUPS:-\".*\"} ]; checkpoint_interval_ms = 1000; sync_interval_ms = ${MIRROR_SYNC_MS:-1000};
      heartbeat_interval_ms = 1000; ${5:-} }
FLOW
}

# mirror_write_config FLOW...: writes $MIRROR_CFG with every started datacenter as a
# cluster (the remote one at its proxy address) and the flows given (comma-separated).
mirror_write_config() {
    local dc first=1 flows="" f
    {
        echo "clusters = ("
        for dc in "${DC_NAMES[@]}"; do
            [ $first = 1 ] || echo ","
            first=0
            printf '  { alias = "%s"; bootstrap = "%s"; }' "$dc" "${DC_BOOT[$dc]}"
        done
        echo
        echo ");"
        for f in "$@"; do
            flows+="${flows:+,$'\n'}$f"
        done
        echo "flows = ("
        echo "$flows"
        echo ");"
        echo "mgmt = { url = \"$MIRROR_MGMT\"; token = \"$MIRROR_TOKEN\"; };"
        echo "state_dir = \"$MIRROR_STATE\";"
        echo "log_level = \"${MIRROR_LOG_LEVEL:-info}\";"
    } >"$MIRROR_CFG"
}

# mirror_start: starts strait-mirror over $MIRROR_CFG, waits (30 s) for its ready file.
mirror_start() {
    [ -z "$MIRROR_PID" ] || fail "mirror_start: strait-mirror already runs (pid $MIRROR_PID)"
    rm -f "$MIRROR_READY"
    touch "$MIRROR_LOG"
    MIRROR_LOG_MARK=$(wc -l <"$MIRROR_LOG")
    echo "==== mirror_start $(date -u +%FT%T.%NZ) ====" >>"$MIRROR_LOG"
    "$STRAIT_MIRROR" -c "$MIRROR_CFG" --ready-file "$MIRROR_READY" >>"$MIRROR_LOG" 2>&1 &
    MIRROR_PID=$!
    local deadline=$(($(date +%s) + 30)) rc
    while [ ! -s "$MIRROR_READY" ]; do
        if ! kill -0 "$MIRROR_PID" 2>/dev/null; then
            wait "$MIRROR_PID" && rc=0 || rc=$?
            MIRROR_PID=""
            fail "strait-mirror exited (status $rc) before it was ready: $(tail -n 5 "$MIRROR_LOG")"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || fail "strait-mirror not ready within 30 s"
        sleep 0.05
    done
    local url
    read -r url <"$MIRROR_READY"
    [ "$url" = "$MIRROR_MGMT" ] || fail "strait-mirror's ready file says \"$url\", expected \"$MIRROR_MGMT\""
    log "strait-mirror pid $MIRROR_PID ready ($url)"
}

# mirror_stop: SIGTERM, and it must exit 0 within 30 s.
mirror_stop() {
    [ -n "$MIRROR_PID" ] || fail "mirror_stop: strait-mirror is not running"
    kill -TERM "$MIRROR_PID"
    st_wait_pid "$MIRROR_PID" 30 || fail "strait-mirror (pid $MIRROR_PID) still running 30 s after SIGTERM"
    local rc=0
    wait "$MIRROR_PID" || rc=$?
    MIRROR_PID=""
    [ "$rc" -eq 0 ] || fail "strait-mirror exited with status $rc after SIGTERM, expected 0"
    log "strait-mirror stopped cleanly"
}

# mirror_kill9: SIGKILL, as a crash would.
mirror_kill9() {
    [ -n "$MIRROR_PID" ] || fail "mirror_kill9: strait-mirror is not running"
    kill -KILL "$MIRROR_PID"
    wait "$MIRROR_PID" 2>/dev/null || true
    MIRROR_PID=""
    log "strait-mirror killed with SIGKILL"
}

# mirror_log_since_start: the daemon's log lines of its current (or last) run.
mirror_log_since_start() {
    tail -n +"$((MIRROR_LOG_MARK + 1))" "$MIRROR_LOG"
}

# mirror_cli ARGS...: `strait mirror ARGS` against the daemon (bounded in time).
mirror_cli() {
    timeout 90 "$STRAIT" mirror "$@" --mgmt "$MIRROR_MGMT" --token "$MIRROR_TOKEN"
}

# mirror_status_json [FLOW]: the status JSON (of one flow, or {"flows": [...]}).
mirror_status_json() {
    mirror_cli status "$@" --json
}

# flow_caught_up FLOW [TOPIC]: true when the flow is running and every partition (of
# TOPIC, when given) has delivered everything up to its source end: lag_records 0 and
# delivered == source_end.
flow_caught_up() {
    local flow=$1 topic=${2:-} js
    js=$(mirror_status_json "$flow" 2>/dev/null) || return 1
    jq -e --arg t "$topic" '
        (.state == "running") and
        ([.partitions[] | select($t == "" or .topic == $t)] as $ps |
         ($ps | length) > 0 and
         all($ps[]; .lag_records == 0 and .delivered == .source_end))' <<<"$js" >/dev/null
}

# flow_summary FLOW: one line of figures from the flow's status, for the log.
flow_summary() {
    mirror_status_json "$1" | jq -r '"state \(.state), lag \(.lag_records) records / \(.lag_seconds) s, " +
        "latency p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms (\(.latency_ms.samples) samples), " +
        "checkpoint age \(.last_checkpoint_age_ms) ms, \(.checkpointed_groups) groups, " +
        "duplicates skipped \(.duplicates_skipped), \(.errors | length) errors, \(.gaps | length) gaps"'
}

# target_producer_ids NAME TOPIC: "partition producer_id" for every distinct pair found in
# the record batches of TOPIC in datacenter NAME's data directory, read from the segment
# files themselves (a v2 batch header holds its producer id at byte 43): which of the
# mirror's producers wrote each partition, as the target stored it.
target_producer_ids() {
    local dir=${DC_DATA[$1]}
    /usr/bin/python3 - "$dir" "$2" <<'PY'
import glob, os, struct, sys
data, topic = sys.argv[1], sys.argv[2]
seen = set()
for d in glob.glob(os.path.join(glob.escape(data), glob.escape(topic) + "-*")):
    part = d.rsplit("-", 1)[1]
    if not part.isdigit():
        continue
    for seg in sorted(glob.glob(os.path.join(glob.escape(d), "*.log"))):
        with open(seg, "rb") as fh:
            buf = fh.read()
        pos = 0
        while pos + 61 <= len(buf):
            length = struct.unpack_from(">i", buf, pos + 8)[0]
            if length <= 0 or pos + 12 + length > len(buf):
                break
            seen.add((int(part), struct.unpack_from(">q", buf, pos + 43)[0]))
            pos += 12 + length
for p, pid in sorted(seen):
    print(p, pid)
PY
}
