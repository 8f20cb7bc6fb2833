# Shared by tests/bench/compare.sh and footprint.sh: where the binaries are, starting and
# stopping straitd (127.0.0.1, --port 0, ipc:// management in a temp dir, stopped by
# pid), and reading a process's memory and CPU from /proc. Source it; it sets -euo
# pipefail and an EXIT trap that stops everything started through it.

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Benchmarks measure an optimised, uninstrumented build: ./build-test (deploy/test.sh)
# carries the sanitizers and fuzzing instrumentation, so by default the benchmarks
# build their own Release tree in ./build-bench (incrementally; the packages are the
# ones deploy/test.sh installed). BUILD_DIR points them at another build instead.
if [ -z "${BUILD_DIR:-}" ]; then
    BUILD_DIR=$BENCH_ROOT/build-bench
    echo "bench: building Release into $BUILD_DIR" >&2
    cmake -S "$BENCH_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
        { echo "bench: cmake failed: run ./deploy/test.sh first (it installs what the build needs)" >&2; exit 2; }
    cmake --build "$BUILD_DIR" -j"$(nproc)" --target straitd strait mock_cluster loopback \
        footprint_client disk_ceiling >/dev/null ||
        { echo "bench: the Release build failed (see: cmake --build $BUILD_DIR)" >&2; exit 2; }
fi
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd || echo "$BUILD_DIR")
STRAITD_BIN=$BUILD_DIR/straitd
STRAIT_BIN=$BUILD_DIR/strait
BENCH_BIN=$BUILD_DIR/tests/bench
CLK_TCK=$(getconf CLK_TCK)

bench_need_builds() {
    local missing=()
    for f in "$STRAITD_BIN" "$STRAIT_BIN" "$BENCH_BIN/mock_cluster" "$BENCH_BIN/loopback" \
        "$BENCH_BIN/footprint_client" "$BENCH_BIN/disk_ceiling"; do
        [ -x "$f" ] || missing+=("$f")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "bench: not built: ${missing[*]}" >&2
        echo "bench: BUILD_DIR=$BUILD_DIR lacks them: build it (cmake -S . -B DIR" \
            "-DCMAKE_BUILD_TYPE=Release && cmake --build DIR), or unset BUILD_DIR" >&2
        exit 2
    fi
}

BENCH_TMP=$(mktemp -d "/tmp/strait-bench-$(basename "$0" .sh)-XXXXXX")
BENCH_PIDS=()
STRAITD_PID=""
STRAITD_PORT=""

bench_cleanup() {
    local rc=$?
    set +e
    for pid in "${BENCH_PIDS[@]}" $STRAITD_PID; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${BENCH_PIDS[@]}" $STRAITD_PID; do
        wait "$pid" 2>/dev/null
    done
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "bench: kept $BENCH_TMP" >&2
    else
        rm -rf "$BENCH_TMP"
    fi
    exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_log() { printf '[%s %s] %s\n' "$(basename "$0" .sh)" "$(date +%T)" "$*" >&2; }
bench_fail() {
    bench_log "FAIL: $*"
    [ -f "$BENCH_TMP/straitd.log" ] && tail -n 20 "$BENCH_TMP/straitd.log" >&2
    exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_straitd DATA_DIR: starts straitd over DATA_DIR; sets STRAITD_PID, STRAITD_PORT,
# STRAITD_BOOTSTRAP, STRAITD_MGMT and STRAITD_READY_MS (launch to ready file). With
# STRAITD_CPUS set (e.g. "0" or "0,1"), straitd runs on those CPUs only (taskset).
start_straitd() {
    local data=$1 ready=$BENCH_TMP/straitd.ready
    STRAITD_MGMT="ipc://$BENCH_TMP/mgmt.ipc"
    cat >"$BENCH_TMP/straitd.cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$data"; log_level = "warn"; };
mgmt = { url = "$STRAITD_MGMT"; };
${STRAITD_EXTRA_CFG:-}
CFG
    rm -f "$ready"
    local t0
    t0=$(now_ms)
    local wrap=()
    [ -n "${STRAITD_CPUS:-}" ] && wrap=(taskset -c "$STRAITD_CPUS")
    "${wrap[@]}" "$STRAITD_BIN" -c "$BENCH_TMP/straitd.cfg" --host 127.0.0.1 --port 0 --data-dir "$data" \
        --mgmt "$STRAITD_MGMT" --ready-file "$ready" >>"$BENCH_TMP/straitd.log" 2>&1 &
    STRAITD_PID=$!
    local deadline=$((t0 + 60000))
    while [ ! -s "$ready" ]; do
        kill -0 "$STRAITD_PID" 2>/dev/null || {
            STRAITD_PID=""
            bench_fail "straitd exited before it was ready"
        }
        [ "$(now_ms)" -lt "$deadline" ] || bench_fail "straitd not ready within 60 s"
        sleep 0.01
    done
    STRAITD_READY_MS=$(($(now_ms) - t0))
    read -r STRAITD_PORT _ <"$ready"
    STRAITD_BOOTSTRAP="127.0.0.1:$STRAITD_PORT"
    bench_log "straitd pid $STRAITD_PID ready on $STRAITD_BOOTSTRAP in ${STRAITD_READY_MS} ms"
}

# stop_straitd: SIGTERM and wait (up to 60 s) for a clean exit.
stop_straitd() {
    [ -n "$STRAITD_PID" ] || return 0
    kill -TERM "$STRAITD_PID"
    local i
    for i in $(seq 600); do
        kill -0 "$STRAITD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$STRAITD_PID" 2>/dev/null && bench_fail "straitd (pid $STRAITD_PID) still running 60 s after SIGTERM"
    wait "$STRAITD_PID" || bench_fail "straitd exited with status $? after SIGTERM"
    STRAITD_PID=""
}

# rss_kib PID: resident set size in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# cpu_ticks PID: user + system clock ticks so far (threads included).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# machine_ticks: "busy iowait total" clock ticks of all CPUs so far (/proc/stat).
machine_ticks() {
    awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, $6, t; exit }' /proc/stat
}

# json_num FILE KEY: a number from perf's flat one-line JSON ("-" if absent).
json_num() {
    local v
    v=$(grep -o "\"$2\":[-0-9.eE+]*" "$1" 2>/dev/null | head -n1 | cut -d: -f2)
    echo "${v:--}"
}

# calc EXPR: floating point arithmetic (awk), printed with up to 2 decimals.
calc() { awk "BEGIN { v = $1; printf (v == int(v) ? \"%d\" : \"%.2f\"), v }"; }

# dirty_mib: the machine's dirty + under-writeback page cache now, in MiB.
dirty_mib() { awk '/^(Dirty|Writeback):/ { kib += $2 } END { printf "%d", kib / 1024 }' /proc/meminfo; }

# wait_clean_memory MIB: waits (up to 180 s) until dirty + writeback is below MIB, so a
# run does not start in what the previous one left for the disk.
wait_clean_memory() {
    local i
    for i in $(seq 1800); do
        [ "$(dirty_mib)" -lt "$1" ] && return 0
        sleep 0.1
    done
    bench_log "note: still $(dirty_mib) MiB dirty or under writeback after 180 s"
}

# dirty_watch_start FILE / dirty_watch_stop / dirty_watch_max_mib FILE: samples dirty +
# writeback (MiB) 10 times a second into FILE while runs go on.
dirty_watch_start() {
    (while :; do dirty_mib; echo; sleep 0.1; done >"$1") &
    DIRTY_WATCH_PID=$!
    BENCH_PIDS+=("$DIRTY_WATCH_PID")
}
dirty_watch_stop() {
    kill -TERM "$DIRTY_WATCH_PID" 2>/dev/null || true
    wait "$DIRTY_WATCH_PID" 2>/dev/null || true
}
dirty_watch_max_mib() { sort -n "$1" | tail -n1; }

# loop_states_start PID SECONDS FILE: samples the main (event loop) thread of PID 20
# times a second for SECONDS: "state wchan" a line (bash builtins only, so the sampler
# costs next to nothing). Sets LOOP_STATES_PID.
loop_states_start() {
    local pid=$1 n=$(($2 * 20)) out=$3
    (for _ in $(seq "$n"); do
        read -r stat <"/proc/$pid/task/$pid/stat" || break
        read -r wchan <"/proc/$pid/task/$pid/wchan" || true
        stat=${stat##*) }
        echo "loop ${stat%% *} ${wchan:-?}"
        sleep 0.05
    done >"$out" 2>/dev/null) &
    LOOP_STATES_PID=$!
}
