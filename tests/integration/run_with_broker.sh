#!/usr/bin/env bash
# run_with_broker.sh PROGRAM ARGS...: starts a broker (lib.sh), runs PROGRAM with every
# argument "@BOOTSTRAP@" replaced by the broker's host:port, then stops the broker
# cleanly. The test passes when PROGRAM exits 0 and the broker shut down cleanly.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || fail "usage: run_with_broker.sh PROGRAM ARGS..."
start_broker
args=()
for a in "$@"; do args+=("${a//@BOOTSTRAP@/$BOOTSTRAP}"); done
ST_TEST_NAME=$(basename "$1")
timeout 240 "${args[@]}" || fail "$(basename "$1") failed"
stop_broker
