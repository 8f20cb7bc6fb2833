#!/usr/bin/env bash
# compare.sh: the benchmark of issue 6. Runs the workloads W1..W11 with `strait perf`
# against a fresh straitd and, with the same client settings, against librdkafka's mock
# cluster (in memory, no durability), measures the raw loopback TCP ceiling, the disk's
# sustained write ceiling and the memory/idle footprint (footprint.sh), prints one table and writes it, with the
# command, date and machine, to docs/benchmarks.md.
#
#   bash tests/bench/compare.sh            # after ./deploy/test.sh (which installs packages)
#   BUILD_DIR=/tmp/build bash tests/bench/compare.sh
#
# Environment: BUILD_DIR (default: a Release build it makes in ./build-bench),
# DURATION (seconds a flat-out workload runs, default 10), OUT (default docs/benchmarks.md; "-" writes nothing),
# SKIP_FOOTPRINT=1, PROFILE=0 (skip the perf profile of straitd during W3),
# W6_BYTES (backlog of W6, default 2 GiB), DISK_ROUNDS (1 GiB rounds of the disk ceiling,
# default 3), BURST_RECORDS (records of 1 KiB a burst sends, default 300000).
#
# Builds nothing. Everything listens on 127.0.0.1 and is stopped by pid.
. "$(dirname "$0")/bench_lib.sh"

DURATION=${DURATION:-10}
W6_BYTES=${W6_BYTES:-2147483648}
OUT=${OUT:-$BENCH_ROOT/docs/benchmarks.md}
COMMAND="BUILD_DIR=$BUILD_DIR bash tests/bench/compare.sh"
T_START=$(date +%s)
bench_need_builds

# ---- the disk: W6 keeps a 2 GiB backlog; flat-out topics are deleted after each run ----
avail_kib=$(df -Pk "$BENCH_TMP" | awk 'NR == 2 { print $4 }')
need_kib=$((W6_BYTES / 1024 * 3 / 2))
if [ "$avail_kib" -lt "$need_kib" ]; then
    bench_log "only $((avail_kib / 1024)) MiB free under $BENCH_TMP: W6 needs ~$((need_kib / 1024)) MiB" \
        "(a $((W6_BYTES / 1048576)) MiB backlog); free some space or set W6_BYTES smaller"
    exit 1
fi
[ "$avail_kib" -ge $((10 * 1024 * 1024)) ] ||
    bench_log "note: $((avail_kib / 1048576)) GiB free; a flat-out workload may write several GiB before its topic is deleted"

# ---- the machine ----
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MACHINE="$(nproc) cores ($CPU_MODEL), $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
bench_log "machine: $MACHINE"

# Is the machine idle? Anything else running skews every figure (with 2 cores, one busy
# process elsewhere halves what client and broker share). Measured, and said in the doc.
read -r ib0 _ ia0 <<<"$(machine_ticks)"
sleep 2
read -r ib1 _ ia1 <<<"$(machine_ticks)"
BASELINE_BUSY=$(calc "100 * $(nproc) * ($ib1 - $ib0) / ($ia1 - $ia0)")
BASELINE_NOTE="the machine was idle before the run (${BASELINE_BUSY}% of a core busy)"
if awk "BEGIN { exit !($BASELINE_BUSY > 20) }"; then
    HOGS=$(ps -eo pcpu=,pid=,comm= --sort=-pcpu | awk '$1 > 20 { printf "%s%s (pid %s, %s%%)", n++ ? ", " : "", $3, $2, $1 }')
    BASELINE_NOTE="**the machine was NOT idle: ${BASELINE_BUSY}% of a core was busy before the run started** (${HOGS:-?}); every figure below is depressed by that"
    bench_log "WARNING: ${BASELINE_BUSY}% of a core busy before the run: ${HOGS:-?}"
fi

# ---- warm memory, and the disk ceiling ----
# On these VMs memory the machine has not touched since boot takes writes at a tenth of
# the speed of touched memory, which would make the first runs look slow. disk_ceiling
# writes DISK_ROUNDS x 1 GiB (a segment's default size) with fdatasync into the file
# system the data directory lives on, and deletes each file: that touches the memory, the
# freed pages go back to the page cache's free pool, and the median round is the disk's
# sustained write ceiling. It also prints the dirty-page budget (broker/log/writeback.c):
# a produce run that writes more than it is bound by the disk, not by memory.
"$BENCH_BIN/disk_ceiling" "$BENCH_TMP" --size-mib 1024 --rounds "${DISK_ROUNDS:-3}" --json \
    >"$BENCH_TMP/disk.json" || bench_fail "disk_ceiling failed"
DISK_MBS=$(json_num "$BENCH_TMP/disk.json" mb_per_sec)
DIRTY_LIMIT=$(json_num "$BENCH_TMP/disk.json" limit_bytes)
bench_log "disk ceiling: $DISK_MBS MiB/s (rounds: $(grep -o '"rounds":\[[^]]*' "$BENCH_TMP/disk.json" | cut -d[ -f2));" \
    "dirty-page budget $((DIRTY_LIMIT / 1048576)) MiB"

# Identical client settings for both targets. The queue is capped at 64 MiB (librdkafka's
# default is 1 GiB) so a flat-out run measures the broker, not how much the client can
# buffer before its final flush.
CLIENT_X=(-X queue.buffering.max.kbytes=65536)

# ---- targets ----
DATA=$BENCH_TMP/data
start_straitd "$DATA"
# The mock does not serve CreateTopics: its topics are made when it starts.
"$BENCH_BIN/mock_cluster" --topic w1:1 --topic w2:16 --topic w3:16 --topic w4:1000 \
    --topic w5:16 --topic w8:16 --topic b1:1 --topic b16:16 --topic w9:16 --topic w10:16 --ready-file "$BENCH_TMP/mock.ready" \
    >"$BENCH_TMP/mock.out" 2>"$BENCH_TMP/mock.err" &
MOCK_PID=$!
BENCH_PIDS+=("$MOCK_PID")
for _ in $(seq 100); do [ -s "$BENCH_TMP/mock.ready" ] && break; sleep 0.1; done
[ -s "$BENCH_TMP/mock.ready" ] || bench_fail "mock_cluster did not start: $(cat "$BENCH_TMP/mock.err")"
MOCK_BOOTSTRAP=$(cat "$BENCH_TMP/mock.ready")
bench_log "mock cluster pid $MOCK_PID on $MOCK_BOOTSTRAP"

# ---- the loopback ceiling ----
"$BENCH_BIN/loopback" 5 --json >"$BENCH_TMP/loopback.json"
LOOPBACK_MBS=$(json_num "$BENCH_TMP/loopback.json" mb_per_sec)
bench_log "loopback ceiling: $LOOPBACK_MBS MB/s"

# run_perf NAME TARGET(straitd|mock) MODE ARGS...: one strait perf run; the result JSON
# goes to $BENCH_TMP/NAME.TARGET.json, the server's CPU (% of one core, averaged over
# the run) to NAME.TARGET.cpu. A run that fails still leaves its JSON if it printed one.
run_perf() {
    local name=$1 target=$2 mode=$3
    shift 3
    local bootstrap=$STRAITD_BOOTSTRAP pid=$STRAITD_PID
    if [ "$target" = mock ]; then
        bootstrap=$MOCK_BOOTSTRAP
        pid=$MOCK_PID
    fi
    local json=$BENCH_TMP/$name.$target.json
    bench_log "$name on $target: strait perf $mode $*"
    local t0 c0 m0 rc=0
    t0=$(date +%s%N)
    c0=$(cpu_ticks "$pid")
    m0=$(machine_ticks)
    timeout 600 "$STRAIT_BIN" perf "$mode" --bootstrap "$bootstrap" --json -q "${CLIENT_X[@]}" "$@" \
        >"$json" 2>"$BENCH_TMP/$name.$target.err" || rc=$?
    local c1 t1
    c1=$(cpu_ticks "$pid")
    t1=$(date +%s%N)
    calc "100 * ($c1 - $c0) / $CLK_TCK / (($t1 - $t0) / 1e9)" >"$BENCH_TMP/$name.$target.cpu"
    # the whole machine: busy and iowait as % of one core (N cores: up to N x 100)
    local m1
    m1=$(machine_ticks)
    read -r b0 w0 a0 <<<"$m0"
    read -r b1 w1 a1 <<<"$m1"
    echo "$(calc "100 * $(nproc) * ($b1 - $b0) / ($a1 - $a0)") $(calc "100 * $(nproc) * ($w1 - $w0) / ($a1 - $a0)")" \
        >"$BENCH_TMP/$name.$target.machine"
    if [ "$rc" -ne 0 ]; then
        bench_log "$name on $target: strait perf exited $rc: $(tail -n 3 "$BENCH_TMP/$name.$target.err" | tr '\n' ' ')"
        echo "$rc" >"$BENCH_TMP/$name.$target.rc"
    fi
}

# delete_topic T: frees the disk a flat-out run filled.
delete_topic() {
    "$STRAIT_BIN" --mgmt "$STRAITD_MGMT" --data-dir "$DATA" --bootstrap "$STRAITD_BOOTSTRAP" topics delete "$1" >/dev/null 2>&1 ||
        bench_log "note: could not delete topic $1 on straitd"
}

# ---- the workloads ----
KIB=1024
FLAT=(--duration "$DURATION")
W1=(--record-size 100 --partitions 1 --acks 1 "${FLAT[@]}")
W2=(--record-size $KIB --partitions 16 --acks all --throughput 50000 --duration 10 --linger-ms 0)
W3=(--record-size $KIB --partitions 16 --acks 1 "${FLAT[@]}")
W4=(--record-size $KIB --partitions 1000 --acks 1 "${FLAT[@]}")
W5=(--record-size $((64 * KIB)) --partitions 16 --acks 1 "${FLAT[@]}")
# Bursts: 300 MB that fit in memory, into topics made before the run on both sides (the
# mock makes its topics at start; straitd's are created with the CLI), so they measure
# the broker, not the disk or topic creation.
BURST=(--record-size $KIB --acks 1 --records "${BURST_RECORDS:-300000}")
# 50 producers share W3's 64 MiB of client buffer (1.3 MiB each), or the final flush of
# 50 full queues would dominate the run
W8=(--record-size $KIB --partitions 16 --acks 1 --producers 50 -X queue.buffering.max.kbytes=1310 "${FLAT[@]}")
# W9, W10: W3 compressed by the producer; straitd decompresses every batch to check its
# records before appending (the mock does not look inside). W11: W3 uncompressed into a
# topic with compression.type=zstd, so straitd compresses every batch on append.
W9=("${W3[@]}" --compression lz4)
W10=("${W3[@]}" --compression zstd)
W11=("${W3[@]}" --topic-config compression.type=zstd)

for target in straitd mock; do
    if [ "$target" = straitd ]; then
        for b in b1:1 b16:16; do
            "$STRAIT_BIN" --mgmt "$STRAITD_MGMT" --data-dir "$DATA" --bootstrap "$STRAITD_BOOTSTRAP" topics create "${b%:*}" \
                --partitions "${b#*:}" >/dev/null || bench_fail "cannot create topic ${b%:*}"
        done
    fi
    wait_clean_memory 256
    run_perf b1 $target produce --topic b1 --partitions 1 "${BURST[@]}"
    wait_clean_memory 256
    run_perf b16 $target produce --topic b16 --partitions 16 "${BURST[@]}"
    run_perf w1 $target produce --topic w1 "${W1[@]}"
    PROFILE_NOW=0
    if [ "$target" = straitd ] && [ "${PROFILE:-1}" = 1 ] && command -v perf >/dev/null; then
        PROFILE_NOW=1
        # a software clock (no hardware counters in most VMs), the middle of the run
        (sleep 2 && perf record -e cpu-clock -F 999 -g -p "$STRAITD_PID" -o "$BENCH_TMP/perf.data" \
            -- sleep $((DURATION > 6 ? DURATION - 4 : 2)) >"$BENCH_TMP/perf-record.log" 2>&1) &
        PERF_PID=$!
    fi
    if [ "$target" = straitd ]; then
        # bash builtins only (no fork a sample), so the sampler costs next to nothing
        (sleep 2
            for _ in $(seq $((DURATION > 6 ? (DURATION - 4) * 20 : 40))); do
                for t in /proc/"$STRAITD_PID"/task/*; do
                    read -r stat <"$t/stat" || continue
                    read -r wchan <"$t/wchan" || true
                    stat=${stat##*) }
                    echo "thread ${t##*/} state ${stat%% *} in ${wchan:-?}"
                done
                sleep 0.05
            done >"$BENCH_TMP/w3.states" 2>/dev/null) &
        SAMPLER_PID=$!
    fi
    run_perf w3 $target produce --topic w3 "${W3[@]}"
    [ "$target" = straitd ] && { wait "$SAMPLER_PID" || true; }
    [ "$PROFILE_NOW" = 1 ] && { wait "$PERF_PID" || bench_log "perf record failed: $(tail -n 2 "$BENCH_TMP/perf-record.log")"; }
    # W2 right after the flat-out W3, while the disk still writes back what W3 left
    dirty_mib >"$BENCH_TMP/w2.$target.dirty"
    run_perf w2 $target e2e --topic w2 "${W2[@]}"
    run_perf w4 $target produce --topic w4 "${W4[@]}"
    run_perf w5 $target produce --topic w5 "${W5[@]}"
    run_perf w8 $target produce --topic w8 "${W8[@]}"
    run_perf w9 $target produce --topic w9 "${W9[@]}"
    run_perf w10 $target produce --topic w10 "${W10[@]}"
    if [ "$target" = straitd ]; then
        run_perf w11 straitd produce --topic w11 "${W11[@]}"
        for t in w1 w3 w4 w5 w8 w9 w10 w11; do delete_topic $t; done
        run_perf w7 straitd produce --topic w7 --topic-config flush.messages=1 "${W3[@]}"
        delete_topic w7
        # W6: a backlog of W6_BYTES in 64 KiB records, then one consumer reads it all.
        # Large records, as the loopback ceiling uses large writes: the figure is then
        # the broker's fetch path (sendfile), not the client's per-record cost.
        run_perf w6fill straitd produce --topic w6 --record-size $((64 * KIB)) --partitions 16 \
            --acks 1 --records $((W6_BYTES / (64 * KIB)))
        run_perf w6 straitd consume --topic w6
        delete_topic w6
    fi
done

# ---- straitd on one core against two: the 16-partition burst, straitd pinned with
# taskset (the client is not), alternated 1 2 1 2 on a fresh data directory each ----
stop_straitd
for run in c1a:0 c2a:0,1 c1b:0 c2b:0,1; do
    rm -rf "$DATA"
    STRAITD_CPUS=${run#*:} start_straitd "$DATA"
    "$STRAIT_BIN" --mgmt "$STRAITD_MGMT" --data-dir "$DATA" --bootstrap "$STRAITD_BOOTSTRAP" topics create b16 --partitions 16 \
        >/dev/null || bench_fail "cannot create topic b16"
    wait_clean_memory 256
    run_perf "${run%:*}" straitd produce --topic b16 --partitions 16 "${BURST[@]}"
    stop_straitd
done

# ---- the table ----
ROWS=()
# row WORKLOAD METRIC STRAITD MOCK RATIO GOAL MET [RUN]: RUN names the straitd run behind
# the row, for the CPU figures of a missed goal.
row() { ROWS+=("$1|$2|$3|$4|$5|$6|$7|${8:-}"); }
# v RUN TARGET KEY: a number of a run's JSON, rounded (2 decimals below 100)
v() {
    local x
    x=$(json_num "$BENCH_TMP/$1.$2.json" "$3")
    [ "$x" = - ] && { echo -; return; }
    awk "BEGIN { x = $x; printf (x < 100 && x != int(x)) ? \"%.2f\" : \"%.0f\", x }"
}
ratio() { if [ "$1" = - ] || [ "$2" = - ] || awk "BEGIN { exit !($2 == 0) }"; then echo -; else calc "$1 / $2"; fi; }
met() { if [ "$1" = - ]; then echo "-"; elif awk "BEGIN { exit !($1) }"; then echo yes; else echo NO; fi; }
ok_if() { # VALUE CONDITION-WITH-x
    if [ "$1" = - ]; then echo -; else met "$(awk "BEGIN { x = $1; print ($2) ? 1 : 0 }")"; fi
}
flag() { [ -e "$BENCH_TMP/$1.$2.rc" ] && echo " (incomplete run)" || true; }
rps() { v "$1" "$2" records_per_sec; }

# ref RUN: the reference a flat-out produce run of straitd is set against, "MB/s BOUND":
# the mock's MB/s, or the disk ceiling when straitd's run wrote more than the dirty-page
# budget (the disk, not memory, took those bytes) and the ceiling is the lower of the two.
ref() {
    local s secs m
    s=$(json_num "$BENCH_TMP/$1.straitd.json" mb_per_sec)
    secs=$(json_num "$BENCH_TMP/$1.straitd.json" seconds)
    m=$(json_num "$BENCH_TMP/$1.mock.json" mb_per_sec)
    if [ "$m" = - ]; then echo "- -"; return; fi
    if [ "$s" != - ] && [ "$DISK_MBS" != - ] && [ "$DIRTY_LIMIT" != - ] &&
        awk "BEGIN { exit !($s * $secs * 1048576 > $DIRTY_LIMIT && $DISK_MBS < $m) }"; then
        echo "$DISK_MBS disk"
    else
        echo "$m mock"
    fi
}
# bounded_row RUN LABEL GOAL: MB/s of straitd against ref RUN, goal GOAL x
bounded_row() {
    local s rmbs bound r
    s=$(v "$1" straitd mb_per_sec)
    read -r rmbs bound <<<"$(ref "$1")"
    r=$(ratio "$s" "$rmbs")
    row "$2" "MB/s vs min(mock, disk)" "$s" "$(v "$1" mock mb_per_sec)" "$r of $bound ($rmbs)" \
        ">= ${3}x min(mock, disk)" "$(ok_if "$r" "x >= $3")" "$1"
}

row "loopback" "one TCP stream (MB/s)" "$LOOPBACK_MBS" "-" "-" "physical ceiling" "-"
row "disk" "sequential write + fdatasync, 1 GiB files (MiB/s)" "$DISK_MBS" "-" "-" "physical ceiling" "-"
row "dirty pages" "budget before the kernel throttles writers (MiB)" "$((DIRTY_LIMIT / 1048576))" "-" "-" "-" "-"
for b in b1:1 b16:16; do
    n=${b%:*}
    s=$(v "$n" straitd mb_per_sec); m=$(v "$n" mock mb_per_sec); r=$(ratio "$s" "$m")
    row "burst $((${BURST_RECORDS:-300000} / 1000))k x 1 KiB, ${b#*:} part, acks=1" "MB/s" "$s" "$m" "$r" ">= 1.0x mock" \
        "$(ok_if "$r" "x >= 1.0")" "$n"
done
s=$(rps w1 straitd); m=$(rps w1 mock); r=$(ratio "$s" "$m")
row "W1 100 B, 1 part, acks=1" "records/s" "$s" "$m" "$r" "-" "-" w1
bounded_row w1 "W1" 0.9
row "W1" "delivery p99 (ms)" "$(v w1 straitd latency_p99_ms)" "$(v w1 mock latency_p99_ms)" "-" "-" "-"
for p in p50 p99 p999 max; do
    goal=-; ok=-
    [ $p = p99 ] && goal="<= 5 ms" && ok=$(ok_if "$(v w2 straitd latency_p99_ms)" "x <= 5")
    [ $p = p999 ] && goal="<= 15 ms" && ok=$(ok_if "$(v w2 straitd latency_p999_ms)" "x <= 15")
    row "W2 1 KiB, 16 part, acks=all, 50k/s, right after W3 ($(cat "$BENCH_TMP/w2.straitd.dirty" 2>/dev/null || echo ?) MiB dirty at start)" "end-to-end $p (ms)" "$(v w2 straitd latency_${p}_ms)$(flag w2 straitd)" \
        "$(v w2 mock latency_${p}_ms)$(flag w2 mock)" "-" "$goal" "$ok" w2
done
row "W2" "records/s consumed (missing)" "$(rps w2 straitd) ($(v w2 straitd missing))" \
    "$(rps w2 mock) ($(v w2 mock missing))" "-" "50000 (0)" "-"
s3=$(rps w3 straitd); m=$(rps w3 mock); r=$(ratio "$s3" "$m")
row "W3 1 KiB, 16 part, acks=1" "records/s" "$s3" "$m" "$r" "-" "-" w3
bounded_row w3 "W3" 0.9
row "W3" "delivery p99 / p99.9 (ms)" "$(v w3 straitd latency_p99_ms) / $(v w3 straitd latency_p999_ms)" \
    "$(v w3 mock latency_p99_ms) / $(v w3 mock latency_p999_ms)" "-" "-" "-"
s=$(rps w4 straitd); m=$(rps w4 mock); r4=$(ratio "$s" "$s3")
row "W4 W3 with 1,000 part" "records/s" "$s" "$m" "$(ratio "$s" "$m")" ">= 0.8x W3 (is ${r4}x)" "$(ok_if "$r4" "x >= 0.8")" w4
bounded_row w5 "W5 64 KiB, 16 part, acks=1" 0.8
s=$(v w6 straitd mb_per_sec); r=$(ratio "$s" "$LOOPBACK_MBS")
row "W6 consume $((W6_BYTES / 1048576)) MiB backlog, 64 KiB" "MB/s" "$s$(flag w6 straitd)" "(not run)" "$r of loopback" ">= 0.5x loopback" "$(ok_if "$r" "x >= 0.5")" w6
s=$(rps w7 straitd); r=$(ratio "$s" "$s3")
row "W7 W3 + flush.messages=1" "records/s" "$s" "(not run)" "$r of W3" ">= 0.5x W3" "$(ok_if "$r" "x >= 0.5")" w7
s=$(rps w8 straitd); m=$(rps w8 mock); r8=$(ratio "$s" "$s3")
row "W8 W3 with 50 producers" "records/s" "$s" "$m" "$(ratio "$s" "$m")" ">= 0.7x W3 (is ${r8}x)" "$(ok_if "$r8" "x >= 0.7")" w8
p3=$(v w3 straitd latency_p999_ms); p8=$(v w8 straitd latency_p999_ms); rc8=$(ratio "$p8" "$p3")
row "W8" "delivery p99 / p99.9 (ms)" "$(v w8 straitd latency_p99_ms) / $p8" "$(v w8 mock latency_p99_ms) / $(v w8 mock latency_p999_ms)" \
    "${rc8}x W3 p99.9" "no cliff: p99.9 <= 2x W3's" "$(ok_if "$rc8" "x <= 2")" w8
for w in "w9 lz4" "w10 zstd"; do
    read -r n codec <<<"$w"
    s=$(rps "$n" straitd); m=$(rps "$n" mock)
    row "${n^^} W3 + $codec (batches checked inside)" "records/s" "$s" "$m" "$(ratio "$s" "$m")" "-" "-" "$n"
done
s=$(rps w11 straitd); r=$(ratio "$s" "$s3")
row "W11 W3 into compression.type=zstd" "records/s" "$s" "(not run)" "$r of W3" "-" "-" w11
one=$(calc "($(v c1a straitd mb_per_sec) + $(v c1b straitd mb_per_sec)) / 2" 2>/dev/null || echo -)
two=$(calc "($(v c2a straitd mb_per_sec) + $(v c2b straitd mb_per_sec)) / 2" 2>/dev/null || echo -)
r=$(ratio "$two" "$one")
row "burst, 16 part, straitd on 2 cores vs 1 (taskset)" "MB/s, mean of 2 runs each" "$two vs $one" "(not run)" "${r}x" ">= 1.7x" "$(ok_if "$r" "x >= 1.7")" c2a

if [ "${SKIP_FOOTPRINT:-0}" != 1 ]; then
    bench_log "footprint (tests/bench/footprint.sh)"
    stop_straitd
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
    BENCH_PIDS=()
    rm -rf "$DATA"
    BUILD_DIR="$BUILD_DIR" bash "$(dirname "$0")/footprint.sh" --rows "$BENCH_TMP/footprint.rows" >"$BENCH_TMP/footprint.out" ||
        bench_log "footprint.sh failed: $(tail -n 5 "$BENCH_TMP/footprint.out")"
    [ -f "$BENCH_TMP/footprint.rows" ] && mapfile -t -O "${#ROWS[@]}" ROWS <"$BENCH_TMP/footprint.rows"
fi

table() {
    echo "| workload | metric | straitd | mock | ratio | goal | met? |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for r in "${ROWS[@]}"; do
        IFS='|' read -r a b c d e f g _ <<<"$r"
        echo "| $a | $b | $c | $d | $e | $f | $g |"
    done
}
cpu_table() {
    echo "| run | server | server CPU (% of a core) | client CPU (% of a core) | machine busy / iowait (of $(nproc)00) | seconds |"
    echo "| --- | --- | --- | --- | --- | --- |"
    for n in b1 b16 w1 w2 w3 w4 w5 w6fill w6 w7 w8 w9 w10 w11 c1a c2a c1b c2b; do
        for t in straitd mock; do
            [ -f "$BENCH_TMP/$n.$t.cpu" ] || continue
            read -r mb mw <"$BENCH_TMP/$n.$t.machine"
            echo "| $n | $t | $(cat "$BENCH_TMP/$n.$t.cpu") | $(v $n $t client_cpu_pct) | $mb / $mw | $(v $n $t seconds) |"
        done
    done
}
profile() {
    [ -s "$BENCH_TMP/perf.data" ] || { echo "(no profile: perf missing, PROFILE=0, or perf record failed)"; return; }
    echo '```'
    perf report -i "$BENCH_TMP/perf.data" --stdio --no-children -g none --sort dso,symbol \
        --percent-limit 1.5 2>/dev/null | grep -E '^ +[0-9]' | sed -E 's/( +-)* *$//' | head -n 25 |
        while IFS= read -r line; do
            # static functions perf leaves as addresses: name them from the symbol table
            addr=$(grep -oE 'straitd +\[\.\] 0x[0-9a-f]+' <<<"$line" | grep -oE '0x[0-9a-f]+$' || true)
            if [ -n "$addr" ] && command -v addr2line >/dev/null; then
                line="${line/$addr/$(addr2line -f -e "$STRAITD_BIN" "$addr" | head -n1) ($addr)}"
            fi
            echo "$line"
        done
    echo '```'
    if [ -s "$BENCH_TMP/w3.states" ]; then
        echo
        echo "Where straitd's threads were during W3 (sampled 20 times a second; state and"
        echo "kernel wait channel from /proc/<pid>/task/*/stat and wchan):"
        echo
        echo '```'
        sort "$BENCH_TMP/w3.states" | uniq -c | sort -rn | head -n 8
        echo '```'
    fi
}

TABLE=$(table)
echo
echo "$TABLE"
echo
cpu_table
ELAPSED=$(($(date +%s) - T_START))

if [ "$OUT" != - ]; then
    # The mirror section (tests/bench/mirror_bench.sh) lives after this marker: kept.
    MIRROR_MARK='<!-- mirror_bench.sh writes below this line; compare.sh keeps it -->'
    MIRROR_PART=""
    [ -f "$OUT" ] && MIRROR_PART=$(awk -v m="$MIRROR_MARK" '$0 == m {on = 1} on' "$OUT")
    missed=""
    for r in "${ROWS[@]}"; do
        IFS='|' read -r a b c _ _ f g run <<<"$r"
        [ "$g" = NO ] || continue
        missed+="- $a, $b: goal $f, measured $c."
        if [ -n "$run" ] && [ -f "$BENCH_TMP/$run.straitd.cpu" ]; then
            sc=$(cat "$BENCH_TMP/$run.straitd.cpu")
            cc=$(v "$run" straitd client_cpu_pct)
            read -r mb mw <"$BENCH_TMP/$run.straitd.machine"
            missed+=" During $run straitd used ${sc}% of a core, the client ${cc}%, the whole machine ${mb}% of $(nproc)00 (iowait ${mw}): "
            missed+=$(awk "BEGIN { s = $sc; c = ${cc/-/0}; m = $mb; n = $(nproc) * 100
                if (m >= 0.9 * n) print \"the machine was CPU-bound (client, broker and kernel network work together).\"
                else if (s >= 85) print \"straitd was CPU-bound.\"
                else if (c >= 75) print \"the client was (nearly) CPU-bound — one of its threads saturated; straitd was not.\"
                else print \"neither side was CPU-bound: the time went to waiting (disk, wake-ups, round trips).\" }")
        fi
        missed+=$'\n'
    done
    {
        echo "# Benchmarks"
        echo
        echo "Generated by \`tests/bench/compare.sh\` (issue 6); do not edit by hand — run it again."
        echo "What was optimised, before/after figures and what limits the missed goals:"
        echo "[performance.md](performance.md)."
        echo
        echo "- command: \`$COMMAND\`"
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC') (the run took $((ELAPSED / 60)) min $((ELAPSED % 60)) s)"
        echo "- machine: $MACHINE; $BASELINE_NOTE"
        echo "- straitd: $(basename "$BUILD_DIR") build, fresh data directory on $(df -P "$BENCH_TMP" | awk 'NR == 2 { print $1 }'); mock: librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?') \`rd_kafka_mock_cluster_new\`, one broker, in memory"
        echo "- client: \`strait perf\` (librdkafka), one process, the same settings against both;" \
            "\`-X queue.buffering.max.kbytes=65536\`; flat-out runs last ${DURATION} s"
        echo
        echo "With $(nproc) cores the client and the broker compete for the CPU: every figure below"
        echo "is a client *and* broker figure, and a broker that needs less CPU leaves more to"
        echo "the client. The CPU table shows who used what."
        echo
        echo "## Results"
        echo
        echo "$TABLE"
        echo
        echo "Rows: records/s and MB/s (2^20 bytes) count payload bytes acknowledged (produce) or"
        echo "received (consume, e2e), from the first send to the last acknowledgement. Latency"
        echo "is the delivery report's (produce) or send-to-receipt in one process (W2, e2e)."
        echo "The bursts send ${BURST_RECORDS:-300000} records of 1 KiB into topics made before the run on both"
        echo "sides: they fit in memory, so they measure the broker. A flat-out run (W1, W3, W5)"
        echo "that wrote more than the dirty-page budget was bound by the disk, not by memory: it"
        echo "is set against min(mock, disk ceiling), and the ratio column names the one that bound"
        echo "it (\"of disk\" or \"of mock\"). The disk ceiling is disk_ceiling's median round"
        echo "(1 GiB written sequentially, then fdatasync), run first, which also warms memory the"
        echo "VM had not touched. W2 runs right after the flat-out W3, while the disk still writes"
        echo "back what W3 left (the MiB dirty or under writeback at its start are in its row)."
        echo "W6 and W7 need a disk the mock does not have; W6 is set against the loopback"
        echo "ceiling and W7 against W3 on straitd. \"No cliff\" for W8 means its p99.9"
        echo "delivery latency is within 2x of W3's. A mock figure marked \"incomplete run\" is one"
        echo "where its consumer fell behind: the mock keeps only a few MiB a partition in memory,"
        echo "so records went before they were read (it is a reference for the produce side)."
        echo "W9 and W10 are W3 with a compressing producer (lz4, zstd): straitd decompresses"
        echo "every batch to check its records before appending it, the mock looks at nothing."
        echo "W11 is W3 into a topic with compression.type=zstd: straitd compresses every batch"
        echo "on append (the mock has no topic configs), so it is set against W3. \`strait perf\`"
        echo "sends the same record again and again, which compresses far better than real data."
        echo
        echo "## CPU during each run"
        echo
        echo "Server CPU is straitd's (or the mock's) user+system time over the run's wall time,"
        echo "from /proc; client CPU is \`strait perf\`'s own (getrusage); machine busy is every"
        echo "CPU's non-idle time from /proc/stat (kernel network work included), iowait apart."
        echo "100 = one core."
        echo
        cpu_table
        echo
        echo "## What limits the missed goals"
        echo
        if [ -n "$missed" ]; then
            echo "Missed in this run:"
            echo
            printf '%s' "$missed"
        else
            echo "No goal was missed in this run."
        fi
        echo
        echo "Profile of straitd during W3 (\`perf record -e cpu-clock -g -p <straitd>\`, self time"
        echo "by symbol, entries above 1.5%):"
        echo
        profile
        if [ -n "$MIRROR_PART" ]; then
            echo
            printf '%s\n' "$MIRROR_PART"
        fi
    } >"$OUT"
    bench_log "wrote $OUT"
fi
bench_log "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
