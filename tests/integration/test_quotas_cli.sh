#!/usr/bin/env bash
# strait quotas | explain and the client-quota Kafka APIs, against a broker with the
# authorizer on:
#  1. quotas set / describe / remove for every entity form (user, user+client-id, client-id,
#     each with defaults, and tenants), with the previous value shown; bad keys, values and
#     entities refused with a message saying what is wrong, and nothing stored;
#  2. quotas usage shows a tenant's limits against its use (partitions of its topics);
#     quotas metrics gives per-second rows;
#  3. explain names the deciding ACL binding (a DENY for a denied topic, the tenant's
#     PREFIXED ALLOW for an allowed one, "no ACL" for a stranger) and, for a client, the
#     quota entity that applies by Kafka's precedence, its value and the budget left, plus
#     the tenant's quota and limits;
#  4. DescribeClientQuotas / AlterClientQuotas from a client (rk_client_quotas, raw frames):
#     refused without ACLs, then the full check; a quota set through the Kafka API shows up
#     in `strait quotas describe`;
#  5. after a restart every quota is still there.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

ST_EXTRA_CFG='security = { authorizer = true; };
quotas = { window_num = 11; window_size_seconds = 1; };'
start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
err="$ST_TMP/err.txt"

ok() { # WHAT ARGS...: the command must succeed; its output is in $out
    local what=$1
    shift
    st "$@" >"$out" 2>"$err" || fail "$what: strait $* failed: $(cat "$err")"
}
refused() { # WHAT EXIT PATTERN ARGS...: the command must exit EXIT with a message matching PATTERN
    local what=$1 want=$2 pattern=$3 rc=0
    shift 3
    st "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$out" "$err")"
    assert_contains "$err" "$pattern" "$what: the message says why"
    log "$what: refused: $(head -n 1 "$err")"
}

# ---- 1. set / describe / remove ----
ok "tenant acme" tenants create acme
ok "user alice" users add alice --password alice-pw --tenant acme

ok "user" quotas set --user alice producer_byte_rate=1M consumer_byte_rate=2M
assert_contains "$out" '^user=alice: producer_byte_rate = 1048576 \(1\.0 MiB/s\) \(new\)$' "set --user"
assert_contains "$out" '^user=alice: consumer_byte_rate = 2097152 ' "set --user, second key"
ok "user+client" quotas set --user alice --client-id app1 request_percentage=50
ok "user+default client" quotas set --user alice --default-client-id producer_byte_rate=3M
ok "default user+client" quotas set --default-user --client-id app1 consumer_byte_rate=100K
ok "default user+default client" quotas set --default-user --default-client-id producer_byte_rate=4096
ok "default user" quotas set --default-user producer_byte_rate=512K
ok "client" quotas set --client-id app1 producer_byte_rate=100
ok "default client" quotas set --default-client-id producer_byte_rate=200
ok "tenant" quotas set --tenant acme retained_bytes=10M partitions=4 producer_byte_rate=4M
ok "default tenant" quotas set --default-tenant connections=100
ok "literal <default>" quotas set --user '<default>' request_percentage=10
ok "change a value" quotas set --user alice producer_byte_rate=1.5M
assert_contains "$out" 'producer_byte_rate = 1572864 \(1\.5 MiB/s\) \(was 1048576 \(1\.0 MiB/s\)\)' \
    "set shows the previous value"

refused "an unknown key" 1 'unknown quota key "bogus"' quotas set --user alice bogus=1
refused "a negative value" 1 'greater than 0' quotas set --user alice producer_byte_rate=-5
refused "a limit on a user" 1 'partitions is a tenant limit' quotas set --user alice partitions=5
refused "a value that is no number" 2 'not a number' quotas set --user alice producer_byte_rate=abc
refused "no KEY=VALUE" 2 'is not KEY=VALUE' quotas set --user alice producer_byte_rate
refused "a tenant with a user" 2 'stands alone' quotas set --tenant acme --user alice partitions=1
refused "no entity" 2 'missing the entity' quotas set producer_byte_rate=1
refused "one bad key among good ones" 1 'unknown quota key "nope"' \
    quotas set --user carol producer_byte_rate=1M nope=1
ok "describe carol" quotas describe --user carol
assert_contains "$out" '^no quotas set$' "a refused set stores nothing, not even its good keys"

ok "describe all" quotas describe
cp "$out" "$ST_TMP/describe-before.txt"
assert_contains "$out" '^ENTITY +KEY +VALUE$' "describe: header"
assert_contains "$out" '^tenant=acme +retained_bytes +10485760 \(10\.0 MiB\)$' "describe: tenant limit"
assert_contains "$out" '^tenant=acme +partitions +4$' "describe: tenant partitions"
assert_contains "$out" '^tenant=<default> +connections +100$' "describe: default tenant"
assert_contains "$out" '^user=alice +producer_byte_rate +1572864 ' "describe: user"
assert_contains "$out" '^user=alice client-id=app1 +request_percentage +50%$' "describe: user+client"
assert_contains "$out" '^user=alice client-id=<default> +producer_byte_rate +3145728 ' "describe: user+default client"
assert_contains "$out" '^user=<default> client-id=app1 +consumer_byte_rate +102400 ' "describe: default user+client"
assert_contains "$out" '^user=<default> client-id=<default> +producer_byte_rate +4096 ' "describe: default user+default client"
assert_contains "$out" '^user=<default> +producer_byte_rate +524288 ' "describe: default user"
assert_contains "$out" '^user=<default> +request_percentage +10%$' "describe: the literal <default> is the default"
assert_contains "$out" '^client-id=app1 +producer_byte_rate +100$' "describe: client"
assert_contains "$out" '^client-id=<default> +producer_byte_rate +200$' "describe: default client"
ok "describe one entity" quotas describe --user alice
assert_eq 3 "$(wc -l <"$out")" "describe --user alice: header and its 2 keys (exactly that entity)"
ok "describe default user" quotas describe --default-user
assert_not_contains "$out" 'client-id' "describe --default-user: not the (default user, client) entities"
st quotas describe --user alice --json >"$out" || fail "describe --json failed"
assert_contains "$out" '"key": "consumer_byte_rate"' "describe --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["quotas"])==2' "$out" ||
    fail "describe --json is not the expected JSON"

ok "remove" quotas remove --user alice consumer_byte_rate request_percentage
assert_contains "$out" '^user=alice: removed consumer_byte_rate$' "remove"
assert_contains "$out" '^user=alice: request_percentage was not set$' "remove of a key not set"
ok "describe after remove" quotas describe --user alice
assert_not_contains "$out" 'consumer_byte_rate' "the removed key is gone"
refused "remove an unknown key" 1 'unknown quota key "bogus"' quotas remove --user alice bogus
refused "remove without keys" 2 'missing the KEY' quotas remove --user alice
ok "restore" quotas set --user alice consumer_byte_rate=2M

# ---- 2. usage and metrics ----
# strait topics speaks the Kafka protocol: over PLAINTEXT it is User:ANONYMOUS, which needs
# CREATE, granted over the management endpoint (--via-mgmt: it needs only the token).
ok "allow ANONYMOUS to create topics" acls add --via-mgmt --principal User:ANONYMOUS --operation CREATE --cluster
ok "topic" topics create acme.orders --partitions 3
ok "usage acme" quotas usage --tenant acme
assert_contains "$out" '^Tenant acme \(prefix acme\.; users: alice\)$' "usage: the tenant"
assert_contains "$out" '^partitions +4 +3 +1 +75%$' "usage: partition limit 4, 3 used, 1 left"
assert_contains "$out" '^topics +- +1 +- +-$' "usage: topics without a limit"
assert_contains "$out" '^retained_bytes +10485760 \(10\.0 MiB\) ' "usage: retained bytes limit"
assert_contains "$out" '^connections +100 +0 +100 +0%$' "usage: the default tenant's connection limit"
assert_contains "$out" '^tenant quotas: producer_byte_rate 4194304' "usage: the tenant's rate quota"
assert_contains "$out" '^last 10 s: ' "usage: recent metrics"
assert_contains "$out" '^Sensors:$' "usage: the sensors section"
# a little traffic (PLAINTEXT: User:ANONYMOUS, held to the (default user, default client)
# quota of 4096 B/s set above) shows up as a sensor with its rate against that quota
ok "topic for traffic" topics create traffic
ok "allow ANONYMOUS to write" acls add --via-mgmt --principal User:ANONYMOUS --operation WRITE --topic traffic
head -c 7000 /dev/urandom | base64 -w 500 | kc -P -t traffic -X client.id=loadgen ||
    fail "kcat could not produce to traffic"
ok "usage with traffic" quotas usage
assert_contains "$out" '^user=ANONYMOUS client-id=loadgen +producer_byte_rate +[0-9.]+ (B|KiB)/s +4096 \(4\.0 KiB/s\) +[0-9]+% +[0-9]+$' \
    "usage: the producer's sensor, its rate against the (default, default) quota"
ok "explain the producer" explain --principal User:ANONYMOUS --client-id loadgen --kind produce
assert_contains "$out" '^produce +client +user=<default> client-id=<default> +4096 \(4\.0 KiB/s\) +[1-9][0-9.]* (B|KiB)/s +-?[0-9.]+ (B|KiB)/s$' \
    "explain: the quota entity of a producing client, its rate and budget"
refused "usage of an unknown tenant" 1 'no tenant named nope' quotas usage --tenant nope
ok "usage all" quotas usage
assert_contains "$out" '^Tenant acme ' "usage without --tenant lists every tenant"
ok "metrics" quotas metrics --tenant acme --seconds 5
assert_eq 7 "$(wc -l <"$out")" "metrics: title, header and 5 seconds"
assert_contains "$out" '^SECOND +BYTES-IN +BYTES-OUT +REQUESTS +THROTTLE-MS +DENIALS$' "metrics header"

# ---- 3. explain ----
ok "deny acme.secret" acls add --via-mgmt --principal User:alice --operation READ --topic acme.secret --deny
ok "explain denied" explain --principal User:alice --topic acme.secret --operation READ
assert_contains "$out" '^principal User:alice \(tenant acme\), host \*$' "explain: who"
assert_contains "$out" '^READ +DENIED +DENY_BINDING +DENIED by DENY User:alice READ on TOPIC LITERAL "acme\.secret"' \
    "explain names the DENY binding"
ok "explain every operation" explain --principal User:alice --topic acme.secret
assert_contains "$out" '^WRITE +ALLOWED +ALLOW_BINDING +ALLOWED by ALLOW Tenant:acme ALL on TOPIC PREFIXED "acme\."' \
    "explain names the tenant's ALLOW for another operation"
ok "explain stranger" explain --principal User:bob --topic orders --operation WRITE
assert_contains "$out" '^WRITE +DENIED +NO_ACL_FOUND ' "explain: no ACL on the resource"
ok "explain produce" explain --principal User:alice --client-id app1 --kind produce
assert_contains "$out" '^produce +client +user=alice client-id=<default> +3145728 \(3\.0 MiB/s\) ' \
    "explain: (alice, default client) decides produce for app1 (Kafka's precedence)"
assert_contains "$out" '^produce +tenant +tenant=acme +4194304 \(4\.0 MiB/s\) ' "explain: the tenant's quota"
assert_contains "$out" '^throttle owed now: produce 0 ms$' "explain: throttle owed"
assert_contains "$out" '^partitions +4 +3 +1 +75%$' "explain: the tenant's limits"
ok "explain request" explain --principal User:alice --client-id app1 --kind request
assert_contains "$out" '^request +client +user=alice client-id=app1 +50% ' "explain: (alice, app1) decides request"
ok "explain all kinds" explain --principal User:eve --client-id app1
assert_contains "$out" '^fetch +client +user=<default> client-id=app1 +102400 ' "explain: (default, app1) decides fetch for eve"
assert_contains "$out" '^produce +client +user=<default> client-id=<default> +4096 ' \
    "explain: (default user, default client) comes before the default user for eve"
assert_contains "$out" '^request +client +user=<default> +10% ' "explain: the default user decides request for eve"
st explain --principal User:alice --client-id app1 --kind produce --json >"$out" || fail "explain --json failed"
assert_contains "$out" '"budget"' "explain --json has the budget"
refused "explain without a principal" 2 'missing --principal' explain --topic t
refused "explain a bad kind" 1 'produce, fetch or request' explain --principal User:alice --kind bogus
refused "explain a bad operation" 1 'must be one of ALL' explain --principal User:alice --topic t --operation FLY

# ---- 4. the Kafka APIs ----
"$RK_BIN/rk_client_quotas" "$BOOTSTRAP" denied >"$out" 2>&1 || { cat "$out" >&2; fail "rk_client_quotas denied"; }
log "$(tail -n 1 "$out")"
ok "allow ANONYMOUS" acls add --via-mgmt --principal User:ANONYMOUS --operation ALTER_CONFIGS --cluster
"$RK_BIN/rk_client_quotas" "$BOOTSTRAP" api >"$out" 2>&1 || { cat "$out" >&2; fail "rk_client_quotas api"; }
"$RK_BIN/rk_client_quotas" "$BOOTSTRAP" malformed >"$out" 2>&1 ||
    { cat "$out" >&2; fail "rk_client_quotas malformed"; }
sed 's/^/  /' "$out"
log "$(tail -n 1 "$out")"
ok "describe rk-user" quotas describe --user rk-user
assert_contains "$out" '^user=rk-user +producer_byte_rate +1048576 ' "a quota set through AlterClientQuotas"
assert_not_contains "$out" 'consumer_byte_rate' "a quota removed through AlterClientQuotas"
ok "describe rk-tenant" quotas describe --tenant rk-tenant
assert_contains "$out" '^tenant=rk-tenant +partitions +7$' "a tenant limit set through AlterClientQuotas"
ok "describe all" quotas describe
cp "$out" "$ST_TMP/describe-before.txt"

# ---- 5. restart ----
[ -s "$ST_DATA/meta/quotas.json" ] || fail "no $ST_DATA/meta/quotas.json"
stop_broker
start_broker
ok "describe after restart" quotas describe
assert_same_file "$ST_TMP/describe-before.txt" "$out" "every quota after a restart"
ok "explain after restart" explain --principal User:alice --client-id app1 --kind produce
assert_contains "$out" '^produce +client +user=alice client-id=<default> +3145728 ' "explain after a restart"
