#!/usr/bin/env bash
# strait tenants | users | acls, against a broker with the authorizer on:
#  1. two tenants (default and explicit prefix) get their default ACLs; a third whose
#     prefix overlaps one of them is refused, naming the tenant it overlaps, both ways;
#  2. users added with --password and with $STRAIT_USER_PASSWORD (refused with neither)
#     appear in `users list` (mechanisms, iterations, tenant) and `tenants describe`;
#     a user cannot join a second tenant; an unknown tenant stores nothing;
#  3. acls add / list / remove, including a refused bad operation;
#  4. tenants delete is refused while a topic with the prefix exists, and --force deletes
#     the topic, the tenant, its ACLs and its users;
#  5. after a restart tenants, users and ACLs are all still there, and
#     meta/credentials.json holds no password.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

# strait's Kafka-native commands (topics) speak the Kafka protocol: over PLAINTEXT they are
# User:ANONYMOUS, made a super user here as an operator's admin identity would be.
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };'
unset STRAIT_USER_PASSWORD # only where this test sets it
start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
err="$ST_TMP/err.txt"
PW_ALICE='alice-Secret-9f3k'
PW_BOB='bob-Secret-77xq'

ok() { # WHAT ARGS...: the command must succeed; its output is in $out
    local what=$1
    shift
    st "$@" >"$out" 2>"$err" || fail "$what: strait $* failed: $(cat "$err")"
}
refused() { # WHAT PATTERN ARGS...: the command must fail with a message matching PATTERN
    local what=$1 pattern=$2 rc=0
    shift 2
    st "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$what: succeeded, expected a refusal: $(cat "$out")"
    assert_contains "$err" "$pattern" "$what: the message says why"
    log "$what: refused: $(head -n 1 "$err")"
}

# ---- 1. tenants ----
ok "create acme" tenants create acme
assert_contains "$out" 'created tenant acme with prefix "acme\."' "tenants create acme"
for rt in TOPIC GROUP TRANSACTIONAL_ID; do
    assert_contains "$out" "^Tenant:acme +ALLOW +ALL +$rt +PREFIXED +acme\. +\*" "acme's ALL on $rt"
done
assert_contains "$out" "^Tenant:acme +ALLOW +IDEMPOTENT_WRITE +CLUSTER +LITERAL +kafka-cluster" \
    "acme's IDEMPOTENT_WRITE on the cluster"
ok "create bank" tenants create bank --prefix bank_
refused "a prefix inside acme's" 'overlaps tenant acme.*"acme\."' tenants create sub --prefix acme.sub.
refused "a prefix containing bank's" 'overlaps tenant bank.*"bank_"' tenants create wide --prefix ban
refused "an existing tenant" 'tenant acme already exists' tenants create acme --prefix other.
refused "a bad tenant name" 'illegal character' tenants create 'a b'
ok "tenants list" tenants list
assert_contains "$out" '^acme +acme\. +- +0 +4$' "tenants list: acme, no users, no topics, 4 ACLs"
assert_contains "$out" '^bank +bank_ +- +0 +4$' "tenants list: bank"
assert_not_contains "$out" '^(sub|wide) ' "tenants list: no refused tenant"

# ---- 2. users ----
ok "add alice" users add alice --password "$PW_ALICE" --tenant acme
assert_contains "$out" 'SCRAM-SHA-256 \(4096\), SCRAM-SHA-512 \(4096\); tenant acme' "users add alice"
STRAIT_USER_PASSWORD="$PW_BOB" ok "add bob from the environment" \
    users add bob --tenant bank --mechanism SCRAM-SHA-512 --iterations 8192
refused "users add without a password" 'STRAIT_USER_PASSWORD' users add carol
refused "a user in two tenants" 'belongs to tenant acme' users add alice --password x --tenant bank
refused "an unknown tenant" 'no tenant named nope' users add dave --password "$PW_BOB" --tenant nope
refused "an unknown mechanism" 'SCRAM-SHA-256.*SCRAM-SHA-512' users add eve --password p --mechanism MD5
ok "users list" users list
assert_contains "$out" '^alice +SCRAM-SHA-256 \(4096\), SCRAM-SHA-512 \(4096\) +acme$' "users list: alice"
assert_contains "$out" '^bob +SCRAM-SHA-512 \(8192\) +bank$' "users list: bob"
assert_not_contains "$out" '^(dave|eve|carol) ' "users list: nothing stored for refused users"
st users list --json >"$ST_TMP/users.json" || fail "users list --json failed"
assert_not_contains "$ST_TMP/users.json" 'salt|stored_key|server_key|password' "users list shows no secrets"
ok "tenants describe acme" tenants describe acme
assert_contains "$out" '^  prefix: +acme\.$' "describe: prefix"
assert_contains "$out" '^alice +SCRAM-SHA-256' "describe: alice is a user of acme"

# ---- 3. acls ----
ok "acls add" acls add --principal User:alice --operation READ --topic orders
assert_contains "$out" '^added: ALLOW User:alice READ on TOPIC LITERAL "orders" from host \*' "acls add"
ok "acls add again" acls add --principal User:alice --operation READ --topic orders
assert_contains "$out" '^already present' "acls add of an existing ACL"
ok "acls add deny" acls add --principal User:bob --operation WRITE --topic bank_x --prefixed --deny
refused "a bad operation" 'must be one of ALL, READ' acls add --principal User:x --operation FLY --topic t
refused "add without a resource" 'needs --principal, --operation and a resource' acls add --principal User:x --operation READ
ok "acls list alice" acls list --principal User:alice
assert_contains "$out" '^User:alice +ALLOW +READ +TOPIC +LITERAL +orders +\*$' "acls list --principal User:alice"
assert_eq 2 "$(wc -l <"$out")" "acls list --principal User:alice: header and one ACL"
ok "acls list topics" acls list --topic bank_x --deny
assert_contains "$out" '^User:bob +DENY +WRITE +TOPIC +PREFIXED +bank_x' "acls list --topic bank_x --deny"
ok "describe acme with user ACLs" tenants describe acme
assert_contains "$out" '^User:alice +ALLOW +READ +TOPIC' "tenants describe shows its users' ACLs"
ok "acls remove" acls remove --principal User:alice --topic orders
assert_contains "$out" '^removed 1 ACL$' "acls remove --principal User:alice --topic orders"
ok "acls list after remove" acls list --principal User:alice
assert_contains "$out" '^no ACLs match' "alice has no ACL left"
ok "re-add alice's ACL" acls add --principal User:alice --operation DESCRIBE --group g1

# ---- 4. tenants delete ----
ok "create a tenant topic" topics create bank_payments --partitions 2
refused "delete with a topic" 'still has 1 topic with prefix "bank_" \(bank_payments\).*--force' tenants delete bank
ok "delete --force" tenants delete bank --force
assert_contains "$out" 'deleted tenant bank: 4 ACLs; topics: bank_payments; users: bob' "tenants delete --force"
ok "topics list" topics list
assert_not_contains "$out" 'bank_payments' "the tenant's topic is gone"
ok "tenants list" tenants list
assert_not_contains "$out" '^bank ' "tenants list after delete"
ok "users list" users list
assert_not_contains "$out" '^bob ' "bob went with his tenant"
ok "acls list bank" acls list --principal Tenant:bank
assert_contains "$out" '^no ACLs match' "bank's ACLs went with it"
refused "delete again" 'no tenant named bank' tenants delete bank

# ---- 5. restart ----
stop_broker
start_broker
ok "tenants list after restart" tenants list
assert_contains "$out" '^acme +acme\. +alice +0 +4$' "acme survived the restart with alice"
ok "users list after restart" users list
assert_contains "$out" '^alice +SCRAM-SHA-256 \(4096\), SCRAM-SHA-512 \(4096\) +acme$' "alice survived"
ok "acls list after restart" acls list --principal User:alice
assert_contains "$out" '^User:alice +ALLOW +DESCRIBE +GROUP +LITERAL +g1 +\*$' "alice's ACL survived"
creds="$ST_DATA/meta/credentials.json"
[ -s "$creds" ] || fail "no $creds"
assert_contains "$creds" '"alice"' "credentials.json holds alice's credentials"
if grep -qF -- "$PW_ALICE" "$creds" || grep -qF -- "$PW_BOB" "$creds"; then
    fail "credentials.json contains a password"
fi
if grep -rqF -- "$PW_ALICE" "$ST_DATA/meta"; then
    fail "a file under meta/ contains alice's password"
fi
log "credentials.json holds no password"

ok "remove alice" users remove alice
assert_contains "$out" 'removed SCRAM-SHA-256, SCRAM-SHA-512; left tenant acme' "users remove alice"
refused "remove alice again" 'no user named alice' users remove alice
