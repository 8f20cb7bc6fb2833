#!/usr/bin/env bash
# Fetch long-polling: a consumer's fetch waits on the broker (max_wait_ms) until
# min_bytes are there, and is answered as soon as they are, not when max_wait_ms runs
# out. The waits here are 20 s and the answers must come within 10 s of the data, so a
# broker that only answers on expiry fails.
. "$(dirname "$0")/lib.sh"

: "${STRAIT:?STRAIT must name the strait CLI}"
TOPIC=longpoll
start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null

value() { head -c "$1" /dev/zero | tr '\0' "$2"; }
parked() { # the broker's count of parked fetches, from `strait status --json`
    "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json |
        sed -n 's/.*"parked_fetches": *\([0-9]*\).*/\1/p'
}
some_parked() { [ "$(parked)" -ge 1 ]; }
out="$ST_TMP/consumed.txt"

# 1. min_bytes 1000 with 600 bytes already there: the fetch parks holding 600 bytes.
#    Another 600 arrive: the parked fetch must be answered at once.
value 600 a | kc -P -t "$TOPIC" -p 0 -X acks=all || fail "first produce"
kc -C -t "$TOPIC" -p 0 -o beginning -c 2 -f '%S\n' \
    -X fetch.min.bytes=1000 -X fetch.wait.max.ms=20000 >"$out" &
consumer=$!
ST_PIDS+=("$consumer")
wait_until 10 "a fetch below min_bytes to park" some_parked
value 600 b | kc -P -t "$TOPIC" -p 0 -X acks=all || fail "second produce"
t0=$(date +%s%N)
st_wait_pid "$consumer" 10 ||
    fail "consumer still waiting 10 s after min_bytes was reached (max wait is 20 s)"
wait "$consumer" || fail "kcat consumer failed"
log "min_bytes=1000: answered $((($(date +%s%N) - t0) / 1000000)) ms after the bytes arrived"
assert_eq "600 600" "$(tr '\n' ' ' <"$out" | sed 's/ $//')" "sizes of the two records consumed"

# 2. min_bytes 1 at the end of the log: the fetch parks; one produce answers it.
kc -C -t "$TOPIC" -p 0 -o end -c 1 -f '%s\n' -X fetch.wait.max.ms=20000 >"$out" &
consumer=$!
ST_PIDS+=("$consumer")
wait_until 10 "a fetch at the end of the log to park" some_parked
echo "late record" | kc -P -t "$TOPIC" -p 0 -X acks=all || fail "third produce"
t0=$(date +%s%N)
st_wait_pid "$consumer" 10 || fail "consumer still waiting 10 s after a record arrived"
wait "$consumer" || fail "kcat consumer failed"
log "min_bytes=1: answered $((($(date +%s%N) - t0) / 1000000)) ms after the record arrived"
assert_eq "late record" "$(cat "$out")" "the record the parked fetch returned"

# 3. A client that leaves while its fetch is parked frees it at once (not after 20 s).
# (kcat itself, not kc: SIGKILL to kc's `timeout` would leave kcat running)
"$KCAT" -b "$BOOTSTRAP" -C -t "$TOPIC" -p 0 -o end -X fetch.wait.max.ms=20000 >/dev/null 2>&1 &
consumer=$!
ST_PIDS+=("$consumer")
wait_until 10 "a third fetch to park" some_parked
kill -KILL "$consumer"
none_parked() { [ "$(parked)" -eq 0 ]; }
wait_until 5 "the departed client's parked fetch to be freed" none_parked
log "a parked fetch is freed when its client disconnects"
