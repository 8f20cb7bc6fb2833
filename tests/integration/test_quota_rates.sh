#!/usr/bin/env bash
# Byte-rate quotas as librdkafka clients see them. One broker with a PLAINTEXT listener
# (User:ANONYMOUS, a super user: the admin path) and a SASL_PLAINTEXT one; tenant t1 with
# user u1 (SCRAM-SHA-256). Kafka's default quota window (11 samples of 1 s).
#
#  1. Producer: `strait quotas set --user u1 producer_byte_rate=1048576`; rk_quota
#     produce-rate as u1 sends flat out (at most 72 MB in all) and measures the delivered
#     rate over 11 s after a 2 s warm-up: 0.8–1.2 MB/s, and librdkafka's statistics
#     (brokers.*.throttle) show throttled responses. Then, on the same client, the quota
#     becomes 2 MB/s: after 3 s the rate over 11 s is 1.6–2.4 MB/s, and the statistics
#     show no new connection (brokers.*.connects, disconnects unchanged).
#  2. Consumer: a topic filled with 40 MB as admin (kcat over PLAINTEXT); consumer_byte_rate=1048576 on u1; a
#     partition consumer as u1 reads it: 0.8–1.2 MB/s over 11 s after 2 s, throttled.
#
# Why 11 s: Kafka's rate is the sum of the window's samples over its span, so a client
# running flat out gets bursts when a big sample leaves the window (the first second's,
# padded span). Any whole span (quota.window.num × size = 11 s) holds ~quota × span; a
# 10 s stretch can miss a burst or catch one. The per-second series is printed.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
Q="$RK_BIN/rk_quota"
PW=u1-secret-pw
MB=1048576

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };
quotas = { window_num = 11; window_size_seconds = 1; };'
start_broker
[ -n "$SASL_PLAINTEXT_PORT" ] && [ -n "$PLAINTEXT_PORT" ] ||
    fail "the ready file lists no PLAINTEXT and SASL_PLAINTEXT ports: $(cat "$ST_READY")"
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT"
SASL="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
ST_CMD=$(printf '%q ' timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA")
out="$ST_TMP/out.txt"

# field FILE PHASE NAME: NAME=value of the "RESULT phase=PHASE" line (PHASE "-": the first
# RESULT line; "FINAL": the FINAL line).
field() {
    awk -v p="$2" -v f="$3" '($1 == "RESULT" && (p == "-" || $2 == "phase=" p)) || ($1 == p) {
        for (i = 2; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == f) { print substr($i, n + 1); exit } } }' "$1"
}
in_range() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x + 0 >= lo + 0 && x + 0 <= hi + 0) }'; }
mbps() { awk -v x="$1" 'BEGIN { printf "%.3f", x / 1048576 }'; }

st tenants create t1 >"$out" 2>&1 || fail "strait tenants create t1: $(cat "$out")"
st users add u1 --password "$PW" --tenant t1 >"$out" 2>&1 || fail "strait users add u1: $(cat "$out")"
for t in t1.prod t1.cons; do
    st topics create "$t" --partitions 1 >"$out" 2>&1 || fail "strait topics create $t: $(cat "$out")"
done

# ---- 1. producer: 1 MB/s, then 2 MB/s on the same connection ----
st quotas set --user u1 producer_byte_rate=$MB >"$out" 2>&1 ||
    fail "strait quotas set --user u1 producer_byte_rate=$MB: $(cat "$out")"
st quotas describe >"$out" 2>&1 || fail "strait quotas describe: $(cat "$out")"
assert_contains "$out" "producer_byte_rate" "strait quotas describe lists the quota just set"
log "quota: $(tr '\n' ' ' <"$out")"
prod="$ST_TMP/produce.out"
timeout 90 "$Q" produce-rate "$SASL" "u1:$PW" t1.prod size=1000 warmup=2 measure=11 \
    max_bytes=$((72 * MB)) warmup2=3 measure2=11 \
    "then=$ST_CMD quotas set --user u1 producer_byte_rate=$((2 * MB))" >"$prod" 2>"$ST_TMP/produce.err" ||
    { cat "$prod" "$ST_TMP/produce.err" >&2; fail "rk_quota produce-rate failed"; }
cat "$prod"
r1=$(field "$prod" 1 rate_bps)
r2=$(field "$prod" 2 rate_bps)
log "FIGURE producer at 1 MB/s: $(mbps "$r1") MB/s over $(field "$prod" 1 seconds) s; throttle (librdkafka statistics): $(field "$prod" 1 throttle_cnt) throttled responses, max $(field "$prod" 1 throttle_max_ms) ms, avg $(field "$prod" 1 throttle_avg_ms) ms"
log "FIGURE producer after the change to 2 MB/s: $(mbps "$r2") MB/s over $(field "$prod" 2 seconds) s; throttle: $(field "$prod" 2 throttle_cnt) responses, max $(field "$prod" 2 throttle_max_ms) ms"
[ "$(field "$prod" 1 errors)" = 0 ] || fail "the producer had delivery errors (see above)"
in_range "$r1" $((MB * 8 / 10)) $((MB * 12 / 10)) ||
    fail "producer with producer_byte_rate=1048576 sustained $(mbps "$r1") MB/s, expected 0.8–1.2"
[ "$(field "$prod" 1 throttle_cnt)" -gt 0 ] && [ "$(field "$prod" 1 throttle_max_ms)" -gt 0 ] ||
    fail "librdkafka's statistics show no throttle time (brokers.*.throttle cnt $(field "$prod" 1 throttle_cnt), max $(field "$prod" 1 throttle_max_ms))"
in_range "$r2" $((MB * 16 / 10)) $((MB * 24 / 10)) ||
    fail "after producer_byte_rate became 2097152 the rate was $(mbps "$r2") MB/s, expected 1.6–2.4"
c1=$(field "$prod" 1 connects) d1=$(field "$prod" 1 disconnects)
c2=$(field "$prod" FINAL connects) d2=$(field "$prod" FINAL disconnects)
log "FIGURE producer connections: learned broker connects $c1 -> $c2, disconnects $d1 -> $d2"
[ "$c1" = "$c2" ] && [ "$d1" = "$d2" ] && [ "$c1" -ge 1 ] ||
    fail "the producer reconnected across the quota change (connects $c1 -> $c2, disconnects $d1 -> $d2)"

# ---- 2. consumer: 1 MB/s over a pre-filled topic ----
awk 'BEGIN { s = sprintf("%999s", ""); gsub(/ /, "c", s); for (i = 0; i < 40 * 1024; i++) print s }' |
    kc -P -t t1.cons -p 0 -X acks=all -X linger.ms=20 || fail "kcat -P of 40 MB to t1.cons (admin) failed"
st quotas set --user u1 consumer_byte_rate=$MB >"$out" 2>&1 ||
    fail "strait quotas set --user u1 consumer_byte_rate=$MB: $(cat "$out")"
cons="$ST_TMP/consume.out"
timeout 60 "$Q" consume-rate "$SASL" "u1:$PW" t1.cons warmup=2 measure=11 >"$cons" 2>"$ST_TMP/consume.err" ||
    { cat "$cons" "$ST_TMP/consume.err" >&2; fail "rk_quota consume-rate failed"; }
cat "$cons"
r=$(field "$cons" 1 rate_bps)
log "FIGURE consumer at 1 MB/s: $(mbps "$r") MB/s over $(field "$cons" 1 seconds) s; throttle (librdkafka statistics): $(field "$cons" 1 throttle_cnt) throttled responses, max $(field "$cons" 1 throttle_max_ms) ms, avg $(field "$cons" 1 throttle_avg_ms) ms"
in_range "$r" $((MB * 8 / 10)) $((MB * 12 / 10)) ||
    fail "consumer with consumer_byte_rate=1048576 sustained $(mbps "$r") MB/s, expected 0.8–1.2"
[ "$(field "$cons" 1 throttle_cnt)" -gt 0 ] && [ "$(field "$cons" 1 throttle_max_ms)" -gt 0 ] ||
    fail "the consumer's statistics show no throttle time (cnt $(field "$cons" 1 throttle_cnt), max $(field "$cons" 1 throttle_max_ms))"

st quotas usage --tenant t1 >"$out" 2>&1 || fail "strait quotas usage --tenant t1: $(cat "$out")"
log "strait quotas usage --tenant t1:"
cat "$out"
stop_broker
