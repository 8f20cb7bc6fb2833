#!/usr/bin/env bash
# Idle idempotent producers expire (producer.id_expiration_ms = 3000 here, checked every
# 200 ms, once a second in effect; Kafka's producer.id.expiration.ms, KIP-854), and a
# producer a partition does not know may start at any sequence (KIP-360), all over raw
# frames (raw_idempotent):
#  1. producer P writes a batch (sequence 0); the same batch again is a recognised retry;
#  2. once P has been idle past the expiration, the broker logs its expiry, and the same
#     batch is written again: P's state is gone;
#  3. a producer id with no state in the partition sends sequence 5 first: accepted (not
#     OUT_OF_ORDER_SEQUENCE_NUMBER, and not UNKNOWN_PRODUCER_ID, which Kafka stopped
#     answering in 2.5); its next sequence is then checked (a gap → 45);
#  4. after both expired, a clean restart: P's batch is still new to the partition (the
#     expired state is not rebuilt from the log nor kept in the snapshot);
#  5. every accepted batch is in the log, in order.
. "$(dirname "$0")/lib.sh"

TOPIC=expiring
ST_EXTRA_CFG='producer = { id_expiration_ms = 3000; id_expiration_check_interval_ms = 200; };'
start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null
raw() { "$RK_BIN/raw_idempotent" "$BROKER_PORT" "$TOPIC" "$@" >"$ST_TMP/raw.txt" || {
    cat "$ST_TMP/raw.txt"
    fail "raw_idempotent $* failed"
}; sed 's/^/    /' "$ST_TMP/raw.txt"; }
expiries() { broker_log_since_start | grep -c "$TOPIC-0: .* idle producer(s) expired" || true; }

# ---- 1. a producer and its retry ----
raw first
read -r _ pid _ base < <(grep '^pid ' "$ST_TMP/raw.txt")
t0=$(date +%s%N)
log "producer $pid wrote its sequence-0 batch at offset $base"

# ---- 2. idle past the expiration: forgotten ----
expired_once() { [ "$(expiries)" -ge 1 ]; }
wait_until 20 "the broker to expire producer $pid" expired_once
log "FIGURE $(broker_log_since_start | grep -m1 'idle producer(s) expired' | sed 's/^.*INFO  *//') ($((($(date +%s%N) - t0) / 1000000)) ms after its append; expiration 3000 ms)"
raw retry "$pid" "new:$base"
read -r _ base2 < <(grep '^base ' "$ST_TMP/raw.txt")

# ---- 3. an unknown producer starting at sequence 5 ----
raw unknown $((pid + 500))

# ---- 4. both expire; a clean restart does not bring them back ----
n=$(expiries)
expired_again() { [ "$(expiries)" -gt "$n" ]; }
wait_until 20 "producers $pid and $((pid + 500)) to expire" expired_again
stop_broker
start_broker
raw retry "$pid" "new:$base2"

# ---- 5. the log ----
kc -C -t "$TOPIC" -p 0 -o beginning -e -q -f '%o %k\n' >"$ST_TMP/log.txt"
cat >"$ST_TMP/expected.txt" <<TXT
0 idem-0
1 idem-1
2 idem-0
3 idem-1
4 idem-5
5 idem-6
6 idem-7
7 idem-0
8 idem-1
TXT
assert_same_file "$ST_TMP/expected.txt" "$ST_TMP/log.txt" "$TOPIC: every accepted batch once, in order"
stop_broker
