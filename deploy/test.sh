#!/usr/bin/env bash
# test.sh: installs what is missing, builds everything with clang and warnings as
# errors (plus the libFuzzer harnesses) into ./build-test, and runs every test: unit
# (cmocka), fuzz (bounded time), integration (real straitd processes with kcat,
# librdkafka programs, kafkajs and the strait CLI) and ui (strait-console in Debian's
# headless Chromium, driven by playwright-core). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
report_time() {
    local rc=$? elapsed=$(($(date +%s) - t0))
    printf 'test: total time %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
    [ "$rc" -eq 0 ] || echo "test: FAILED (exit status $rc)" >&2
}
trap report_time EXIT

./deploy/install-packages.sh --test

echo "test: configuring and building ./build-test (clang, -Werror, fuzzers)"
CC=clang cmake -S . -B build-test -DSTRAIT_WERROR=ON -DSTRAIT_FUZZ=ON
cmake --build build-test -j"$(nproc)"

if [ ! -d tests/integration/js/node_modules ]; then
    echo "test: installing the kafkajs test client (npm ci)"
    (cd tests/integration/js && npm ci --no-audit --no-fund)
fi
if [ ! -d tests/ui/node_modules ]; then
    echo "test: installing playwright-core for the console's browser tests (npm ci)"
    (cd tests/ui && npm ci --no-audit --no-fund)
fi

# Every integration test starts its own broker on a free port (--port 0) with an
# ipc:// management endpoint in its own temp dir, so tests can run two at a time.
cd build-test
ctest --output-on-failure --timeout 600 -j2
