#!/usr/bin/env bash
# docs/quickstart.md runs as written (tracker issue 18): every command of the page, in
# order, from a fresh copy of the source tree — ./deploy/quickstart.sh builds it there and
# serves on localhost:9092, then topics, produce, consume, kcat and strait connect — with
# the documented output checked (tests/integration/run_doc.py has the conventions). The
# test runs in a network namespace of its own, so the page's fixed ports (9092, 9192) are
# free and nothing it starts is reachable from outside; it needs root and unshare
# (skipped, status 77, without them).
set -euo pipefail
if [ "${ST_IN_NETNS:-0}" != 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! unshare --net true 2>/dev/null; then
        echo "test_quickstart: needs root and unshare for a private network namespace; skipped"
        exit 77
    fi
    ST_IN_NETNS=1 exec unshare --net -- bash "$0" "$@"
fi
ip link set lo up
. "$(dirname "$0")/lib.sh"

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
COPY="$ST_TMP/strait"
mkdir -p "$COPY"
# The source tree as a user would have it: no build directories, no data, no clients'
# node_modules, no git metadata.
tar -C "$SRC" --exclude=./build --exclude='./build-*' --exclude=./data --exclude=.git \
    --exclude=node_modules --exclude=./mirror-state -cf - . | tar -C "$COPY" -xf -
log "source tree copied into $COPY ($(du -sh "$COPY" | cut -f1))"
/usr/bin/python3 "$SRC/tests/integration/run_doc.py" "$COPY/docs/quickstart.md" "$COPY" ||
    fail "docs/quickstart.md does not run as written (above)"
for f in data test.txt test.sink.txt connect.offsets; do
    [ ! -e "$COPY/$f" ] || fail "the quickstart's last step left $f behind"
done
