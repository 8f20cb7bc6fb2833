#!/usr/bin/env bash
# `strait status` shows how long the broker's event loop turns take (the time every
# other connection waits): since start and over the last minute, turns counted, p50,
# p99, p99.9 and the longest, in order, and counting real work (kcat traffic).
. "$(dirname "$0")/lib.sh"

: "${STRAIT:?STRAIT must name the strait CLI}"
start_broker
status_json() { "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status --json; }
turn() { # WINDOW FIELD
    python3 -c 'import json,sys; print(json.load(sys.stdin)["loop"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

before=$(status_json | turn since_start turns)
seq 1 2000 | kc -P -t turns -X acks=all || fail "produce with kcat"
kc -C -t turns -o beginning -e -q >"$ST_TMP/out.txt" || fail "consume with kcat"
assert_eq 2000 "$(wc -l <"$ST_TMP/out.txt" | tr -d ' ')" "records read back"

status_json >"$ST_TMP/status.json" || fail "strait status --json"
for w in since_start last_minute; do
    t=$(turn "$w" turns <"$ST_TMP/status.json")
    p50=$(turn "$w" p50_us <"$ST_TMP/status.json")
    p99=$(turn "$w" p99_us <"$ST_TMP/status.json")
    p999=$(turn "$w" p999_us <"$ST_TMP/status.json")
    longest=$(turn "$w" longest_us <"$ST_TMP/status.json")
    log "$w: $t turns, p50 $p50 us, p99 $p99 us, p99.9 $p999 us, longest $longest us"
    [ "$t" -gt "$before" ] || fail "$w: $t turns after the traffic, $before before it"
    [ "$p50" -le "$p99" ] && [ "$p99" -le "$p999" ] && [ "$p999" -le "$longest" ] ||
        fail "$w: percentiles out of order: p50 $p50, p99 $p99, p99.9 $p999, longest $longest"
    [ "$longest" -gt 0 ] || fail "$w: the longest turn is 0 us after real traffic"
done
"$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" status >"$ST_TMP/status.txt" || fail "strait status"
assert_contains "$ST_TMP/status.txt" '^loop turns: +last minute p99 [0-9.]+ ms' "strait status's loop line"
log "ok"
