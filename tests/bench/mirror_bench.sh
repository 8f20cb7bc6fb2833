#!/usr/bin/env bash
# mirror_bench.sh: strait-mirror's throughput over a WAN link (issue 7, done 5). Two
# straitd "datacenters", dc2 behind tests/tools/netproxy (DELAY_MS each way, 40 by
# default), strait-mirror copying topic "bench" from dc1 to dc2 (prefix naming:
# dc1.bench); with REMOTE=dc1 the link is in front of dc1 instead. A producer writes a steady RATE stream of RECORD_SIZE records to dc1 for
# DURATION seconds; the target's end offsets are sampled twice a second. Goal: the mirror
# keeps up, its throughput >= 0.8x the source produce rate. Prints a markdown row for
# docs/benchmarks.md (and the detail above it), then checks the copy byte for byte.
#
#   bash tests/bench/mirror_bench.sh                  # Release build in ./build-bench
#   BUILD_DIR=/tmp/build bash tests/bench/mirror_bench.sh
#
# Environment: BUILD_DIR, DURATION [20] (s), RATE [20971520] (value bytes/s: 20 MB/s,
# MB = 2^20 as in docs/benchmarks.md), RECORD_SIZE [1024], PARTITIONS [8], DELAY_MS [40],
# REMOTE [dc2] (dc1: the daemon consumes over the link instead of producing over it),
# VERIFY [1] (0: skip the byte-for-byte check). Bounded: the stream is DURATION x RATE
# bytes (400 MiB by default, stored once on each side), and every wait has a deadline.
# Everything listens on 127.0.0.1 and is stopped by pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-20}
RATE=${RATE:-20971520}
RECORD_SIZE=${RECORD_SIZE:-1024}
PARTITIONS=${PARTITIONS:-8}
DELAY_MS=${DELAY_MS:-40}
REMOTE=${REMOTE:-dc2}
VERIFY=${VERIFY:-1}

mb_log() { printf '[mirror_bench %s] %s\n' "$(date +%T)" "$*" >&2; }
mb_fail() {
    mb_log "FAIL: $*"
    exit 1
}
[ "$REMOTE" = dc1 ] || [ "$REMOTE" = dc2 ] || mb_fail "REMOTE must be dc1 or dc2, not $REMOTE"
command -v jq >/dev/null || mb_fail "jq is needed (apt-get install jq)"

if [ -z "${BUILD_DIR:-}" ]; then
    BUILD_DIR=$ROOT/build-bench
    mb_log "building Release into $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || mb_fail "cmake failed"
    cmake --build "$BUILD_DIR" -j"$(nproc)" --target straitd strait strait-mirror netproxy \
        rk_mirror_check >/dev/null || mb_fail "the Release build failed (cmake --build $BUILD_DIR)"
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
STRAITD=$BUILD_DIR/straitd
STRAIT=$BUILD_DIR/strait
MIRROR=$BUILD_DIR/strait-mirror
NETPROXY=$BUILD_DIR/tests/tools/netproxy
RK=$BUILD_DIR/tests/integration/rk_mirror_check
for f in "$STRAITD" "$STRAIT" "$MIRROR" "$NETPROXY" "$RK"; do
    [ -x "$f" ] || mb_fail "not built: $f (BUILD_DIR=$BUILD_DIR)"
done

TMP=$(mktemp -d /tmp/strait-bench-mirror-XXXXXX)
PIDS=()
cleanup() {
    local rc=$? pid
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/mirror.log "$TMP"/dc1/straitd.log "$TMP"/dc2/straitd.log; do
            [ -f "$f" ] && { echo "---- $f ----" >&2; tail -n 15 "$f" >&2; }
        done
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

COUNT=$((DURATION * RATE / RECORD_SIZE))
BYTES=$((COUNT * RECORD_SIZE))
avail_kib=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
[ "$avail_kib" -gt $((BYTES / 1024 * 3)) ] ||
    mb_fail "only $((avail_kib / 1024)) MiB free under $TMP; the run stores $((BYTES / 1048576)) MiB twice"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the two datacenters and the link ----
"$NETPROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --delay-ms "$DELAY_MS" \
    --control "$TMP/proxy.ctl" --ready-file "$TMP/proxy.ready" 2>"$TMP/netproxy.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TMP/proxy.ready" ] && break; sleep 0.05; done
[ -s "$TMP/proxy.ready" ] || mb_fail "netproxy did not start: $(cat "$TMP/netproxy.log")"
PROXY_PORT=$(cat "$TMP/proxy.ready")
declare -A BOOT
start_dc() { # NAME [wan]
    local name=$1 dir=$TMP/$1 adv=""
    mkdir -p "$dir"
    [ "${2:-}" = wan ] && adv="advertised_port = $PROXY_PORT;"
    cat >"$dir/straitd.cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$dir/data"; log_level = "warn"; $adv };
mgmt = { url = "ipc://$dir/mgmt.ipc"; };
CFG
    "$STRAITD" -c "$dir/straitd.cfg" --host 127.0.0.1 --port 0 --data-dir "$dir/data" \
        --mgmt "ipc://$dir/mgmt.ipc" --ready-file "$dir/ready" >>"$dir/straitd.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do [ -s "$dir/ready" ] && break; sleep 0.05; done
    [ -s "$dir/ready" ] || mb_fail "straitd $name did not start"
    local port
    read -r port _ <"$dir/ready"
    BOOT[$name]=127.0.0.1:$port
    if [ "${2:-}" = wan ]; then
        timeout 10 "$NETPROXY" --control "$TMP/proxy.ctl" --send "target 127.0.0.1:$port" >/dev/null ||
            mb_fail "netproxy target failed"
        BOOT[$name]=127.0.0.1:$PROXY_PORT
    fi
    mb_log "$name: straitd on 127.0.0.1:$port${adv:+, reached through the ${DELAY_MS} ms link at ${BOOT[$name]}}"
}
if [ "$REMOTE" = dc2 ]; then
    start_dc dc1
    start_dc dc2 wan
else
    start_dc dc1 wan
    start_dc dc2
fi

"$RK" produce "${BOOT[dc1]}" bench a 0 0 "$PARTITIONS" --create >/dev/null || mb_fail "creating bench on dc1 failed"
MGMT="ipc://$TMP/mirror.ipc"
TOKEN=bench-token
cat >"$TMP/mirror.cfg" <<CFG
clusters = ( { alias = "dc1"; bootstrap = "${BOOT[dc1]}"; },
             { alias = "dc2"; bootstrap = "${BOOT[dc2]}"; } );
flows = ( { source = "dc1"; target = "dc2"; topics = [ "bench" ]; naming = "prefix";
            sync_interval_ms = 5000; checkpoint_interval_ms = 5000; heartbeat_interval_ms = 1000; } );
mgmt = { url = "$MGMT"; token = "$TOKEN"; };
state_dir = "$TMP/mirror-state";
log_level = "warn";
CFG
"$MIRROR" -c "$TMP/mirror.cfg" --ready-file "$TMP/mirror.ready" >>"$TMP/mirror.log" 2>&1 &
MIRROR_PID=$!
PIDS+=("$MIRROR_PID")
for _ in $(seq 300); do [ -s "$TMP/mirror.ready" ] && break; sleep 0.05; done
[ -s "$TMP/mirror.ready" ] || mb_fail "strait-mirror did not start: $(tail -n 5 "$TMP/mirror.log")"
status() { timeout 20 "$STRAIT" mirror status 'dc1->dc2' --json --mgmt "$MGMT" --token "$TOKEN"; }
count() { timeout 20 "$RK" count "${BOOT[$1]}" "$2" | cut -d' ' -f1; }
deadline=$(($(date +%s) + 30))
until [ "$(timeout 20 "$RK" count "${BOOT[dc2]}" dc1.bench | cut -d' ' -f2)" = "$PARTITIONS" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || mb_fail "dc1.bench not created on dc2 within 30 s"
    sleep 0.2
done
mb_log "strait-mirror pid $MIRROR_PID is mirroring bench → dc2:dc1.bench"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# ---- the stream ----
mb_log "producing $COUNT records of $RECORD_SIZE bytes ($((BYTES / 1048576)) MiB) at $RATE B/s for ~${DURATION} s"
T0=$(now_ms)
C0=$(cpu_ticks "$MIRROR_PID")
"$RK" produce "${BOOT[dc1]}" bench a 0 "$COUNT" "$PARTITIONS" --size "$RECORD_SIZE" --rate "$RATE" \
    >"$TMP/produce.txt" 2>"$TMP/produce.err" &
PROD=$!
PIDS+=("$PROD")
: >"$TMP/samples.txt" # t_ms src tgt
prod_end=""
hard_deadline=$((T0 + DURATION * 1000 * 3 + 30000))
while :; do
    t=$(now_ms)
    # the target first: its read crosses the link, and a lag figure should not flatter
    tgt=$(count dc2 dc1.bench || echo -1)
    src=$(count dc1 bench || echo -1)
    echo "$((t - T0)) $src $tgt" >>"$TMP/samples.txt"
    if [ -z "$prod_end" ] && ! kill -0 "$PROD" 2>/dev/null; then
        wait "$PROD" || mb_fail "the producer failed: $(cat "$TMP/produce.err")"
        prod_end=$(($(now_ms) - T0))
        mb_log "dc1: $(cat "$TMP/produce.txt")"
    fi
    [ -n "$prod_end" ] && [ "$tgt" -ge "$COUNT" ] && break
    [ "$t" -lt "$hard_deadline" ] || { mb_log "the target did not catch up by the deadline"; break; }
    sleep 0.5
done
T_DONE=$(($(now_ms) - T0))
C1=$(cpu_ticks "$MIRROR_PID")
status >"$TMP/status.json" || echo '{}' >"$TMP/status.json"
tgt_final=$(count dc2 dc1.bench)

# ---- figures ----
read -r src_rate_txt < <(sed -n 's/.* \([0-9.]*\) MB\/s$/\1/p' "$TMP/produce.txt")
src_mbs=${src_rate_txt:-0}
# the target reached COUNT at the first sample holding it (or not at all)
t_all=$(awk -v n="$COUNT" '$3 >= n { print $1; exit }' "$TMP/samples.txt")
e2e_mbs=$(awk -v b="$((tgt_final * RECORD_SIZE))" -v t="${t_all:-$T_DONE}" 'BEGIN { printf "%.2f", b / 1048576 / (t / 1000) }')
# steady state: the middle half of the produce time, source and target rates over it
read -r steady_src steady_tgt < <(awk -v a=$((prod_end / 4)) -v b=$((prod_end * 3 / 4)) -v s="$RECORD_SIZE" '
    $1 >= a && !x { xa = $1; sa = $2; ta = $3; x = 1 }
    $1 <= b { xb = $1; sb = $2; tb = $3 }
    END { d = (xb - xa) / 1000; if (d <= 0) { print "0 0"; exit }
          printf "%.2f %.2f\n", (sb - sa) * s / 1048576 / d, (tb - ta) * s / 1048576 / d }' "$TMP/samples.txt")
max_lag=$(awk 'BEGIN { m = 0 } $2 - $3 > m { m = $2 - $3 } END { print m }' "$TMP/samples.txt")
# (parentheses: a bare ">" in an awk print is a redirection)
ratio=$(awk -v m="$steady_tgt" -v s="$steady_src" 'BEGIN { printf "%.2f", (s > 0) ? m / s : 0 }')
ratio_e2e=$(awk -v m="$e2e_mbs" -v s="$src_mbs" 'BEGIN { printf "%.2f", (s > 0) ? m / s : 0 }')
met=$(awk -v r="$ratio" -v n="$tgt_final" -v c="$COUNT" 'BEGIN { print ((r >= 0.8 && n >= c) ? "yes" : "NO") }')
cpu=$(awk -v c="$((C1 - C0))" -v t="$T_DONE" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", 100 * c / hz / (t / 1000) }')
p50=$(jq -r '.latency_ms.p50 // "?"' "$TMP/status.json")
p99=$(jq -r '.latency_ms.p99 // "?"' "$TMP/status.json")
# sampled twice a second while the producer's end is noticed a sample late: a negative
# difference means the target was complete within a sample of the last produce
catchup=$((${t_all:-$T_DONE} - prod_end))
[ "$catchup" -ge 0 ] || catchup=0
if [ "$REMOTE" = dc2 ]; then
    link="${DELAY_MS} ms link, daemon next to dc1, produces over it"
else
    link="${DELAY_MS} ms link, daemon next to dc2, consumes over it (the source producer crosses it too)"
fi

mb_log "source: $COUNT records, $src_mbs MB/s (producer's own figure); steady source $steady_src MB/s"
mb_log "target: $tgt_final records; steady mirror $steady_tgt MB/s (ratio $ratio); all on the target at" \
    "$((${t_all:-$T_DONE})) ms ($catchup ms after the producer finished): end to end $e2e_mbs MB/s (ratio $ratio_e2e)"
mb_log "max lag sampled: $max_lag records; strait-mirror CPU $cpu% of a core; heartbeat latency p50 $p50 ms p99 $p99 ms"
[ "$tgt_final" -ge "$COUNT" ] || mb_log "WARNING: only $tgt_final of $COUNT records reached the target"

if [ "$VERIFY" = 1 ] && [ "$tgt_final" -ge "$COUNT" ]; then
    "$RK" verify "${BOOT[dc2]}" dc1.bench --expect "a:$COUNT:$PARTITIONS:dc1:exact" --size "$RECORD_SIZE" \
        --wait-ms 1000 >"$TMP/verify.txt" 2>&1 || {
        tail -n 25 "$TMP/verify.txt" >&2
        mb_fail "the mirrored copy is not byte for byte the source"
    }
    mb_log "verified: $(tail -n 1 "$TMP/verify.txt")"
fi

# The table goes to stdout and, unless OUT=-, replaces the mirror section at the end of
# docs/benchmarks.md (everything after MARK; compare.sh keeps that section when it
# regenerates the rest).
OUT=${OUT:-$ROOT/docs/benchmarks.md}
MARK='<!-- mirror_bench.sh writes below this line; compare.sh keeps it -->'
{
    echo
    echo "| workload | metric | straitd | mock | ratio | goal | met? |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    echo "| M1 mirror, $((RECORD_SIZE / 1024)) KiB, $PARTITIONS part, $link | MB/s mirrored / source produce (steady, middle half of ${DURATION} s) | $steady_tgt / $steady_src | - | $ratio | >= 0.8x source | $met |"
    echo "| M1 | end to end: all $COUNT records on dc2 (ms after the first produce; after the last) | $((${t_all:-$T_DONE})) ($catchup) | - | $ratio_e2e | - | - |"
    echo "| M1 | max lag sampled (records); heartbeat latency p50 / p99 (ms); daemon CPU (% of a core) | $max_lag; $p50 / $p99; $cpu | - | - | - | - |"
    echo
    echo "command: DURATION=$DURATION RATE=$RATE REMOTE=$REMOTE BUILD_DIR=$BUILD_DIR bash tests/bench/mirror_bench.sh"
} >"$TMP/table.md"
cat "$TMP/table.md"
if [ "$OUT" != - ] && [ -f "$OUT" ]; then
    {
        awk -v m="$MARK" '$0 == m {exit} {print}' "$OUT" # the rest: compare.sh's part
        echo "$MARK"
        echo
        echo "## Mirror (strait-mirror over a WAN link)"
        echo
        echo "Generated by \`tests/bench/mirror_bench.sh\` (issue 7) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
        echo "$(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)). Two straitd on"
        echo "127.0.0.1, a netproxy link of ${DELAY_MS} ms each way, a steady producer; \"mock\" does not apply."
        cat "$TMP/table.md"
        # other benchmarks' blocks after this section (console_bench.sh's): kept
        awk '/^<!-- [a-z_]+\.sh: begin -->$/ {on = 1} on {print} /^<!-- [a-z_]+\.sh: end -->$/ {on = 0}' "$OUT"
    } >"$TMP/benchmarks.md"
    mv "$TMP/benchmarks.md" "$OUT"
    mb_log "wrote the mirror section of $OUT"
fi
