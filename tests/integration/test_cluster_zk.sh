#!/usr/bin/env bash
# Cluster mode, part 1 (tracker issue 13), against a real ZooKeeper:
#
#  - cluster_check controller: four brokers' st_cluster in one process (the module straitd
#    runs): CreateTopics' assignment over racks, states for a topic written by others (and
#    for one deleted and made again), leader elections on a broker's death, a fenced
#    controller, a new controller, an offline partition.
#  - three straitd processes (own ports and data dirs, stopped by pid): registrations
#    and the controller as ZooKeeper shows them, the controller giving states to a
#    topic written to ZooKeeper, kill -9 of the controller (a new one within the session
#    timeout: the figure is printed) with its leaderships moved, a restart of the killed
#    broker, a broker killed and restarted at once (it waits out its old session), a
#    duplicate broker id refused with the reason, ZooKeeper unreachable at start and a
#    broker.cluster_id of another cluster refused clearly, and a controller whose session
#    expired (SIGSTOP longer than the session timeout) registering again without a
#    restart; every broker stopped by SIGTERM, exit 0, its registration gone at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zk_lib.sh"

CHECK="$RK_BIN/cluster_check"
[ -x "$CHECK" ] || fail "$CHECK is not built"
SESSION_MS=2000
# ZooKeeper notices a dead session one session timeout after its last heartbeat, checked
# every tick (200 ms); the rest is the election itself. The margin is for a loaded CI
# machine; the measured figure is printed.
FAILOVER_LIMIT_MS=$((SESSION_MS + 2500))

zk_start

log "in-process controller check"
"$CHECK" controller "$ZK_CONNECT" >"$ST_TMP/ctl.out" 2>"$ST_TMP/ctl.err" || {
    cat "$ST_TMP/ctl.out" >&2
    tail -n 30 "$ST_TMP/ctl.err" >&2
    fail "cluster_check controller failed: $(grep -m1 'FAIL' "$ST_TMP/ctl.err")"
}
grep '^cluster_check:' "$ST_TMP/ctl.out"
grep -q "^[0-9]* passed, 0 failed$" "$ST_TMP/ctl.out" || fail "cluster_check printed no result line"

declare -A PID PORT

# node_cfg ID DIR ZK [EXTRA]: a broker config in cluster mode.
node_cfg() {
    cat >"$2/straitd.cfg" <<CFG
broker = { id = $1; host = "127.0.0.1"; data_dir = "$2/data"; rack = "r$(($1 % 2))"; };
mgmt = { url = "ipc://$2/mgmt.ipc"; };
cluster = { zookeeper = "$3"; zookeeper_session_timeout_ms = $SESSION_MS;
            zookeeper_connect_timeout_ms = ${4:-5000}; };
CFG
}

# start_node ID: straitd broker ID in $ST_TMP/bID, waits for its ready file (which comes
# after its registration in ZooKeeper).
start_node() {
    local id=$1 dir="$ST_TMP/b$1"
    mkdir -p "$dir"
    node_cfg "$id" "$dir" "$ZK_CONNECT"
    rm -f "$dir/ready"
    echo "==== start $(date -u +%FT%TZ) ====" >>"$dir/straitd.log"
    "$STRAITD" -c "$dir/straitd.cfg" --port 0 --ready-file "$dir/ready" >>"$dir/straitd.log" 2>&1 &
    PID[$id]=$!
    ST_PIDS+=("${PID[$id]}")
    local deadline=$(($(date +%s) + 30))
    while [ ! -s "$dir/ready" ]; do
        kill -0 "${PID[$id]}" 2>/dev/null || {
            tail -n 20 "$dir/straitd.log" >&2
            fail "straitd $id exited before it was ready"
        }
        [ "$(date +%s)" -lt "$deadline" ] || fail "straitd $id not ready within 30 s"
        sleep 0.05
    done
    read -r port _ <"$dir/ready"
    PORT[$id]=$port
    log "straitd $id (pid ${PID[$id]}) ready on 127.0.0.1:$port"
}

# dump fails when a read failed: a partial dump must not make an absence check pass.
dump() { timeout 20 "$CHECK" dump "$ZK_CONNECT" 2>>"$ST_TMP/dump.err"; }
controller_now() { dump | sed -n 's/^controller //p'; }
has_broker() { dump | grep -q "^broker $1 "; }
lacks_broker() { local d; d=$(dump) || return 1; ! grep -q "^broker $1 " <<<"$d"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

for id in 1 2 3; do start_node "$id"; done
dump >"$ST_TMP/dump1" || fail "cannot read ZooKeeper: $(tail -n 1 "$ST_TMP/dump.err")"
cat "$ST_TMP/dump1"
for id in 1 2 3; do
    grep -q "^broker $id .*\"endpoints\":\[\"PLAINTEXT://127.0.0.1:${PORT[$id]}\"\],\"rack\":\"r$((id % 2))\"" \
        "$ST_TMP/dump1" || fail "broker $id's registration does not name its endpoint and rack"
    grep -q "registered as broker $id in ZooKeeper" "$ST_TMP/b$id/straitd.log" ||
        fail "straitd $id did not log its registration"
done
grep -q '^cluster_id {"version":"1","id":"[A-Za-z0-9_-]\{22\}"}$' "$ST_TMP/dump1" ||
    fail "no cluster id in ZooKeeper"
has_controller() { [[ "$(controller_now)" =~ ^[0-9]+$ ]]; }
wait_until 10 "a controller" has_controller
ctl=$(controller_now)
[[ "$ctl" =~ ^[123]$ ]] || fail "controller is \"$ctl\""
n=$(grep -l "is now the controller" "$ST_TMP"/b[123]/straitd.log | wc -l)
[ "$n" -eq 1 ] || fail "$n brokers say they are the controller, expected 1"
grep -q "broker $ctl is now the controller" "$ST_TMP/b$ctl/straitd.log" ||
    fail "broker $ctl holds /controller but did not log it"
log "controller: broker $ctl; $(grep '^controller_epoch' "$ST_TMP/dump1")"

# A topic written to ZooKeeper as kafka-topics.sh --zookeeper does: the controller
# writes each partition's state (leader: the first live replica, ISR: the live ones).
"$CHECK" assign "$ZK_CONNECT" t1 "1,2,3|2,3,1|3,1,2" >/dev/null 2>&1 || fail "cannot write t1"
states_for() { [ "$(dump | grep -c "^state $1 ")" -eq "$2" ]; }
wait_until 10 "states of t1's 3 partitions" states_for t1 3
dump | grep '^state t1 ' >"$ST_TMP/states1"
cat "$ST_TMP/states1"
for p in 0 1 2; do
    grep -q "^state t1 $p .*\"leader\":$((p + 1)),.*\"isr\":\[" "$ST_TMP/states1" ||
        fail "t1-$p: leader is not broker $((p + 1))"
done

# kill -9 the controller: another broker wins /controller once ZooKeeper expires the
# dead one's session, and moves the dead broker's leaderships.
t0=$(ms_now)
kill -KILL "${PID[$ctl]}"
wait "${PID[$ctl]}" 2>/dev/null || true
new_ctl_elsewhere() { local c; c=$(controller_now); [[ "$c" =~ ^[0-9]+$ ]] && [ "$c" != "$ctl" ]; }
wait_until 20 "a new controller after kill -9 of broker $ctl" new_ctl_elsewhere
took=$(($(ms_now) - t0))
ctl2=$(controller_now)
log "controller broker $ctl killed (-9) -> broker $ctl2 is the controller after $took ms (session timeout $SESSION_MS ms, limit $FAILOVER_LIMIT_MS ms)"
[ "$took" -le "$FAILOVER_LIMIT_MS" ] || fail "new controller after $took ms, limit $FAILOVER_LIMIT_MS"
lacks_broker "$ctl" || fail "the killed broker $ctl is still registered"
moved() { local d; d=$(dump) || return 1; ! grep "^state t1 " <<<"$d" | grep -q "\"leader\":$ctl,\|\"isr\":\[[0-9,]*\b$ctl\b"; }
wait_until 10 "t1's leaderships off broker $ctl" moved
dump | grep '^state t1 ' >"$ST_TMP/states2"
cat "$ST_TMP/states2"
grep -q "^state t1 $((ctl - 1)) .*\"leader_epoch\":1," "$ST_TMP/states2" ||
    fail "t1-$((ctl - 1)) (led by $ctl) did not get a new leader epoch"
grep -q "\"controller_epoch\":$(dump | sed -n 's/^controller_epoch //p')," "$ST_TMP/states2" ||
    fail "no state written with the new controller epoch"

# The killed broker comes back with its id (its old session is gone).
start_node "$ctl"
has_broker "$ctl" || fail "broker $ctl did not register again"
wait_until 10 "the controller to count broker $ctl live again" \
    grep -q "live brokers \[ 1 2 3 \]" "$ST_TMP/b$ctl2/straitd.log"

# A broker killed and restarted at once (as systemd would) finds its previous life's
# registration; it waits for that session to expire and registers, not refused.
again=$((ctl2 == 3 ? 2 : 3))
[ "$again" != "$ctl2" ] || again=1
kill -KILL "${PID[$again]}"
wait "${PID[$again]}" 2>/dev/null || true
t0=$(ms_now)
start_node "$again"
log "broker $again killed (-9) and restarted at once: registered after $(($(ms_now) - t0)) ms"
grep -q "broker id $again is registered in ZooKeeper by another session .* waiting up to" \
    "$ST_TMP/b$again/straitd.log" || fail "broker $again did not find (and wait out) its previous registration"
has_broker "$again" || fail "broker $again is not registered after its restart"

# A second broker with a live broker's id is refused at start, with the reason.
dup=$((ctl2 == 1 ? 2 : 1))
mkdir -p "$ST_TMP/dup"
node_cfg "$dup" "$ST_TMP/dup" "$ZK_CONNECT"
t0=$(ms_now)
rc=0
timeout 30 "$STRAITD" -c "$ST_TMP/dup/straitd.cfg" --port 0 >"$ST_TMP/dup/straitd.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a duplicate broker id $dup: straitd exited $rc, expected 1"
log "duplicate id refused after $(($(ms_now) - t0)) ms: $(grep -o 'broker id .*' "$ST_TMP/dup/straitd.log" | tail -n 1)"
grep -q "cannot start: broker id $dup is already registered in ZooKeeper (/brokers/ids/$dup) by a live broker at PLAINTEXT://127.0.0.1:${PORT[$dup]}" \
    "$ST_TMP/dup/straitd.log" || fail "the duplicate's error does not name the id, the znode and the live broker"
grep -q "give this broker another broker.id, or stop the other broker" "$ST_TMP/dup/straitd.log" ||
    fail "the duplicate's error does not say what to do"
dump | grep -q "^broker $dup .*127.0.0.1:${PORT[$dup]}\"" || fail "broker $dup's registration was disturbed"

# ZooKeeper unreachable at start: a clear error naming the address.
dead_port=$(zk_free_port)
mkdir -p "$ST_TMP/unreach"
node_cfg 7 "$ST_TMP/unreach" "127.0.0.1:$dead_port" 1500
rc=0
timeout 30 "$STRAITD" -c "$ST_TMP/unreach/straitd.cfg" --port 0 >"$ST_TMP/unreach/straitd.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "ZooKeeper unreachable: straitd exited $rc, expected 1"
grep -q "cannot start: cannot reach ZooKeeper at 127.0.0.1:$dead_port (cluster.zookeeper) within 1500 ms: start ZooKeeper" \
    "$ST_TMP/unreach/straitd.log" || {
    cat "$ST_TMP/unreach/straitd.log" >&2
    fail "ZooKeeper unreachable: the error does not name the address and what to do"
}
log "ZooKeeper unreachable: $(grep -o 'cannot reach .*' "$ST_TMP/unreach/straitd.log")"

# A chroot that does not exist: a clear error saying to create it.
mkdir -p "$ST_TMP/chroot"
node_cfg 9 "$ST_TMP/chroot" "$ZK_CONNECT/no/such/chroot"
rc=0
timeout 30 "$STRAITD" -c "$ST_TMP/chroot/straitd.cfg" --port 0 >"$ST_TMP/chroot/straitd.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a missing chroot: straitd exited $rc, expected 1"
grep -q "cannot start: the chroot \"/no/such/chroot\" of cluster.zookeeper .* does not exist in ZooKeeper: create it first" \
    "$ST_TMP/chroot/straitd.log" || fail "a missing chroot: no clear error"

# A broker.cluster_id of another cluster is refused: the id is ZooKeeper's.
mkdir -p "$ST_TMP/other"
node_cfg 8 "$ST_TMP/other" "$ZK_CONNECT"
sed -i 's/rack = /cluster_id = "another-cluster"; rack = /' "$ST_TMP/other/straitd.cfg"
rc=0
timeout 30 "$STRAITD" -c "$ST_TMP/other/straitd.cfg" --port 0 >"$ST_TMP/other/straitd.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "broker.cluster_id of another cluster: straitd exited $rc, expected 1"
grep -q 'cannot start: broker.cluster_id "another-cluster" is not this ZooKeeper.s cluster' \
    "$ST_TMP/other/straitd.log" || fail "broker.cluster_id of another cluster: no clear error"
lacks_broker 8 || fail "the refused broker 8 is still registered"

# The controller's session expires (frozen longer than the session timeout): another
# broker takes over; thawed, it logs the expiry and registers again, no restart.
frozen=$ctl2
kill -STOP "${PID[$frozen]}"
t0=$(ms_now)
new_ctl_not_frozen() { local c; c=$(controller_now); [[ "$c" =~ ^[0-9]+$ ]] && [ "$c" != "$frozen" ]; }
wait_until 20 "a controller other than the frozen broker $frozen" new_ctl_not_frozen
lacks_broker "$frozen" || fail "frozen broker $frozen still registered after its session expired"
log "broker $frozen frozen -> its session expired, broker $(controller_now) controls after $(($(ms_now) - t0)) ms"
kill -CONT "${PID[$frozen]}"
wait_until 20 "broker $frozen registered again after its session expired" has_broker "$frozen"
kill -0 "${PID[$frozen]}" || fail "broker $frozen exited"
grep -q "ZooKeeper session 0x[0-9a-f]* expired" "$ST_TMP/b$frozen/straitd.log" ||
    fail "broker $frozen did not log its session's expiry"
grep -q "broker $frozen is no longer the controller" "$ST_TMP/b$frozen/straitd.log" ||
    fail "broker $frozen did not log losing the controller role"
[ "$(grep -c "registered as broker $frozen in ZooKeeper" "$ST_TMP/b$frozen/straitd.log")" -ge 2 ] ||
    fail "broker $frozen did not register again"
[ "$(controller_now)" != "$frozen" ] || fail "the thawed broker took /controller back"
d=$(dump) || fail "cannot read ZooKeeper to count the brokers: $(tail -n 1 "$ST_TMP/dump.err")"
n=$(grep -c '^broker ' <<<"$d" || true)
[ "$n" -eq 3 ] || fail "$n brokers registered after the expiry, expected 3"

# Every broker stops cleanly by pid, and its registration goes at once.
for id in 1 2 3; do
    kill -TERM "${PID[$id]}"
    st_wait_pid "${PID[$id]}" 20 || fail "straitd $id still running 20 s after SIGTERM"
    rc=0
    wait "${PID[$id]}" || rc=$?
    [ "$rc" -eq 0 ] || fail "straitd $id exited $rc after SIGTERM"
done
d=$(dump) || fail "cannot read ZooKeeper to count what is left: $(tail -n 1 "$ST_TMP/dump.err")"
n=$(grep -c '^broker ' <<<"$d" || true)
[ "$n" -eq 0 ] || fail "$n registrations left after every broker stopped"

# Hostile data: a /controller_epoch no election can raise. A broker registers, says why
# it does not run for controller, and nobody holds /controller.
"$CHECK" set "$ZK_CONNECT" /controller_epoch 2147483647 || fail "cannot set /controller_epoch"
start_node 4
wait_until 10 "broker 4 to refuse the last controller epoch" grep -q \
    "/controller_epoch in ZooKeeper is not a controller epoch (2147483647 is the last epoch" \
    "$ST_TMP/b4/straitd.log"
[ "$(controller_now)" = none ] || fail "a controller was elected past the last epoch"
kill -TERM "${PID[4]}"
st_wait_pid "${PID[4]}" 20 || fail "straitd 4 still running 20 s after SIGTERM"
wait "${PID[4]}" || fail "straitd 4 did not exit 0 after SIGTERM"
zk_stop
