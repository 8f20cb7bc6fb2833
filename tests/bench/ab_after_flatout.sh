#!/usr/bin/env bash
# ab_after_flatout.sh OLD_BUILD NEW_BUILD ROUNDS: W2 (1 KiB, 16 partitions, acks=all,
# 50,000 records/s, end to end) run right after a flat-out W3 (1 KiB, 16 partitions,
# acks=1), while the disk is still writing back what W3 left in memory — against the
# straitd of two builds, alternated (old, new, old, new, ...) so that a busy moment of a
# shared machine hurts both alike. Each pair starts from a fresh data directory once the
# machine's dirty pages are below 64 MiB again.
#
#   BUILD_DIR=build-bench bash tests/bench/ab_after_flatout.sh /tmp/old/build build-bench 3
#
# Prints per run W3's MB/s, W2's end-to-end p50/p99/p99.9/max, the most dirty +
# writeback memory seen, and where straitd's loop thread was during W2 (sampled 20
# times a second from /proc: how often it slept in the kernel's dirty-page throttle,
# balance_dirty_pages). FLAT_SECONDS (default 10) sets W3's length. The client is
# NEW_BUILD's strait. Everything listens on 127.0.0.1 and is stopped by pid.
[ $# -ge 3 ] || { echo "usage: ab_after_flatout.sh OLD_BUILD NEW_BUILD ROUNDS" >&2; exit 2; }
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=$3
export BUILD_DIR=$NEW
. "$(dirname "$0")/bench_lib.sh"
FLAT_SECONDS=${FLAT_SECONDS:-10}

printf '%-4s %-5s %9s %8s %8s %8s %8s %10s %s\n' build round "W3 MB/s" "W2 p50" p99 p99.9 max \
    "dirty MiB" "loop thread during W2"
for round in $(seq "$ROUNDS"); do
    for which in old new; do
        dir=$OLD
        [ "$which" = new ] && dir=$NEW
        wait_clean_memory 64
        STRAITD_BIN=$dir/straitd
        data=$BENCH_TMP/data-$which-$round
        start_straitd "$data"
        for t in flat w2; do
            "$STRAIT_BIN" --mgmt "$STRAITD_MGMT" --data-dir "$data" --bootstrap "$STRAITD_BOOTSTRAP" topics create $t --partitions 16 \
                >/dev/null || bench_fail "cannot create topic $t"
        done
        dirty_watch_start "$BENCH_TMP/dirty-$which-$round"
        timeout 300 "$STRAIT_BIN" perf produce --bootstrap "$STRAITD_BOOTSTRAP" --json -q \
            -X queue.buffering.max.kbytes=65536 --topic flat --record-size 1024 --partitions 16 \
            --acks 1 --duration "$FLAT_SECONDS" >"$BENCH_TMP/flat-$which-$round.json" 2>/dev/null ||
            bench_log "$which round $round: the flat-out run failed"
        loop_states_start "$STRAITD_PID" 10 "$BENCH_TMP/states-$which-$round"
        timeout 300 "$STRAIT_BIN" perf e2e --bootstrap "$STRAITD_BOOTSTRAP" --json -q \
            -X queue.buffering.max.kbytes=65536 --topic w2 --record-size 1024 --partitions 16 \
            --acks all --throughput 50000 --duration 10 --linger-ms 0 \
            >"$BENCH_TMP/w2-$which-$round.json" 2>/dev/null ||
            bench_log "$which round $round: W2 failed"
        wait "$LOOP_STATES_PID" 2>/dev/null || true
        dirty_watch_stop
        stop_straitd
        rm -rf "$data"
        j=$BENCH_TMP/w2-$which-$round.json
        states=$BENCH_TMP/states-$which-$round
        total=$(wc -l <"$states")
        throttled=$(grep -c balance_dirty_pages "$states" || true)
        disk=$(grep -c ' D ' "$states" || true)
        printf '%-4s %-5s %9s %8s %8s %8s %8s %10s %s\n' "$which" "$round" \
            "$(json_num "$BENCH_TMP/flat-$which-$round.json" mb_per_sec)" \
            "$(json_num "$j" latency_p50_ms)" "$(json_num "$j" latency_p99_ms)" \
            "$(json_num "$j" latency_p999_ms)" "$(json_num "$j" latency_max_ms)" \
            "$(dirty_watch_max_mib "$BENCH_TMP/dirty-$which-$round")" \
            "$throttled of $total samples in balance_dirty_pages, $disk in D state"
    done
done
