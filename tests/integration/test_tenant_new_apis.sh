#!/usr/bin/env bash
# Tenant isolation over the APIs and versions added for tooling parity (issue 15), which
# librdkafka 2.0.2 (test_tenant_isolation.sh's matrix) does not send: DescribeLogDirs
# v0-4, DescribeCluster, Metadata v12 by topic id, OffsetFetch v8, FindCoordinator v4,
# ListGroups v4, DescribeGroups v5, DeleteGroups v2, OffsetDelete and CreateTopics v7,
# spoken on the wire by py/tenant_new_apis.py as alice (tenant acme) against globex and
# as bob (tenant globex) against acme. Afterwards, as admin: every offset is still there.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
PY="/usr/bin/python3 $(cd "$(dirname "$0")/py" && pwd)/tenant_new_apis.py"

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
start_broker
[ -n "$SASL_PLAINTEXT_PORT" ] && [ -n "$PLAINTEXT_PORT" ] ||
    fail "the ready file lists no PLAINTEXT and SASL_PLAINTEXT ports: $(cat "$ST_READY")"
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT" # the admin path (User:ANONYMOUS is a super user)
SASL_BOOTSTRAP="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"

for t in acme globex; do
    st tenants create "$t" --prefix "$t." >"$out" 2>&1 || fail "strait tenants create $t: $(cat "$out")"
    st topics create "$t.y" --partitions 1 >"$out" 2>&1 || fail "strait topics create $t.y: $(cat "$out")"
done
st users add alice --password alice-pw --tenant acme >"$out" 2>&1 || fail "users add alice: $(cat "$out")"
st users add bob --password bob-pw --tenant globex >"$out" 2>&1 || fail "users add bob: $(cat "$out")"
globex_id=$(timeout 60 $PY seed "$BOOTSTRAP" acme globex) || fail "seeding the groups failed"
acme_id=$(timeout 60 $PY seed "$BOOTSTRAP" globex acme) || fail "seeding the groups failed"

timeout 60 $PY "$SASL_BOOTSTRAP" alice alice-pw acme globex "$globex_id" || fail "as alice (see above)"
timeout 60 $PY "$SASL_BOOTSTRAP" bob bob-pw globex acme "$acme_id" || fail "as bob (see above)"

for g in acme globex; do
    st groups describe "$g.g" >"$out" 2>&1 || fail "strait groups describe $g.g: $(cat "$out")"
    for t in acme globex; do
        assert_contains "$out" "^$t\\.y +0 +1( |\$)" "$g.g still has offset 1 on $t.y [0]"
    done
done
stop_broker
