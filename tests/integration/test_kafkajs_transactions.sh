#!/usr/bin/env bash
# kafkajs 2.2.4 transactions (tests/integration/js/transactions.js): producer.transaction()
# commit / abort / commit read back by a read_committed kafkajs consumer, and a
# consume-transform-produce loop with transaction.sendOffsets whose group has nothing
# left to read afterwards. kcat (read_uncommitted) then checks the aborted records are in
# the log, so the consumer really skipped them.
. "$(dirname "$0")/lib.sh"
JS_DIR="$(cd "$(dirname "$0")/js" && pwd)"
: "${NODE:=node}"
[ -d "$JS_DIR/node_modules/kafkajs" ] ||
    fail "kafkajs is not installed: run 'npm ci' in $JS_DIR (deploy/test.sh does)"

start_broker
BOOTSTRAP="$BOOTSTRAP" timeout 150 "$NODE" "$JS_DIR/transactions.js" >"$ST_TMP/js.out" 2>&1 || {
    cat "$ST_TMP/js.out"
    fail "transactions.js failed"
}
sed 's/^/    /' "$ST_TMP/js.out"
aborted=$(kc -C -t js-txn -p 0 -o beginning -e -q -X isolation.level=read_uncommitted -f '%s\n' | grep -c '^a-' || true)
assert_eq 10 "$aborted" "aborted kafkajs records in the log (read_uncommitted)"
stop_broker
