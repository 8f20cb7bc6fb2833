#!/usr/bin/env bash
# Transactions under the authorizer, per tenant (tracker issue 19): tenant acme (prefix
# acme.) with user alice over SASL_PLAINTEXT; the tenant's default ACLs cover the
# transactional ids of its prefix.
#  1. alice commits a transaction with id acme.app to acme.t: allowed, read back.
#  2. alice's init_transactions with id globex.app: TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
#  3. alice with her own id acme.app2 writing to globex.t (not hers): the transaction
#     fails (AddPartitionsToTxn: TOPIC_AUTHORIZATION_FAILED) and nothing reaches globex.t.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
ALICE_PW=alice-secret-1

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
start_broker
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT" # kc and strait: the admin path
SASL_BOOTSTRAP="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
st tenants create acme --prefix acme. >"$out" 2>&1 || fail "strait tenants create: $(cat "$out")"
st users add alice --password "$ALICE_PW" --tenant acme >"$out" 2>&1 || fail "strait users add: $(cat "$out")"
for t in acme.t globex.t; do
    st topics create "$t" --partitions 1 >"$out" || fail "strait topics create $t: $(cat "$out")"
done
export RK_SASL_USER=alice RK_SASL_PASSWORD="$ALICE_PW"

# ---- 1. her own id and topic ----
got=$("$RK_BIN/rk_txn" "$SASL_BOOTSTRAP" commit acme.t acme.app 3 ok 2>"$ST_TMP/1.err") ||
    fail "alice's transaction on acme.t failed: $(tail -n 3 "$ST_TMP/1.err")"
assert_eq done "$got" "alice's transaction with id acme.app"
assert_eq "ok-0 ok-1 ok-2" "$(kc -C -t acme.t -p 0 -o beginning -e -q -X isolation.level=read_committed -f '%s ' | sed 's/ $//')" "acme.t read_committed"

# ---- 2. another tenant's id ----
got=$("$RK_BIN/rk_txn" "$SASL_BOOTSTRAP" denied acme.t globex.app - 2>"$ST_TMP/2.err") ||
    fail "rk_txn denied: $(tail -n 3 "$ST_TMP/2.err")"
assert_eq TRANSACTIONAL_ID_AUTHORIZATION_FAILED "$got" "init_transactions with id globex.app as alice"

# ---- 3. her id, another tenant's topic ----
got=$("$RK_BIN/rk_txn" "$SASL_BOOTSTRAP" denied-topic globex.t acme.app2 - 2>"$ST_TMP/3.err") ||
    fail "rk_txn denied-topic: $(tail -n 3 "$ST_TMP/3.err")"
log "alice's transaction writing to globex.t: $got; $(grep -m1 'delivery failed' "$ST_TMP/3.err")"
grep -q 'delivery failed: Broker: Topic authorization failed' "$ST_TMP/3.err" ||
    fail "the delivery failure does not name the topic authorization: $(cat "$ST_TMP/3.err")"
assert_eq "" "$(kc -C -t globex.t -p 0 -o beginning -e -q -X isolation.level=read_uncommitted -f '%s\n')" "records in globex.t"
stop_broker
