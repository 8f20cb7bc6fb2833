#!/usr/bin/env bash
# What one librdkafka producer connection carries over the emulated WAN link (benchmark,
# not a test): the ceiling strait-mirror's target producer lives under (docs/mirroring.md,
# "Tests and benchmark"). One straitd behind a netproxy link of DELAY_MS each way; kcat
# writes the same MB megabytes of 1,000-byte records into PARTITIONS partitions, ROUNDS
# times in turn (A B C A B C, after one warm-up run):
#   A  idempotent (what the mirror uses): at most 5 requests in flight, batches of 1 MB
#   B  idempotent, batches of 250 KB: if the window is the bound, far slower than A
#   C  not idempotent, 1,000 requests in flight, batches of 1 MB
# Each line prints MB/s = MB / wall time of kcat (connection set-up included).
#
#   BUILD_DIR=build bash tests/bench/producer_window_bench.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$(cd "${BUILD_DIR:-$ROOT/build}" && pwd)
MB=${MB:-150}
PARTITIONS=${PARTITIONS:-16}
ROUNDS=${ROUNDS:-2}
export WAN_DELAY_MS=${DELAY_MS:-40}
# the integration helpers start the broker and the link; an uninstrumented broker when the
# build has one (a fuzz build instruments the broker library)
STRAITD=$BUILD_DIR/straitd
[ ! -x "$BUILD_DIR/tests/fuzz/straitd-plain" ] || STRAITD=$BUILD_DIR/tests/fuzz/straitd-plain
export STRAITD KCAT=${KCAT:-$(command -v kcat)} RK_BIN=$BUILD_DIR/tests/integration
export STRAIT=$BUILD_DIR/strait NETPROXY=$BUILD_DIR/tests/tools/netproxy
export STRAIT_MIRROR=$BUILD_DIR/strait-mirror
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/proxy_lib.sh"
. "$ROOT/tests/integration/mirror_lib.sh"

dc_start dc2 wan
rk dc2 produce window a 0 0 "$PARTITIONS" --create >/dev/null || fail "creating the topic failed"
N=$((MB * 1000))
python3 -c "import sys; sys.stdout.buffer.write((b'x' * 999 + b'\n') * $N)" >"$ST_TMP/data"

run() { # run NAME KCAT_OPTIONS...: one kcat producing the data file through the link
    local name=$1 t0 ms
    shift
    t0=$(date +%s%N)
    timeout 300 "$KCAT" -P -b "${DC_BOOT[dc2]}" -t window -l -X acks=all -X linger.ms=10 \
        -X queue.buffering.max.kbytes=1048576 -X queue.buffering.max.messages=1000000 \
        "$@" "$ST_TMP/data" || fail "kcat ($name) failed"
    ms=$((($(date +%s%N) - t0) / 1000000))
    log "$name: $((MB * 1000 / ms)) MB/s ($MB MB in $ms ms)"
}
run "warm-up" -X enable.idempotence=true -X batch.size=1000000
for round in $(seq "$ROUNDS"); do
    run "A idempotent, 5 in flight, 1 MB batches" -X enable.idempotence=true -X batch.size=1000000
    run "B idempotent, 5 in flight, 250 KB batches" -X enable.idempotence=true -X batch.size=250000
    run "C not idempotent, 1000 in flight, 1 MB batches" -X enable.idempotence=false \
        -X max.in.flight=1000 -X batch.size=1000000
done
log "link ${WAN_DELAY_MS} ms each way; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
