#!/usr/bin/env bash
# docs/cli.md cannot drift from the tool: every help block in it must be exactly what
# `strait ... --help` prints now, and every example in it is run, in order, against a
# fresh broker and must print exactly what the document shows (py/cli_doc.py).
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
DOC="$(cd "$(dirname "$0")/../.." && pwd)/docs/cli.md"
PY_DIR="$(cd "$(dirname "$0")/py" && pwd)"

/usr/bin/python3 "$PY_DIR/cli_doc.py" check "$STRAIT" "$DOC" || fail "docs/cli.md help blocks are stale"
ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; };'
start_broker
STRAIT="$STRAIT" BOOTSTRAP="$BOOTSTRAP" ST_MGMT="$ST_MGMT" ST_DATA="$ST_DATA" RK_BIN="$RK_BIN" \
    KCAT="$KCAT" /usr/bin/python3 "$PY_DIR/cli_doc.py" run "$DOC" || fail "a docs/cli.md example failed"
stop_broker
