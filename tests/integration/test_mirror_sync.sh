#!/usr/bin/env bash
# strait-mirror keeps a copy's topic configs and ACLs in step with the source (issue 20
# limits 1 and 2), dc1 → dc2 with prefix naming, sync_interval_ms 2000. dc2 runs its
# authorizer: the mirror connects as a super user on PLAINTEXT, the consumer ann on
# SASL_PLAINTEXT. Configs and ACLs are set and read with a Kafka admin client
# (rk_mirror_admin: DescribeConfigs/AlterConfigs, Describe/Create/DeleteAcls).
#  1. at creation: the copy gets the source's overrides except the ones never copied
#     (message.timestamp.type); the source's ACLs on orders and on group app.one arrive
#     translated (orders → dc1.orders, PREFIXED ord → dc1.ord, ALL → READ, DESCRIBE,
#     DESCRIBE_CONFIGS), WRITE never; nothing for a topic not mirrored; dc2's own ACL
#     and override stay;
#  2. ann, who has ALL on orders at dc1, reads dc1.orders on dc2 but may not write it;
#  3. changes on dc1 (retention.ms and cleanup.policy changed, an ACL removed, another
#     added) are on dc2 within one sync interval (measured, with 2 s for round trips);
#  4. after a restart of the daemon, an ACL removed on dc1 goes from dc2 too (what the
#     mirror made is remembered on dc2), and dc2's own ACL still stays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

ADMIN="$RK_BIN/rk_mirror_admin"
[ -x "$ADMIN" ] || fail "$ADMIN is not built"
SYNC_MS=2000
PARTS=2

dc_start dc1 wan
DC_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";' \
    DC_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };' dc_start dc2
[ -n "${DC_SASL[dc2]}" ] || fail "dc2 has no SASL_PLAINTEXT listener"
adm() { timeout 60 "$ADMIN" "$1" "${DC_BOOT[$2]}" "${@:3}"; }
acls_of() { adm acls "$1"; }
configs_of() { adm configs "$1" "$2" | paste -sd' '; }

rk dc1 produce orders a 0 1000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
rk dc1 produce other a 0 10 1 --create >/dev/null || fail "producing to dc1 failed"
adm alter-configs dc1 orders retention.ms=3600000 max.message.bytes=2000000 \
    message.timestamp.type=LogAppendTime || fail "altering orders' configs on dc1 failed"
adm acl-add dc1 TOPIC LITERAL orders User:ann ALL ALLOW || fail "CreateAcls on dc1 failed"
adm acl-add dc1 TOPIC LITERAL orders User:pete WRITE ALLOW
adm acl-add dc1 TOPIC PREFIXED ord User:bob READ ALLOW
adm acl-add dc1 TOPIC LITERAL other User:ann READ ALLOW
adm acl-add dc1 GROUP LITERAL app.one User:ann READ ALLOW
adm acl-add dc1 TOPIC LITERAL orders User:eve READ DENY
# dc2's own, which the mirror must leave alone
adm acl-add dc2 TOPIC LITERAL dc1.orders User:ops DESCRIBE ALLOW
adm acl-add dc2 TOPIC LITERAL dc1.orders User:ann DESCRIBE ALLOW
dc_strait dc2 users add ann --password ann-pw >/dev/null || fail "strait users add ann on dc2 failed"

mirror_write_config "$(MIRROR_SYNC_MS=$SYNC_MS mirror_flow dc1 dc2 prefix '"orders"' "sync_acls = true;")"
mirror_start
wait_count 60 dc2 dc1.orders 1000

# ---- 1. at creation ----
want_acls() {
    cat <<EOF | sort
GROUP LITERAL app.one User:ann * READ ALLOW
TOPIC LITERAL dc1.orders User:ann * DESCRIBE ALLOW
TOPIC LITERAL dc1.orders User:ann * DESCRIBE_CONFIGS ALLOW
TOPIC LITERAL dc1.orders User:ann * READ ALLOW
TOPIC LITERAL dc1.orders User:eve * READ DENY
TOPIC LITERAL dc1.orders User:ops * DESCRIBE ALLOW
TOPIC PREFIXED dc1.ord User:bob * READ ALLOW
EOF
}
acls_are() { [ "$(acls_of dc2)" = "$1" ]; }
wait_until 20 "dc2's ACLs to be dc1's translated ones plus dc2's own ($(want_acls | paste -sd';'))" \
    acls_are "$(want_acls)"
log "ACLs on dc2:"
acls_of dc2 | sed 's/^/    /'
configs_have() { [ "$(configs_of dc2 dc1.orders)" = "$1" ]; }
wait_until 20 "dc1.orders' configs on dc2" configs_have "max.message.bytes=2000000 retention.ms=3600000"
log "configs of dc1.orders on dc2: $(configs_of dc2 dc1.orders) (dc1: $(configs_of dc1 orders))"
# an override of dc2's own, among the kept ones
dc_strait dc2 topics alter dc1.orders -c min.insync.replicas=1 >/dev/null || fail "altering dc1.orders on dc2 failed"

# ---- 2. ann on dc2: reads, may not write ----
KC_ANN=(-b "${DC_SASL[dc2]}" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN
    -X sasl.username=ann -X sasl.password=ann-pw)
n=$(timeout 30 "$KCAT" "${KC_ANN[@]}" -C -t dc1.orders -p 0 -o beginning -c 10 -e -q -f '%o\n' 2>"$ST_TMP/ann-read.err" | wc -l)
assert_eq 10 "$n" "records ann read from dc1.orders on dc2 ($(head -c 300 "$ST_TMP/ann-read.err"))"
if echo x | timeout 30 "$KCAT" "${KC_ANN[@]}" -P -t dc1.orders -p 0 >"$ST_TMP/ann-write.out" 2>&1; then
    fail "ann could write to dc1.orders on dc2 (she has ALL on orders at dc1; a copy is written by the mirror alone)"
fi
assert_contains "$ST_TMP/ann-write.out" "[Aa]uthorization" "ann's refused write to dc1.orders on dc2"
log "ann reads dc1.orders on dc2 and is refused writing it: $(grep -o '[A-Za-z ]*[Aa]uthorization failed' "$ST_TMP/ann-write.out" | head -n 1)"

# ---- 3. changes follow within one sync interval ----
t0=$(date +%s%3N)
adm alter-configs dc1 orders retention.ms=7200000 cleanup.policy=compact max.message.bytes=2000000 ||
    fail "altering orders on dc1 failed"
adm acl-del dc1 TOPIC PREFIXED ord User:bob READ ALLOW || fail "DeleteAcls on dc1 failed"
adm acl-add dc1 TOPIC LITERAL orders User:carol DESCRIBE ALLOW || fail "CreateAcls on dc1 failed"
want2=$({
    want_acls | grep -v User:bob
    echo 'TOPIC LITERAL dc1.orders User:carol * DESCRIBE ALLOW'
} | sort)
followed() {
    [ "$(configs_of dc2 dc1.orders)" = "cleanup.policy=compact max.message.bytes=2000000 min.insync.replicas=1 retention.ms=7200000" ] &&
        acls_are "$want2"
}
wait_until 20 "dc1's config and ACL changes on dc2" followed
took=$(($(date +%s%3N) - t0))
log "dc1's changes were on dc2 after $took ms (sync interval $SYNC_MS ms): $(configs_of dc2 dc1.orders)"
[ "$took" -le $((SYNC_MS + 2000)) ] || fail "the changes took $took ms to reach dc2 (one sync interval is $SYNC_MS ms)"

# ---- 4. a restart remembers what the mirror made ----
mirror_stop
mirror_start
adm acl-del dc1 TOPIC LITERAL orders User:ann ALL ALLOW || fail "DeleteAcls on dc1 failed"
# gone: ann's READ and DESCRIBE_CONFIGS the mirror made; stays: her DESCRIBE, dc2's own
want3=$(grep -v -e 'dc1.orders User:ann \* READ ' -e 'dc1.orders User:ann \* DESCRIBE_CONFIGS ' <<<"$want2")
wait_until 20 "ann's mirrored ACLs on dc1.orders to go from dc2 (her own DESCRIBE stays)" acls_are "$want3"
log "after a restart, dc1's removal of ann's ACL removed the mirror's copies only:"
acls_of dc2 | sed 's/^/    /'
mirror_stop
