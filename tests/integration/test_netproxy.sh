#!/usr/bin/env bash
# tests/tools/netproxy in front of a broker that advertises the proxy's port:
#  1. kcat produces and consumes through it (Metadata sends the client back through the
#     proxy: its byte counters grow) and a raw ApiVersions round trip takes < 200 ms;
#  2. delay 300: the same round trip takes at least 2 × 300 ms (one-way delay each way);
#  3. rate 150000: reading ~300 KB through the proxy takes at least 300/150 × 0.85 s,
#     and with the rate lifted it is fast again;
#  4. drop: an open connection is closed by the proxy, a new one works, and a kcat
#     consumer that was reading reconnects and gets records produced after the drop;
#  5. cut: connections are refused (kcat -L fails) until restore, then kcat works again;
#  6. blackhole: a connection is accepted but a request gets no answer (no reset either)
#     until restore, then the same connection gets its answer and kcat works again;
#  7. fail-produce 87: kcat's next produce is answered INVALID_RECORD (the broker stored
#     it all the same), the one after that succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"

start_proxied_broker

ms() { echo $(($(date +%s%N) / 1000000)); }

# rtt_ms: one ApiVersions v0 request on a fresh connection through the proxy; prints the
# milliseconds from sending the request to reading the response's size prefix.
rtt_ms() {
    local t0 t1 got
    exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || fail "cannot connect to the proxy on $PROXY_PORT"
    t0=$(ms)
    # size 10 | api key 18 | version 0 | correlation id 1 | client id "" (length 0)
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00' >&3
    got=$(timeout 10 head -c 4 <&3 | od -An -tx1 | tr -d ' \n')
    t1=$(ms)
    exec 3<&- 3>&-
    [ -n "$got" ] && [ "$got" != 00000000 ] || fail "no ApiVersions response through the proxy"
    echo $((t1 - t0))
}

# ---- 1. plain forwarding ----
seq 1 200 | awk '{printf "k%d\tv%d\n", $1, $1}' |
    kc -P -t through -p 0 -K $'\t' -X acks=all || fail "kcat -P through the proxy failed"
read_topic through '%k %s\n' >"$ST_TMP/through.txt"
assert_eq 200 "$(wc -l <"$ST_TMP/through.txt")" "records read back through the proxy"
assert_eq "k200 v200" "$(tail -n 1 "$ST_TMP/through.txt")" "last record read through the proxy"
proxy_cmd stats
log "proxy: $PROXY_ANSWER"
read -r _ _ _ _ accepted _ up _ down <<<"$PROXY_ANSWER"
[ "$accepted" -ge 2 ] || fail "the proxy accepted $accepted connections; the clients bypassed it"
[ "$up" -gt 2000 ] && [ "$down" -gt 2000 ] || fail "proxy counters up $up down $down: the data did not go through it"
base=$(rtt_ms)
[ "$base" -lt 200 ] || fail "a round trip through the idle proxy took $base ms, expected < 200"
log "round trip without delay: $base ms"

# ---- 2. delay ----
proxy_cmd delay 300
delayed=$(rtt_ms)
[ "$delayed" -ge 600 ] || fail "round trip with delay 300 took $delayed ms, expected >= 600"
[ "$delayed" -lt 2000 ] || fail "round trip with delay 300 took $delayed ms, expected about 600"
log "round trip with a 300 ms one-way delay: $delayed ms"
proxy_cmd delay 0

# ---- 3. rate ----
head -c 225000 /dev/urandom | base64 -w 1000 | awk '{print NR "\t" $0}' |
    kc -P -t bulk -p 0 -K $'\t' -X acks=all || fail "kcat -P bulk failed"
bulk_bytes=$(read_topic bulk '%s' | wc -c)
[ "$bulk_bytes" -ge 300000 ] || fail "bulk holds $bulk_bytes bytes of values, expected >= 300000"
rate=150000
proxy_cmd rate $rate
t0=$(ms)
read_topic bulk '%s\n' >"$ST_TMP/bulk-slow.txt"
slow=$(($(ms) - t0))
min=$((bulk_bytes * 1000 / rate * 85 / 100))
[ "$slow" -ge "$min" ] || fail "read $bulk_bytes bytes at rate $rate B/s in $slow ms, expected >= $min ms"
[ "$slow" -le $((min * 4)) ] || fail "read $bulk_bytes bytes at rate $rate B/s in $slow ms: far slower than the rate"
log "read $bulk_bytes bytes at $rate B/s in $slow ms (at least $min ms expected)"
proxy_cmd rate 0
t0=$(ms)
read_topic bulk '%s\n' >"$ST_TMP/bulk-fast.txt"
fast=$(($(ms) - t0))
assert_same_file "$ST_TMP/bulk-slow.txt" "$ST_TMP/bulk-fast.txt" "bulk read rate-limited and unlimited"
[ "$fast" -lt "$min" ] || fail "read without a rate limit took $fast ms, not faster than the limited read"
log "the same read unlimited: $fast ms"

# ---- 4. drop ----
st_bg "$ST_TMP/follow.txt" "$ST_TMP/follow.err" \
    "$KCAT" -b "$BOOTSTRAP" -C -u -E -t through -p 0 -o beginning -q -f '%k\n'
follower=$ST_BG_PID
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
wait_until 20 "the following kcat read the first 200 records" lines_at_least "$ST_TMP/follow.txt" 200
exec 4<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || fail "cannot connect to the proxy"
proxy_cmd drop
log "proxy: $PROXY_ANSWER"
read -r _ _ _ closed <<<"$PROXY_ANSWER"
[ "$closed" -ge 2 ] || fail "drop closed $closed connections, expected the raw one and the consumer's"
eof=$(timeout 5 head -c 1 <&4 | wc -c) || fail "a dropped connection still open after 5 s"
assert_eq 0 "$eof" "bytes read from a dropped connection"
exec 4<&- 4>&-
seq 201 300 | awk '{printf "k%d\tv%d\n", $1, $1}' |
    kc -P -t through -p 0 -K $'\t' -X acks=all || fail "kcat -P after a drop failed"
wait_until 30 "the consumer reconnected after the drop and read records 201..300" \
    lines_at_least "$ST_TMP/follow.txt" 300
assert_eq "$(seq 1 300 | sed 's/^/k/')" "$(cat "$ST_TMP/follow.txt")" "keys the consumer read across the drop"
kill -TERM "$follower"
st_wait_pid "$follower" 10 || fail "kcat consumer did not stop"
log "a consumer survived the drop and read 300 records in order"

# ---- 5. cut and restore ----
proxy_cmd cut
log "proxy: $PROXY_ANSWER"
if (exec 5<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null; then
    fail "a connection to the proxy succeeded while cut"
fi
if timeout 20 "$KCAT" -b "$BOOTSTRAP" -L -m 2 >"$ST_TMP/cut-L.txt" 2>&1; then
    fail "kcat -L succeeded through a cut link"
fi
proxy_cmd restore
kc -L -t through >"$ST_TMP/restored-L.txt" || fail "kcat -L after restore failed"
assert_contains "$ST_TMP/restored-L.txt" 'topic "through" with 1 partitions' "metadata after restore"
assert_eq 300 "$(read_topic through '%k\n' | wc -l)" "records read after restore"

# ---- 6. blackhole and restore ----
proxy_cmd blackhole
log "proxy: $PROXY_ANSWER"
exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || fail "a connection to the proxy was refused while black-holed"
printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00' >&3
got=$(timeout 2 head -c 4 <&3 | od -An -tx1 | tr -d ' \n') || true
[ -z "$got" ] || fail "an ApiVersions request was answered through a black-holed link ($got)"
proxy_cmd restore
got=$(timeout 10 head -c 4 <&3 | od -An -tx1 | tr -d ' \n') || true
exec 3<&- 3>&-
[ -n "$got" ] && [ "$got" != 00000000 ] || fail "the held request got no answer after restore"
kc -L -t through >"$ST_TMP/restored2-L.txt" || fail "kcat -L after the blackhole failed"
log "black-holed: a request waited 2 s unanswered on an open connection; answered after restore"

# ---- 7. fail-produce ----
proxy_cmd fail-produce 87 1
if echo "k1 v1" | kc -P -t through -p 0 -K ' ' -X acks=all >"$ST_TMP/fail1.txt" 2>&1; then
    fail "a produce succeeded although the proxy was to fail it: $(cat "$ST_TMP/fail1.txt")"
fi
assert_contains "$ST_TMP/fail1.txt" "failed to validate record" "kcat's failed produce (INVALID_RECORD, 87)"
echo "k2 v2" | kc -P -t through -p 0 -K ' ' -X acks=all >"$ST_TMP/fail2.txt" 2>&1 ||
    fail "the produce after the failed one failed too: $(cat "$ST_TMP/fail2.txt")"
assert_eq "k1 v1|k2 v2" "$(read_topic through '%k %s\n' | tail -n 2 | paste -sd'|')" \
    "the last records of through (the failed produce was stored by the broker)"
log "fail-produce: kcat got \"$(grep -o 'Broker: .*' "$ST_TMP/fail1.txt" | head -n 1)\", and the broker had stored the record"
stop_broker
