#!/usr/bin/env bash
# Kafka's ACL and SCRAM-user admin APIs against a broker with the authorizer on:
#   - as a super user (PLAINTEXT, User:ANONYMOUS in super_users): rk_acls creates,
#     describes and deletes ACLs through librdkafka; raw_scram_admin upserts, describes
#     and deletes SCRAM credentials by hand-built flexible requests and checks the
#     credential file holds no password equivalent; `strait acls list` (when the CLI has
#     it) shows the ACLs; after a clean restart the ACLs are still there (persisted).
#   - as a principal with no rights (ANONYMOUS not a super user, no ACLs): every one of
#     these APIs answers CLUSTER_AUTHORIZATION_FAILED and nothing is created.
. "$(dirname "$0")/lib.sh"

out="$ST_TMP/out.txt"
run() { # WHAT COMMAND...: runs a helper, bounded, showing its output
    local what=$1
    shift
    timeout 120 "$@" >"$out" 2>&1 || {
        cat "$out" >&2
        fail "$what failed"
    }
    sed 's/^/  /' "$out"
}

ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
start_broker
run "rk_acls setup" "$RK_BIN/rk_acls" "$BOOTSTRAP" setup
run "raw_scram_admin" "$RK_BIN/raw_scram_admin" "$BOOTSTRAP" "$ST_DATA"
run "raw DescribeAcls v0/v1" "$RK_BIN/raw_scram_admin" "$BOOTSTRAP" - acls

if [ -n "${STRAIT:-}" ] && "$STRAIT" --help 2>/dev/null | grep -Eq '^ +acls '; then
    timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" acls list --via-mgmt >"$out" 2>&1 ||
        fail "strait acls list failed: $(cat "$out")"
    assert_contains "$out" 'User:alice.*orders|orders.*User:alice' "strait acls list shows the orders ACL"
    assert_contains "$out" 'acme\.' "strait acls list shows the acme. prefixed ACL"
    assert_not_contains "$out" 'billing' "strait acls list: the deleted group ACL is gone"
    log "strait acls list shows the ACLs made over the Kafka API"
else
    log "SKIPPED: strait has no 'acls' command yet: the CLI view of the ACLs is not checked"
fi

stop_broker
start_broker
run "rk_acls after-restart" "$RK_BIN/rk_acls" "$BOOTSTRAP" after-restart
# kafkajs's admin ACL API against the same broker (and the bindings librdkafka made).
JS_DIR="$(dirname "$0")/js"
if [ -d "$JS_DIR/node_modules/kafkajs" ]; then
    run "kafkajs acls" timeout 60 "${NODE:-node}" "$JS_DIR/acls.js" "$BOOTSTRAP"
else
    fail "kafkajs is not installed in $JS_DIR (deploy/test.sh runs npm ci there)"
fi
stop_broker

# Same data, but ANONYMOUS is no longer a super user and holds no ACL on the cluster.
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:admin"; };'
start_broker
run "rk_acls denied" "$RK_BIN/rk_acls" "$BOOTSTRAP" denied
run "raw_scram_admin denied" "$RK_BIN/raw_scram_admin" "$BOOTSTRAP" - denied
stop_broker
broker_log_since_start >"$out"
assert_contains "$out" 'CreateAcls: .*CLUSTER_AUTHORIZATION_FAILED' "the broker logged the refused CreateAcls"
for f in "$ST_DATA/meta/credentials.json" "$ST_DATA/meta/security.json"; do
    [ -f "$f" ] || continue
    assert_not_contains "$f" 'mallory' "a denied request created nothing ($(basename "$f"))"
done
log "the denied requests were refused and changed nothing"
