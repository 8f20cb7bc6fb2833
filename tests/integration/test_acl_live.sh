#!/usr/bin/env bash
# ACL changes apply to connections that are already open. The authorizer is on; the
# PLAINTEXT listener is the admin path (User:ANONYMOUS is a super user) and clients come
# in over SASL_PLAINTEXT. rk_acl_live keeps ONE producer connection open while the steps
# below change the ACLs under it with `strait acls add|remove`, and checks at the end
# (librdkafka statistics) that the connection was never re-established; the broker's
# connection counter (`strait status`) must not move either.
#
#  1. carol, a user in no tenant, on live.t: denied (29) → ALLOW WRITE added → delivered
#     → removed → 29 → ALLOW again → delivered → DENY WRITE added on top → 29 (DENY wins)
#     → DENY removed → delivered (the ALLOW was there all along).
#  2. alice, in tenant acme (ALL on prefixed acme.), on acme.live: delivered → DENY WRITE
#     on User:alice → 29 (a user's DENY beats its tenant's ALLOW) → removed → delivered.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
start_broker
[ -n "$SASL_PLAINTEXT_PORT" ] && [ -n "$PLAINTEXT_PORT" ] ||
    fail "the ready file lists no PLAINTEXT and SASL_PLAINTEXT ports: $(cat "$ST_READY")"
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT"
SASL_BOOTSTRAP="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
# The strait command line as one shell word list, for rk_acl_live's run: steps. ACLs change
# through the management endpoint (--via-mgmt), so that strait opens no Kafka connection
# and the connection count below is the two clients' alone.
ST_CMD=$(printf '%q ' timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP")
# acl VERB PRINCIPAL TOPIC [--deny]: the command (a string) adding or removing
# "PRINCIPAL WRITE on topic TOPIC" (ALLOW, or DENY with --deny).
acl() {
    printf '%s acls %s --via-mgmt --principal %s --operation WRITE --topic %s %s >/dev/null' \
        "$ST_CMD" "$1" "$2" "$3" "${4:-}"
}

st tenants create acme --prefix acme. >"$out" 2>&1 || fail "strait tenants create acme: $(cat "$out")"
st users add carol --password carol-pw >"$out" 2>&1 || fail "strait users add carol: $(cat "$out")"
st users add alice --password alice-pw --tenant acme >"$out" 2>&1 || fail "strait users add alice: $(cat "$out")"
for t in live.t acme.live; do
    st topics create "$t" --partitions 1 >"$out" || fail "strait topics create $t: $(cat "$out")"
done

# The broker's count of accepted connections, from `strait status --json`.
connections_total() { st status --json | jq -r '.stats.connections_total // empty'; }
before=$(connections_total)

# ---- 1. carol: no tenant, only what the ACLs say ----
timeout 150 "$RK_BIN/rk_acl_live" "$SASL_BOOTSTRAP" carol carol-pw live.t \
    expect:29 \
    "run:$(acl add User:carol live.t)" expect:ok \
    "run:$(acl remove User:carol live.t)" expect:29 \
    "run:$(acl add User:carol live.t)" expect:ok \
    "run:$(acl add User:carol live.t --deny)" expect:29 \
    "run:$(acl remove User:carol live.t --deny)" expect:ok |
    tee "$ST_TMP/carol.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "rk_acl_live as carol failed (see above)"

# ---- 2. alice: a user DENY beats the tenant's ALLOW ----
timeout 150 "$RK_BIN/rk_acl_live" "$SASL_BOOTSTRAP" alice alice-pw acme.live \
    expect:ok \
    "run:$(acl add User:alice acme.live --deny)" expect:29 \
    "run:$(acl remove User:alice acme.live --deny)" expect:ok |
    tee "$ST_TMP/alice.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "rk_acl_live as alice failed (see above)"

# The broker's side of "no reconnect": each client logged in once, over one connection
# (librdkafka keeps its bootstrap connection as broker 0's: the address is the same).
broker_log_since_start >"$ST_TMP/broker-run.log"
for u in carol alice; do
    assert_eq 1 "$(grep -c "authenticated as User:$u " "$ST_TMP/broker-run.log")" \
        "SASL logins of $u while its ACLs changed"
done
after=$(connections_total)
if [ -n "$before" ] && [ -n "$after" ]; then
    assert_eq 2 "$((after - before))" "Kafka connections the broker accepted for the two clients"
else
    log "strait status --json has no stats.connections_total: login count and client side only"
fi

# What was delivered is there: every "ok" produce of carol's landed in live.t.
delivered=$(read_topic live.t '%s\n' | wc -l)
assert_eq 9 "$delivered" "records in live.t (3 delivered produces in each of 3 'expect:ok' steps)"
stop_broker
