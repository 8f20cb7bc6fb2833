#!/usr/bin/env bash
# Connections against a hostile or numerous world (issue 8, item 4). raw_hostile opens
# the connections, from chosen loopback addresses; kcat (PLAINTEXT and SASL) is the
# victim that must keep working; the broker's counters come from `strait status --json`.
#
# 1. Deadlines: 100 connections to the SASL port that never log in (60 of them send
#    ApiVersions first) are closed once socket.auth_timeout_ms (1 s here) has passed,
#    with rate-limited log lines; a SASL consumer that logged in stays. PLAINTEXT
#    connections that go quiet are closed after connections.max.idle.ms (4 s here);
#    ones that keep talking stay.
# 2. Caps: max.connections.per.ip (20) with overrides (127.0.0.3: 5, 127.0.0.1: 1000)
#    and max.connections (60), as DescribeConfigs shows them: connections past a cap are
#    closed right after accept and counted; kcat from 127.0.0.1 still works while
#    127.0.0.2 is at its cap.
# 3. Out of fds: straitd under `ulimit -n 64` and 100 connections: the excess is shed
#    (accepted with the reserve fd and closed at once) instead of left hanging, the
#    "cannot accept" line is rate-limited, and kcat works once the flood is gone.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait CLI}"

net_stat() { # NAME: a counter of the connection layer (status → stats.net.NAME)
    "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"]["net"][sys.argv[1]])' "$1"
}
hostile() { timeout 60 "$RK_BIN/raw_hostile" conns --port "$@"; }
field() { # FIELD SUMMARY-LINE: the number after FIELD
    [[ "$2" =~ $1\ (-?[0-9]+) ]] || fail "no $1 in \"$2\""
    echo "${BASH_REMATCH[1]}"
}

# ---- 1: authentication deadline and idle timeout ----
ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='socket = { auth_timeout_ms = 1000; connections_max_idle_ms = 4000; };'
start_broker
st() { timeout 30 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" "$@"; }
st users add alice --password alice-secret >/dev/null || fail "strait users add alice"
kc -P -t limits <<<"first" || fail "cannot create topic limits"

# A SASL consumer that logs in and then waits for the second record.
st_bg "$ST_TMP/consumer.out" "$ST_TMP/consumer.err" timeout 60 "$KCAT" \
    -b "127.0.0.1:$SASL_PLAINTEXT_PORT" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=alice-secret \
    -u -C -t limits -p 0 -o beginning -c 2 -f '%s\n'
consumer=$ST_BG_PID
first_read() { grep -q first "$ST_TMP/consumer.out"; }
wait_until 30 "the SASL consumer's first record" first_read

hostile "$SASL_PLAINTEXT_PORT" --count 40 --from 127.0.0.2 --hold-ms 15000 --until-closed \
    >"$ST_TMP/silent.txt" &
silent=$!
hostile "$SASL_PLAINTEXT_PORT" --count 60 --from 127.0.0.3 --api-versions --hold-ms 15000 \
    --until-closed >"$ST_TMP/versions.txt" &
versions=$!
hostile "$PLAINTEXT_PORT" --count 20 --from 127.0.0.4 --api-versions --hold-ms 15000 \
    --until-closed >"$ST_TMP/quiet.txt" &
quiet=$!
hostile "$PLAINTEXT_PORT" --count 5 --from 127.0.0.5 --ping-ms 300 --hold-ms 6000 \
    >"$ST_TMP/chatty.txt" &
chatty=$!
ST_PIDS+=("$silent" "$versions" "$quiet" "$chatty")
for pid in "$silent" "$versions" "$quiet" "$chatty"; do
    wait "$pid" || fail "raw_hostile failed (see $ST_TMP/*.txt)"
done
for f in silent versions quiet chatty; do log "$f: $(tail -n 1 "$ST_TMP/$f.txt")"; done
assert_eq 40 "$(field closed-by-broker "$(tail -n 1 "$ST_TMP/silent.txt")")" "silent SASL connections closed"
assert_eq 60 "$(field closed-by-broker "$(tail -n 1 "$ST_TMP/versions.txt")")" "SASL connections that only sent ApiVersions closed"
assert_eq 20 "$(field closed-by-broker "$(tail -n 1 "$ST_TMP/quiet.txt")")" "quiet PLAINTEXT connections closed"
assert_eq 0 "$(field closed-by-broker "$(tail -n 1 "$ST_TMP/chatty.txt")")" "active PLAINTEXT connections closed"
# The deadline, not the idle timeout, closed the SASL ones: well before 4 s.
last=$(field last-close-ms "$(tail -n 1 "$ST_TMP/silent.txt")")
[ "$last" -lt 3500 ] || fail "the last silent SASL connection closed after $last ms (deadline 1000 ms)"
first=$(field first-close-ms "$(tail -n 1 "$ST_TMP/quiet.txt")")
[ "$first" -ge 2500 ] || fail "a quiet PLAINTEXT connection closed after $first ms (idle timeout 4000 ms)"
n=$(net_stat closed_auth_timeout)
[ "$n" -ge 100 ] || fail "$n connections closed by the authentication deadline, expected 100 (and any of kcat's)"
n=$(net_stat closed_idle)
[ "$n" -ge 20 ] || fail "$n connections closed as idle, expected at least the 20 quiet ones"

# The consumer that logged in was not touched: it reads the next record.
kc -P -t limits <<<"second" || fail "produce the second record"
st_wait_pid "$consumer" 30 || fail "the SASL consumer did not get the second record"
wait "$consumer" || fail "the SASL consumer failed: $(cat "$ST_TMP/consumer.err")"
assert_eq "first second" "$(tr '\n' ' ' <"$ST_TMP/consumer.out" | sed 's/ $//')" "records the SASL consumer read"

broker_log_since_start >"$ST_TMP/run1.log"
deadline_lines=$(grep -c "not authenticated within 1000 ms" "$ST_TMP/run1.log" || true)
idle_lines=$(grep -c "idle for .*connections.max.idle.ms" "$ST_TMP/run1.log" || true)
log "log lines: $deadline_lines for 100 deadline closes, $idle_lines for 20 idle closes"
log "e.g. $(grep -m1 "not authenticated within" "$ST_TMP/run1.log" | cut -c1-220)"
[ "$deadline_lines" -ge 1 ] && [ "$deadline_lines" -le 3 ] ||
    fail "$deadline_lines log lines for 100 deadline closes: expected 1..3 (rate-limited)"
[ "$idle_lines" -ge 1 ] && [ "$idle_lines" -le 3 ] ||
    fail "$idle_lines log lines for 20 idle closes: expected 1..3 (rate-limited)"
stop_broker

# ---- 2: max.connections.per.ip, its overrides, and max.connections ----
ST_BROKER_CFG=''
ST_EXTRA_CFG='socket = { max_connections_per_ip = 20; max_connections = 60;
    max_connections_per_ip_overrides = "127.0.0.3:5, 127.0.0.1:1000"; };'
start_broker
# The caps as a Kafka client reads them (DescribeConfigs on the broker, kafka-python).
/usr/bin/python3 - "$BOOTSTRAP" >"$ST_TMP/describe.txt" <<'PY' || fail "DescribeConfigs: $(cat "$ST_TMP/describe.txt")"
import sys
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="limits")
res = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")])
for _, _, _, _, entries in res[0].resources:
    for e in entries:
        if e[0].startswith("max.connections") or e[0] == "connections.max.idle.ms":
            print(e[0], e[1])
admin.close()
PY
assert_eq "connections.max.idle.ms 600000|max.connections 60|max.connections.per.ip 20|max.connections.per.ip.overrides 127.0.0.3:5, 127.0.0.1:1000" \
    "$(sort "$ST_TMP/describe.txt" | paste -sd'|')" "the connection caps in DescribeConfigs"
st_bg "$ST_TMP/ip2.txt" /dev/null "$RK_BIN/raw_hostile" conns --port "$BROKER_PORT" --count 50 \
    --from 127.0.0.2 --hold-ms 60000 --stop-file "$ST_TMP/stop2"
ip2=$ST_BG_PID
st_bg "$ST_TMP/ip3.txt" /dev/null "$RK_BIN/raw_hostile" conns --port "$BROKER_PORT" --count 10 \
    --from 127.0.0.3 --hold-ms 60000 --stop-file "$ST_TMP/stop2"
ip3=$ST_BG_PID
refused_so_far() { [ "$(net_stat refused_per_ip)" -ge 35 ]; }
wait_until 20 "35 connections refused by max.connections.per.ip" refused_so_far
kc -L >"$ST_TMP/meta2.txt" 2>&1 || fail "kcat -L from 127.0.0.1 failed while 127.0.0.2 was at its cap: $(cat "$ST_TMP/meta2.txt")"
log "kcat -L from 127.0.0.1 works while 127.0.0.2 holds its 20"
# 25 held now; two more addresses at 20 each reach max.connections (60) at 60.
hostile "$BROKER_PORT" --count 20 --from 127.0.0.4 --hold-ms 60000 --stop-file "$ST_TMP/stop2" \
    >"$ST_TMP/ip4.txt" &
ip4=$!
hostile "$BROKER_PORT" --count 20 --from 127.0.0.5 --hold-ms 60000 --stop-file "$ST_TMP/stop2" \
    >"$ST_TMP/ip5.txt" &
ip5=$!
ST_PIDS+=("$ip4" "$ip5")
all_refused() { [ "$(net_stat refused_max_connections)" -ge 5 ]; }
wait_until 20 "5 connections refused by max.connections" all_refused
opened() { grep -q '^opened' "$ST_TMP/ip4.txt" && grep -q '^opened' "$ST_TMP/ip5.txt"; }
wait_until 20 "the last 40 connections opened" opened
touch "$ST_TMP/stop2"
for pid in "$ip2" "$ip3" "$ip4" "$ip5"; do
    st_wait_pid "$pid" 20 || fail "raw_hostile did not stop"
    wait "$pid" || fail "raw_hostile failed"
done
for f in ip2 ip3 ip4 ip5; do log "$f: $(tail -n 1 "$ST_TMP/$f.txt")"; done
assert_eq 20 "$(field open "$(tail -n 1 "$ST_TMP/ip2.txt")")" "connections kept from 127.0.0.2 (per-IP cap 20)"
assert_eq 5 "$(field open "$(tail -n 1 "$ST_TMP/ip3.txt")")" "connections kept from 127.0.0.3 (override 5)"
kept45=$(($(field open "$(tail -n 1 "$ST_TMP/ip4.txt")") + $(field open "$(tail -n 1 "$ST_TMP/ip5.txt")")))
assert_eq 35 "$kept45" "connections kept from 127.0.0.4 and .5 (max.connections 60 - 25)"
assert_eq 35 "$(net_stat refused_per_ip)" "connections refused by max.connections.per.ip"
assert_eq 5 "$(net_stat refused_max_connections)" "connections refused by max.connections"
broker_log_since_start >"$ST_TMP/run2.log"
refusal_lines=$(grep -c "refusing a connection from" "$ST_TMP/run2.log" || true)
log "log lines for 40 refusals: $refusal_lines; e.g. $(grep -m1 "refusing a connection from" "$ST_TMP/run2.log" | cut -c1-220)"
[ "$refusal_lines" -ge 1 ] && [ "$refusal_lines" -le 4 ] ||
    fail "$refusal_lines log lines for 40 refused connections: expected 1..4 (rate-limited)"
stop_broker

# ---- 3: out of file descriptors ----
cat >"$ST_TMP/straitd-64fds" <<EOF
#!/bin/sh
ulimit -n 64
exec "$STRAITD" "\$@"
EOF
chmod +x "$ST_TMP/straitd-64fds"
ST_EXTRA_CFG=''
STRAITD="$ST_TMP/straitd-64fds" start_broker
log "straitd open-file limit: $(awk '/Max open files/ {print $4}' "/proc/$BROKER_PID/limits")"
hostile "$BROKER_PORT" --count 100 --from 127.0.0.2 --hold-ms 5000 >"$ST_TMP/fds.txt" ||
    fail "raw_hostile failed: $(cat "$ST_TMP/fds.txt")"
summary=$(tail -n 1 "$ST_TMP/fds.txt")
log "100 connections to a broker with 64 fds: $summary"
closed=$(field closed-by-broker "$summary")
kept=$(field open "$summary")
[ "$kept" -ge 20 ] || fail "only $kept connections kept: the broker should use the fds it has"
[ "$closed" -ge 30 ] || fail "only $closed of 100 connections closed: the excess should be shed, not left hanging"
[ "$(field last-close-ms "$summary")" -lt 3000 ] || fail "shedding took too long: $summary"
kc -L >"$ST_TMP/meta3.txt" 2>&1 || fail "kcat -L after the flood: $(cat "$ST_TMP/meta3.txt")"
shed=$(net_stat shed_no_fds)
log "shed: $shed"
[ "$shed" -ge "$closed" ] || fail "stats say $shed shed, the client saw $closed closed"
broker_log_since_start >"$ST_TMP/run3.log"
accept_lines=$(grep -c "cannot accept" "$ST_TMP/run3.log" || true)
log "\"cannot accept\" log lines: $accept_lines; $(grep -m1 "cannot accept" "$ST_TMP/run3.log" | cut -c1-220)"
[ "$accept_lines" -ge 1 ] && [ "$accept_lines" -le 3 ] ||
    fail "$accept_lines \"cannot accept\" lines in 5 s: expected 1..3 (rate-limited)"
assert_contains "$ST_TMP/run3.log" "Too many open files: closed the connection from 127\.0\.0\.2 at once" \
    "the shed connections' log line"
assert_not_contains "$ST_TMP/run3.log" "retrying in" "a listener paused instead of shedding"
stop_broker
