#!/usr/bin/env bash
# Tenant isolation, as librdkafka clients see it. One broker with a PLAINTEXT listener
# (User:ANONYMOUS, a super user: the admin path) and a SASL_PLAINTEXT one, the authorizer
# on. Tenants acme (prefix acme.) and globex (prefix globex.), users alice ∈ acme and
# bob ∈ globex, made with `strait tenants create` / `strait users add`.
#
#  1. As admin: topics acme.y, globex.y and public.t with a record each; a live member in
#     acme.live (alice) and one in globex.live (bob), each having committed offset 1.
#  2. rk_tenant_matrix as alice: every operation (create, produce, fetch, list offsets,
#     commit, offset fetch, describe/alter configs, create partitions, metadata, list /
#     describe / delete groups, delete records, ACL admin, delete topics) against acme.*
#     (allowed) and globex.* (denied with TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED,
#     also for names that do not exist); listings show acme.* only. Then the same as bob
#     against acme.*. (DescribeAcls' 31 is checked in the broker log: librdkafka drops it.)
#  3. alice granted DESCRIBE (only) on topic globex.y and group globex.live: now
#     librdkafka finds the leader and the coordinator and sends Produce, Fetch,
#     OffsetCommit, DeleteRecords, JoinGroup, DeleteGroups... to the broker, whose
#     handlers must refuse each for the operation it needs (what DESCRIBE covers —
#     ListOffsets, DescribeGroups, OffsetFetch — is allowed).
#  4. As admin afterwards: nothing foreign was created, deleted or changed — no
#     globex.x / globex.nope / acme.x / acme.nope, globex.y and acme.y still hold their
#     seed record, both live groups still have their member and offset 1.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"
MATRIX="$RK_BIN/rk_tenant_matrix"
ALICE_PW=alice-secret-1
BOB_PW=bob-secret-2

ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";'
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:ANONYMOUS"; };
groups = { initial_rebalance_delay_ms = 0; };'
start_broker
[ -n "$SASL_PLAINTEXT_PORT" ] || fail "the ready file lists no SASL_PLAINTEXT port: $(cat "$ST_READY")"
[ -n "$PLAINTEXT_PORT" ] || fail "the ready file lists no PLAINTEXT port: $(cat "$ST_READY")"
BOOTSTRAP="127.0.0.1:$PLAINTEXT_PORT" # kc and strait: the admin path
SASL_BOOTSTRAP="127.0.0.1:$SASL_PLAINTEXT_PORT"
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"

# ---- tenants and users ----
for t in acme globex; do
    st tenants create "$t" --prefix "$t." >"$out" 2>&1 || fail "strait tenants create $t: $(cat "$out")"
done
st users add alice --password "$ALICE_PW" --tenant acme >"$out" 2>&1 || fail "strait users add alice: $(cat "$out")"
st users add bob --password "$BOB_PW" --tenant globex >"$out" 2>&1 || fail "strait users add bob: $(cat "$out")"
log "tenants acme (alice) and globex (bob) created"

# ---- 1. seed, as admin ----
for t in acme.y globex.y public.t; do
    st topics create "$t" --partitions 1 >"$out" || fail "strait topics create $t: $(cat "$out")"
    printf 'seed-%s\n' "$t" | kc -P -t "$t" -p 0 -X acks=all || fail "kcat -P to $t (PLAINTEXT, the admin path) failed"
done
st_bg "$ST_TMP/alice-member.out" "$ST_TMP/alice-member.err" \
    "$MATRIX" member "$SASL_BOOTSTRAP" alice "$ALICE_PW" acme.live acme.y
st_bg "$ST_TMP/bob-member.out" "$ST_TMP/bob-member.err" \
    "$MATRIX" member "$SASL_BOOTSTRAP" bob "$BOB_PW" globex.live globex.y
member_committed() { grep -q "^committed $1 0 1\$" "$ST_TMP/$2-member.out"; }
wait_until 60 "alice's member in acme.live to read and commit acme.y (stderr: $ST_TMP/alice-member.err)" \
    member_committed acme.y alice
wait_until 60 "bob's member in globex.live to read and commit globex.y (stderr: $ST_TMP/bob-member.err)" \
    member_committed globex.y bob
log "live members: alice in acme.live, bob in globex.live, each committed offset 1"

# ---- 2. the matrix, both ways ----
rc=0
timeout 240 "$MATRIX" matrix "$SASL_BOOTSTRAP" alice "$ALICE_PW" acme. globex. | tee "$ST_TMP/matrix-alice.txt" || rc=1
timeout 240 "$MATRIX" matrix "$SASL_BOOTSTRAP" bob "$BOB_PW" globex. acme. | tee "$ST_TMP/matrix-bob.txt" || rc=1
[ -s "$ST_TMP/matrix-alice.txt" ] && [ -s "$ST_TMP/matrix-bob.txt" ] || fail "a matrix run printed nothing"
# librdkafka drops DescribeAcls' response-level error: the broker says it in its log.
broker_log_since_start >"$ST_TMP/broker-run.log"
for u in alice bob; do
    grep -q "DescribeAcls: CLUSTER_AUTHORIZATION_FAILED: User:$u" "$ST_TMP/broker-run.log" ||
        { echo "FAIL  DescribeAcls as $u: no CLUSTER_AUTHORIZATION_FAILED for User:$u in the broker log" |
            tee "$ST_TMP/matrix-log-$u.txt"; rc=1; }
done

# ---- 3. behind Metadata and FindCoordinator: alice may DESCRIBE globex.y and globex.live ----
acl() { # VERB TYPE NAME: add or remove "User:alice DESCRIBE on TYPE (topic|group) NAME"
    st acls "$1" --principal User:alice --operation DESCRIBE "--$2" "$3" >"$out" 2>&1 ||
        fail "strait acls $1 --$2 $3: $(cat "$out")"
}
acl add topic globex.y
acl add group globex.live
timeout 240 "$MATRIX" behind "$SASL_BOOTSTRAP" alice "$ALICE_PW" acme. globex. | tee "$ST_TMP/matrix-behind.txt" || rc=1
acl remove topic globex.y
acl remove group globex.live
mismatches=$(cat "$ST_TMP"/matrix-*.txt | grep -c '^FAIL' || true)

# ---- 4. nothing foreign changed (seen through the admin path) ----
kc -L >"$out" || fail "kcat -L (admin) failed"
for t in globex.x globex.nope acme.x acme.nope; do
    assert_not_contains "$out" "topic \"$t\"" "$t was denied or deleted, so it must not exist"
done
for t in acme.y globex.y public.t; do
    assert_contains "$out" "topic \"$t\" with 1 partitions" "$t still exists with 1 partition"
    assert_eq "seed-$t" "$(read_topic "$t" '%s\n')" "$t holds exactly its seed record"
done
for g in acme.live globex.live; do
    st groups describe "$g" >"$out" || fail "strait groups describe $g: $(cat "$out")"
    assert_contains "$out" "^${g%.live}\\.y +0 +1( |\$)" "$g still has offset 1 on ${g%.live}.y [0]"
    assert_contains "$out" "^Group \"$g\": Stable, 1 member" "$g still has its one member"
done
kill -0 "${ST_PIDS[0]}" && kill -0 "${ST_PIDS[1]}" || fail "a live member exited: $(cat "$ST_TMP"/*-member.err)"
# The members leave while the broker still answers (a consumer close waits for it).
for pid in "${ST_PIDS[@]}"; do
    kill -TERM "$pid"
    st_wait_pid "$pid" 20 || fail "a member (pid $pid) still runs 20 s after SIGTERM"
done

[ "$rc" -eq 0 ] || fail "$mismatches matrix rows differ from the expected result (see the FAIL lines above)"
stop_broker
