#!/usr/bin/env bash
# ab_produce.sh OLD_BUILD NEW_BUILD ROUNDS PERF_ARGS...: the same `strait perf produce`
# run against the straitd of two builds, alternated (old, new, old, new, ...) so that a
# busy moment of a shared machine hurts both alike. Each run gets a fresh data directory.
# Prints, per run, records/s, MB/s and straitd's CPU (from /proc) as % of a core and as
# ms per GiB of payload acknowledged, then the median of each per build.
#
#   BUILD_DIR=build-bench bash tests/bench/ab_produce.sh /tmp/old/build build-bench 3 \
#       --topic ab --partitions 16 --record-size 1024 --acks 1 --duration 10 --compression lz4
#
# NEW_ARGS (environment): more perf arguments for the new build's runs only, to compare a
# setting with one build (OLD_BUILD = NEW_BUILD), e.g.
#   NEW_ARGS="--topic-config compression.type=zstd" bash tests/bench/ab_produce.sh \
#       build-bench build-bench 3 --topic ab --partitions 16 --record-size 1024 --duration 10
# The client is NEW_BUILD's strait. Everything listens on 127.0.0.1, stopped by pid.
[ $# -ge 4 ] || { echo "usage: ab_produce.sh OLD_BUILD NEW_BUILD ROUNDS PERF_ARGS..." >&2; exit 2; }
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=$3
shift 3
export BUILD_DIR=$NEW
. "$(dirname "$0")/bench_lib.sh"

printf '%-4s %-5s %12s %8s %10s %12s\n' build round records/s MB/s "cpu %" "cpu ms/GiB"
results=()
for round in $(seq "$ROUNDS"); do
    for which in old new; do
        dir=$OLD
        extra=()
        if [ "$which" = new ]; then
            dir=$NEW
            read -r -a extra <<<"${NEW_ARGS:-}"
        fi
        STRAITD_BIN=$dir/straitd
        data=$BENCH_TMP/data-$which-$round
        start_straitd "$data"
        c0=$(cpu_ticks "$STRAITD_PID")
        t0=$(date +%s%N)
        json=$BENCH_TMP/$which-$round.json
        timeout 300 "$STRAIT_BIN" perf produce --bootstrap "$STRAITD_BOOTSTRAP" --json -q \
            -X queue.buffering.max.kbytes=65536 "$@" "${extra[@]}" >"$json" 2>"$BENCH_TMP/$which-$round.err" ||
            bench_log "$which round $round: strait perf exited $?: $(tail -n 2 "$BENCH_TMP/$which-$round.err" | tr '\n' ' ')"
        c1=$(cpu_ticks "$STRAITD_PID")
        t1=$(date +%s%N)
        stop_straitd
        rm -rf "$data"
        rps=$(json_num "$json" records_per_sec)
        mbs=$(json_num "$json" mb_per_sec)
        secs=$(json_num "$json" seconds)
        cpu=$(calc "100 * ($c1 - $c0) / $CLK_TCK / (($t1 - $t0) / 1e9)")
        # CPU ms per GiB of payload: (cpu seconds * 1000) / (MB/s * seconds / 1024)
        per_gib=$(calc "($c1 - $c0) / $CLK_TCK * 1000 / ($mbs * $secs / 1024)")
        printf '%-4s %-5s %12.0f %8.1f %10s %12s\n' "$which" "$round" "$rps" "$mbs" "$cpu" "$per_gib"
        results+=("$which $rps $per_gib")
    done
done
# median VALUES...: the middle one (the lower middle of an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for which in old new; do
    mapfile -t r < <(printf '%s\n' "${results[@]}" | awk -v w="$which" '$1 == w { print $2 }')
    mapfile -t c < <(printf '%s\n' "${results[@]}" | awk -v w="$which" '$1 == w { print $3 }')
    printf 'median %s: %.0f records/s, straitd %s CPU ms per GiB of payload (%d runs)\n' \
        "$which" "$(median "${r[@]}")" "$(median "${c[@]}")" "${#r[@]}"
done
