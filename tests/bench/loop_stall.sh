#!/usr/bin/env bash
# loop_stall.sh: how long straitd's event loop turns take while 1,000 partitions take
# writes and checkpoint (tracker issue 12's goal: p99.9 of loop turns <= 5 ms). One
# producer sends RATE 1 KiB records/s (acks=1) over the 1,000 partitions for DURATION
# seconds — longer than the 60 s checkpoint interval, so every partition checkpoints at
# least once — then `strait status` gives the turn histogram (last complete minute and
# since start). Bounded in rate and time: about RATE * DURATION KiB go to disk.
#
#   BUILD_DIR=build STRAITD_BIN_OVERRIDE=build/tests/fuzz/straitd-plain \
#       bash tests/bench/loop_stall.sh
#
# (straitd-plain: the uninstrumented broker of a -DSTRAIT_FUZZ=ON build.) Everything
# listens on 127.0.0.1 and is stopped by pid.
. "$(dirname "$0")/bench_lib.sh"
[ -n "${STRAITD_BIN_OVERRIDE:-}" ] && STRAITD_BIN=$(cd "$(dirname "$STRAITD_BIN_OVERRIDE")" && pwd)/$(basename "$STRAITD_BIN_OVERRIDE")
RATE=${RATE:-5000}
DURATION=${DURATION:-75}
PARTITIONS=${PARTITIONS:-1000}

start_straitd "$BENCH_TMP/data"
bench_log "producing $RATE records/s of 1 KiB to $PARTITIONS partitions for $DURATION s"
timeout $((DURATION + 180)) "$STRAIT_BIN" perf produce --bootstrap "$STRAITD_BOOTSTRAP" \
    --topic stall --partitions "$PARTITIONS" --record-size 1024 --acks 1 \
    --throughput "$RATE" --duration "$DURATION" --json -q >"$BENCH_TMP/perf.json" ||
    bench_fail "strait perf produce failed"
"$STRAIT_BIN" --mgmt "$STRAITD_MGMT" --data-dir "$BENCH_TMP/data" status --json \
    >"$BENCH_TMP/status.json" || bench_fail "strait status failed"
python3 - "$BENCH_TMP/perf.json" "$BENCH_TMP/status.json" <<'PY'
import json, sys
perf = json.load(open(sys.argv[1]))
loop = json.load(open(sys.argv[2]))["loop"]
print("produce: %s" % {k: perf[k] for k in perf if k in ("records", "records_per_s", "mb_per_s")})
for w in ("last_minute", "since_start"):
    t = loop[w]
    print("%-12s turns %8d  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  longest %7.2f ms" % (
        w, t["turns"], t["p50_us"] / 1e3, t["p99_us"] / 1e3, t["p999_us"] / 1e3,
        t["longest_us"] / 1e3))
PY
