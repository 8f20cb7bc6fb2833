#!/usr/bin/env bash
# broker/cluster/zk.c against a real ZooKeeper: zk_client_check runs every request kind,
# watches, transactions, a frozen server (SIGSTOP by pid), a session expired on purpose
# and a connect timeout, all on a real event loop (see zk_client_check.c).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zk_lib.sh"

ZK_CHECK="$RK_BIN/zk_client_check"
[ -x "$ZK_CHECK" ] || fail "$ZK_CHECK is not built"

zk_start
[ "$(zk_4lw ruok)" = imok ] || fail "zookeeper does not answer ruok"
srvr=$(zk_4lw srvr)
[[ "$srvr" == *"Mode: standalone"* ]] || fail "srvr does not say standalone: $srvr"

dead_port=$(zk_free_port)
"$ZK_CHECK" "$ZK_CONNECT" "$ZK_PID" "$dead_port" >"$ST_TMP/check.out" 2>"$ST_TMP/check.err" || {
    cat "$ST_TMP/check.out" >&2
    tail -n 20 "$ST_TMP/check.err" >&2
    fail "zk_client_check failed: $(grep -m1 'FAIL line' "$ST_TMP/check.err")"
}
cat "$ST_TMP/check.out"
grep -q "^[0-9]* passed, 0 failed$" "$ST_TMP/check.out" || fail "zk_client_check printed no result line"

# ZooKeeper itself is stopped by pid, and is gone afterwards
zk_stop
zk_4lw ruok >/dev/null && fail "zookeeper still answers after zk_stop"
log "zookeeper stopped"
