#!/usr/bin/env bash
# A failover reports a group's offsets as written only once the target acknowledged them
# (review of issue 20): dc1 → dc2 identity naming, dc2 with its authorizer on and the
# mirror's principal (User:ANONYMOUS) allowed everything but READ on group app.denied
# (DENY wins over ALLOW), so dc2 refuses that group's offset commit. Two groups commit
# on dc1, app.one and app.denied; then failover:
#  - app.one is in the report without an error, and its translated offsets are on dc2;
#  - app.denied is in the report with "not written: dc2 refused it (...)", the CLI's
#    table says so, "final_checkpoint" is false, and dc2 indeed holds no offsets for it
#    (the report used to list it as written — the write was sent, never acknowledged —
#    and call the checkpoint final).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/mirror_lib.sh"

PARTS=2
dc_start dc1
DC_EXTRA_CFG='security = { authorizer = true; super_users = "User:nobody"; };' dc_start dc2
acl() { dc_strait dc2 acls add --via-mgmt --principal User:ANONYMOUS "$@" >/dev/null ||
    fail "adding an ACL on dc2 failed: $*"; }
acl --operation ALL --cluster
acl --operation ALL --topic '*'
acl --operation ALL --group '*'
acl --operation READ --group app.denied --deny

rk dc1 produce orders a 0 1000 "$PARTS" --create >/dev/null || fail "producing to dc1 failed"
mirror_write_config "$(MIRROR_GROUPS='"app\\..*"' mirror_flow dc1 dc2 identity '"orders"')"
mirror_start
wait_count 60 dc2 orders 1000
wait_until 30 "flow dc1->dc2 caught up" flow_caught_up 'dc1->dc2' orders
for g in app.one app.denied; do
    rk dc1 group "$g" orders "$PARTS" "$ST_TMP/read-$g.txt" --limit 100 >"$ST_TMP/group-$g.txt" ||
        fail "group $g on dc1 failed: $(cat "$ST_TMP/group-$g.txt")"
done
assert_eq "0 100
1 100" "$(rk dc1 committed app.denied orders "$PARTS")" "app.denied's commits on dc1"

mirror_cli failover 'dc1->dc2' >"$ST_TMP/failover.txt" 2>&1 ||
    fail "strait mirror failover failed: $(cat "$ST_TMP/failover.txt")"
sed 's/^/    /' "$ST_TMP/failover.txt"
mirror_status_json 'dc1->dc2' | jq .failover >"$ST_TMP/report.json"
# what dc2 holds: app.one's offsets (identity naming, dc2 had nothing else: the same
# offsets), none of app.denied's
assert_eq "0 100
1 100" "$(rk dc2 committed app.one orders "$PARTS")" "app.one's offsets on dc2 after failover"
assert_eq "0 -1
1 -1" "$(rk dc2 committed app.denied orders "$PARTS")" "app.denied's offsets on dc2 (refused by its ACLs)"
# what the report says
assert_eq "null" "$(jq -c '.groups[] | select(.group == "app.one") | .error' "$ST_TMP/report.json")" \
    "app.one's error in the failover report (written)"
denied=$(jq -r '.groups[] | select(.group == "app.denied") | .error // "none"' "$ST_TMP/report.json")
case "$denied" in
"not written: dc2 refused it ("*) ;;
*) fail "the failover report does not say app.denied's offsets were not written (its error: $denied)" ;;
esac
assert_eq false "$(jq .final_checkpoint "$ST_TMP/report.json")" "final_checkpoint with a group not written"
grep -E '^app\.denied +orders .*not written: dc2 refused it' "$ST_TMP/failover.txt" >/dev/null ||
    fail "strait mirror failover's table does not say app.denied was not written"
log "app.denied: $denied"
mirror_stop
