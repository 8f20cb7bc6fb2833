#!/usr/bin/env bash
# Hostile clients, login side (issue 8, item 2): wrong SASL PLAIN logins by the hundred must
# not stall the broker. One broker with a PLAINTEXT and a SASL_PLAINTEXT listener, default
# login limits (security.auth_*), users aaron (4096 iterations) and alice (16384: a check
# costs her ~10 ms of PBKDF2). Run as `test_auth_flood.sh flood` or `... hangup`:
#
#   flood   1. Unknown and known users answer alike: wrong passwords for alice and for the
#              unknown user ghost, each from its own 127.0.0.x address (so each meets the
#              first failed-login delay, 400 ms here: far more than a check takes even on a
#              busy machine): the answer times must agree within 5 ms (the median of the
#              differences within back-to-back pairs), although checking alice costs ~7 ms
#              more than checking ghost's dummy.
#           2. Four raw_auth_flood processes send 200 wrong PLAIN logins a second each as
#              the unknown user mallory, each from its own address 127.0.0.2..5 (so four
#              budgets' worth of checks get through: 80 PBKDF2s a second), with a fresh
#              random password every time (so no verdict can be remembered). Meanwhile
#              `kcat -L` on the PLAINTEXT listener,
#              200 times: p99 must stay under 50 ms (the probe found 8-15 s before password
#              checks left the event loop) — or, when the machine is busy enough that p99
#              without any flood (100 runs first) is already over 25 ms, under twice that
#              (said so in the output); and librdkafka logs in as alice with PLAIN from
#              127.0.0.1 and produces and reads back 20 records.
#           3. The budget held: at most security.auth_attempts_per_second (20) checks a
#              second per address (broker status "auth"), the rest (most) refused before
#              any hashing, by that or by security.auth_checks_per_address (4 in flight);
#              the broker log has at most 10 lines per 10 s about 127.0.0.2.
#   hangup  Clients that send the login and close at once, so the broker finds them gone
#           while their password is checked ("abandoned" in status): the broker goes on
#           serving (kcat -L, a PLAIN login), and a SIGTERM in the middle of such a flood
#           stops it cleanly. Run it under the ASan build too (-DSTRAIT_ASAN=ON): a
#           completion that touched the closed connection would be a use-after-free.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
PHASE=${1:?usage: test_auth_flood.sh flood|hangup}
FLOOD="$RK_BIN/raw_auth_flood"
PW_ALICE='alice-Secret-4k2q'
P99_LIMIT_MS=50

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { sasl_mechanisms = "PLAIN,SCRAM-SHA-512"; failed_auth_delay_ms = 400; };'
start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" "$@"; }
st users add aaron --password aaron-pw --iterations 4096 >"$ST_TMP/users.txt" 2>&1 ||
    fail "strait users add aaron: $(cat "$ST_TMP/users.txt")"
st users add alice --password "$PW_ALICE" --iterations 16384 >>"$ST_TMP/users.txt" 2>&1 ||
    fail "strait users add alice: $(cat "$ST_TMP/users.txt")"

auth_stat() { # NAME: a counter of the broker status's "auth" object
    st status --json | jq -er ".auth.$1"
}
broker_alive() {
    kill -0 "$BROKER_PID" 2>/dev/null || fail "straitd (pid $BROKER_PID) is gone; see its log below"
}

# kcat_times N SECONDS OUT: up to N `kcat -L` runs against the PLAINTEXT listener (for at
# most SECONDS), one elapsed time in ms per line of OUT.
kcat_times() {
    local n=$1 deadline=$(($(date +%s) + $2)) out=$3 t0 t1
    : >"$out"
    for _ in $(seq "$n"); do
        [ "$(date +%s)" -lt "$deadline" ] || break
        t0=$EPOCHREALTIME
        timeout 30 "$KCAT" -b "127.0.0.1:$PLAINTEXT_PORT" -L -m 20 >/dev/null 2>"$ST_TMP/kcat.err" ||
            fail "kcat -L failed: $(tail -n 3 "$ST_TMP/kcat.err")"
        t1=$EPOCHREALTIME
        echo "$t0 $t1" | awk '{printf "%.1f\n", ($2 - $1) * 1000}' >>"$out"
    done
}
percentile() { # FILE P: the P-th percentile (nearest rank) of FILE's numbers
    sort -n "$1" | awk -v p="$2" '{v[NR] = $1} END {r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r]}'
}

if [ "$PHASE" = flood ]; then
    # ---- 1. an unknown user answers like a known one ----
    timeout 120 "$FLOOD" timing "$SASL_PLAINTEXT_PORT" alice ghost 8 10 >"$ST_TMP/timing.txt" ||
        { cat "$ST_TMP/timing.txt" >&2; fail "wrong-password timing probe"; }
    line=$(grep '^timing ' "$ST_TMP/timing.txt")
    log "wrong passwords, one per address: $line"
    diff_ms=$(echo "$line" | sed -n 's/.* diff=\([0-9.]*\) ms.*/\1/p')
    awk -v d="$diff_ms" 'BEGIN {exit !(d < 5)}' ||
        fail "an unknown user's failure is answered ${diff_ms} ms apart from a known user's (median): timing tells them apart ($line)"

    # ---- 2. the flood ----
    kcat_times 100 30 "$ST_TMP/baseline.txt"
    base_p99=$(percentile "$ST_TMP/baseline.txt" 99)
    log "kcat -L without a flood: p50 $(percentile "$ST_TMP/baseline.txt" 50) ms, p99 $base_p99 ms"
    if awk -v b="$base_p99" -v l="$P99_LIMIT_MS" 'BEGIN {exit !(b * 2 > l)}'; then
        P99_LIMIT_MS=$(awk -v b="$base_p99" 'BEGIN {print b * 2}')
        log "the machine is busy (p99 $base_p99 ms without a flood): judging the flood's p99 against twice that, $P99_LIMIT_MS ms, instead of 50 ms"
    fi
    checks_before=$(auth_stat checks || echo 0) # (a broker from before the login guard has none)
    FLOODER_PIDS=()
    for i in 1 2 3 4; do
        st_bg "$ST_TMP/flood-$i.out" "$ST_TMP/flood-$i.err" \
            "$FLOOD" flood "$SASL_PLAINTEXT_PORT" "127.0.0.$((i + 1))" 200 40 mallory linger
        FLOODER_PIDS+=("$ST_BG_PID")
    done
    # two seconds in, so that work the flood leaves behind has had time to pile up
    flooding() {
        for i in 1 2 3 4; do
            [ "$(sed -n 's/^progress attempts=//p' "$ST_TMP/flood-$i.out" | tail -n 1)" -ge 400 ] 2>/dev/null || return 1
        done
    }
    wait_until 20 "two seconds of flood (400 attempts from each flooder)" flooding
    kcat_times 200 30 "$ST_TMP/flood.txt"
    samples=$(wc -l <"$ST_TMP/flood.txt")
    p50=$(percentile "$ST_TMP/flood.txt" 50)
    p99=$(percentile "$ST_TMP/flood.txt" 99)
    log "kcat -L during the flood: $samples runs, p50 $p50 ms, p99 $p99 ms, max $(percentile "$ST_TMP/flood.txt" 100) ms"
    [ "$samples" -eq 200 ] || fail "only $samples kcat -L runs in 30 s during the flood (p50 $p50 ms)"
    awk -v p="$p99" -v l="$P99_LIMIT_MS" 'BEGIN {exit !(p < l)}' ||
        fail "kcat -L p99 $p99 ms during the flood, limit $P99_LIMIT_MS ms (p50 $p50 ms)"

    timeout 60 "$RK_BIN/rk_sasl" roundtrip "127.0.0.1:$SASL_PLAINTEXT_PORT" sasl_plaintext PLAIN alice \
        "$PW_ALICE" - during-flood 20 >"$ST_TMP/rk.out" 2>"$ST_TMP/rk.err" ||
        { cat "$ST_TMP/rk.err" >&2; fail "alice's PLAIN login from 127.0.0.1 during the flood"; }
    log "during the flood, from 127.0.0.1: $(cat "$ST_TMP/rk.out")"
    still_flooding=$(auth_stat plain_logins)

    for pid in "${FLOODER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" || fail "raw_auth_flood (pid $pid) failed: $(cat "$ST_TMP"/flood-*.err)"
    done
    attempts=0 flood_secs=0
    for i in 1 2 3 4; do
        log "$(grep '^flood ' "$ST_TMP/flood-$i.out")"
        attempts=$((attempts + $(sed -n 's/.* attempts=\([0-9]*\) .*/\1/p' "$ST_TMP/flood-$i.out")))
        secs=$(sed -n 's/.* seconds=\([0-9]*\)\.[0-9] .*/\1/p' "$ST_TMP/flood-$i.out")
        [ "$secs" -lt "$flood_secs" ] || flood_secs=$((secs + 1)) # rounded up
    done
    [ "$attempts" -ge $((4 * 200 * flood_secs / 2)) ] ||
        fail "the flooders made only $attempts attempts in ${flood_secs} s (4 x 200/s wanted)"
    st status --json | jq -c .auth >"$ST_TMP/auth.json"
    log "broker auth status: $(cat "$ST_TMP/auth.json")"
    checks=$(($(jq -r .checks "$ST_TMP/auth.json") - checks_before))
    refused=$(jq -r '.refused_rate + .refused_in_flight' "$ST_TMP/auth.json")
    logins=$(jq -r .plain_logins "$ST_TMP/auth.json")
    # 20 a second for each of the four addresses (+ a second's burst), and alice's one
    max_checks=$((4 * 20 * (flood_secs + 1) + 1))
    [ "$checks" -le "$max_checks" ] ||
        fail "$checks password checks for $logins logins in ${flood_secs} s: more than the budget allows ($max_checks)"
    [ "$refused" -gt $((attempts / 2)) ] ||
        fail "only $refused of $attempts wrong logins refused by the per-address budget (security.auth_attempts_per_second, auth_checks_per_address)"
    log "flood of $attempts wrong logins in ${flood_secs} s ($still_flooding seen by the broker when alice was done): $checks password checks, $refused refused by the per-address budget; kcat -L p99 $p99 ms < $P99_LIMIT_MS ms"

    broker_log_since_start >"$ST_TMP/broker.log"
    lines=$(grep -c 'SASL PLAIN .* from 127\.0\.0\.2:' "$ST_TMP/broker.log" || true)
    max_lines=$((10 * (flood_secs / 10 + 2)))
    [ "$lines" -le "$max_lines" ] || fail "$lines log lines about 127.0.0.2's logins in ${flood_secs} s (at most $max_lines)"
    assert_contains "$ST_TMP/broker.log" 'SASL PLAIN .* from 127\.0\.0\.2:.*the last such line about 127\.0\.0\.2 for 10 s' \
        "the broker log says when it starts leaving lines out"
    log "broker log: $lines lines about 127.0.0.2's logins"
    stop_broker
elif [ "$PHASE" = hangup ]; then
    FLOODER_PIDS=()
    for src in 127.0.0.3 127.0.0.4; do
        st_bg "$ST_TMP/flood-$src.out" "$ST_TMP/flood-$src.err" \
            "$FLOOD" flood "$SASL_PLAINTEXT_PORT" "$src" 200 30 mallory hangup
        FLOODER_PIDS+=("$ST_BG_PID")
    done
    abandoned() { broker_alive && [ "$(auth_stat abandoned)" -ge 20 ]; }
    wait_until 20 "20 logins abandoned while their password was checked" abandoned
    timeout 30 "$KCAT" -b "127.0.0.1:$PLAINTEXT_PORT" -L >"$ST_TMP/kcat.txt" 2>&1 ||
        fail "kcat -L during a flood of hang-ups: $(tail -n 3 "$ST_TMP/kcat.txt")"
    timeout 60 "$RK_BIN/rk_sasl" roundtrip "127.0.0.1:$SASL_PLAINTEXT_PORT" sasl_plaintext PLAIN alice \
        "$PW_ALICE" - during-hangups 10 >"$ST_TMP/rk.out" 2>"$ST_TMP/rk.err" ||
        { cat "$ST_TMP/rk.err" >&2; fail "alice's PLAIN login during a flood of hang-ups"; }
    log "during the hang-ups: kcat -L answered; $(cat "$ST_TMP/rk.out")"
    log "broker auth status: $(st status --json | jq -c .auth)"
    # SIGTERM while clients keep hanging up on checks in flight: a clean stop, exit 0.
    stop_broker
    for pid in "${FLOODER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" || true # they lose their broker on the way: only the broker is judged
    done
    for f in "$ST_TMP"/flood-*.out; do log "$(grep '^flood ' "$f")"; done
    ! grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error' "$ST_LOG" ||
        fail "a sanitizer report in the broker log: $(grep -m1 -A5 'Sanitizer\|runtime error' "$ST_LOG")"
else
    fail "unknown phase \"$PHASE\" (flood or hangup)"
fi
