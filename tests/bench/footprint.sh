#!/usr/bin/env bash
# footprint.sh: the memory and idle goals of issue 6, measured on a fresh straitd.
#
#   BUILD_DIR=build bash tests/bench/footprint.sh [--rows FILE]
#
#  1. 10,000 topics of 10 partitions each, 100,000 partitions (Kafka CreateTopics, 500
#     topics a request): RSS after. FOOTPRINT_TOPICS and FOOTPRINT_PARTITIONS change them.
#  2. Clean restart (SIGTERM, start again): time from launch until the ready file
#     appears, and RSS once ready.
#  3. 1,000 idle connections (each completed an ApiVersions exchange): RSS delta per
#     connection.
#  4. Idle CPU over 10 s, with the 10,000 partitions and 1,000 connections still there.
# Prints a table; with --rows FILE also appends the rows, "|"-separated in the column
# order of compare.sh (workload|metric|straitd|mock|ratio|goal|met?), to FILE.
. "$(dirname "$0")/bench_lib.sh"
# straitd keeps files open per partition: allow as many as the hard limit does
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

ROWS_FILE=""
[ "${1:-}" = "--rows" ] && ROWS_FILE=${2:?--rows needs a file}
TOPICS=${FOOTPRINT_TOPICS:-10000}
PARTS=${FOOTPRINT_PARTITIONS:-10}
CONNS=${FOOTPRINT_CONNS:-1000}
IDLE_SECONDS=10
bench_need_builds

DATA=$BENCH_TMP/data
start_straitd "$DATA"
rss_empty=$(rss_kib "$STRAITD_PID")

bench_log "creating $TOPICS topics of $PARTS partitions"
t0=$(now_ms)
create_note=""
"$BENCH_BIN/footprint_client" topics "$STRAITD_BOOTSTRAP" "$TOPICS" idle- "$PARTS" >"$BENCH_TMP/topics.out" \
    2>"$BENCH_TMP/topics.err" || true
create_ms=$(($(now_ms) - t0))
created=$(awk '/^created/ { print $2 }' "$BENCH_TMP/topics.out")
created=${created:-0}
if [ "$created" -lt "$TOPICS" ]; then
    # measured with what exists, and said so in every row that depends on it
    why=$(head -n1 "$BENCH_TMP/topics.err")
    create_note=" (only $created of $TOPICS created: ${why##*: })"
    bench_log "creating $TOPICS topics stopped at $created: $(cat "$BENCH_TMP/topics.err")"
fi
sleep 1
rss_topics=$(rss_kib "$STRAITD_PID")
fds_topics=$(ls "/proc/$STRAITD_PID/fd" | wc -l)
bench_log "$created topics in ${create_ms} ms; RSS ${rss_empty} KiB empty, ${rss_topics} KiB with them; $fds_topics open files"

bench_log "clean restart"
stop_straitd
[ -e "$DATA/.clean_shutdown" ] || bench_log "note: no $DATA/.clean_shutdown marker after SIGTERM"
start_straitd "$DATA"
restart_ms=$STRAITD_READY_MS
rss_restart=$(rss_kib "$STRAITD_PID")
sleep 1
rss_before_conns=$(rss_kib "$STRAITD_PID")

bench_log "opening $CONNS idle connections"
"$BENCH_BIN/footprint_client" conns 127.0.0.1 "$STRAITD_PORT" "$CONNS" >"$BENCH_TMP/conns.out" \
    2>"$BENCH_TMP/conns.err" &
CONNS_PID=$!
BENCH_PIDS+=("$CONNS_PID")
for _ in $(seq 600); do
    grep -q '^ready' "$BENCH_TMP/conns.out" 2>/dev/null && break
    kill -0 "$CONNS_PID" 2>/dev/null || bench_fail "footprint_client conns: $(cat "$BENCH_TMP/conns.err")"
    sleep 0.1
done
grep -q '^ready' "$BENCH_TMP/conns.out" || bench_fail "$CONNS connections not open within 60 s"
sleep 1
rss_conns=$(rss_kib "$STRAITD_PID")
per_conn=$(calc "($rss_conns - $rss_before_conns) * 1024 / $CONNS")

bench_log "idle CPU over ${IDLE_SECONDS} s"
ticks0=$(cpu_ticks "$STRAITD_PID")
sleep "$IDLE_SECONDS"
ticks1=$(cpu_ticks "$STRAITD_PID")
idle_cpu=$(calc "100 * ($ticks1 - $ticks0) / $CLK_TCK / $IDLE_SECONDS")

kill -TERM "$CONNS_PID"
wait "$CONNS_PID" || true
stop_straitd

mib() { calc "$1 / 1024"; }
yesno() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo NO; fi; }
parts_total=$((TOPICS * PARTS))
parts_made=$((created * PARTS))
rows=(
    "memory|RSS, empty broker (MiB)|$(mib "$rss_empty")|-|-|-|-"
    "memory|RSS with $parts_made idle partitions ($created topics x $PARTS) (MiB)$create_note|$(mib "$rss_topics")|-|-|<= 512 MiB with $parts_total|$(yesno "$rss_topics <= 512 * 1024 && $created == $TOPICS")"
    "memory|open files with $parts_made partitions (ulimit -n $(ulimit -n))|$fds_topics|-|-|-|-"
    "memory|creating $created topics of $PARTS partitions, 500 topics a request (s)|$(calc "$create_ms / 1000")|-|-|-|-"
    "startup|clean restart to ready, $parts_made partitions (s)|$(calc "$restart_ms / 1000")|-|-|<= 2 s with $parts_total|$(yesno "$restart_ms <= 2000 && $created == $TOPICS")"
    "startup|RSS once ready after restart (MiB)|$(mib "$rss_restart")|-|-|-|-"
    "memory|RSS per idle connection ($CONNS open) (KiB)|$(calc "$per_conn / 1024")|-|-|<= 64 KiB|$(yesno "$per_conn <= 65536")"
    "idle|broker CPU, idle 10 s (% of a core)|$idle_cpu|-|-|near 0 (< 1%)|$(yesno "$idle_cpu < 1")"
)
printf '\n| what | metric | straitd | goal | met? |\n| --- | --- | --- | --- | --- |\n'
for r in "${rows[@]}"; do
    IFS='|' read -r w m s _ _ g ok <<<"$r"
    printf '| %s | %s | %s | %s | %s |\n' "$w" "$m" "$s" "$g" "$ok"
done
if [ -n "$ROWS_FILE" ]; then
    printf '%s\n' "${rows[@]}" >>"$ROWS_FILE"
fi
