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
#    and call the checkpoint final);
#  - app.denied also read 50 records per partition the flow (paused) never copied: its
#    rows' NOTE says both things, "not written: ..." first (the row's own "read records
#    never replicated" used to hide the group's note, so the table, whose heading says
#    the offsets were written unless the NOTE says otherwise, called them written).
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
# paused, the flow copies none of the next 100 records; app.denied reads them all
mirror_cli pause 'dc1->dc2' >/dev/null || fail "strait mirror pause failed"
rk dc1 produce orders a 1000 100 "$PARTS" >/dev/null || fail "producing to dc1 failed"
rk dc1 group app.one orders "$PARTS" "$ST_TMP/read-app.one.txt" --limit 100 >"$ST_TMP/group-app.one.txt" ||
    fail "group app.one on dc1 failed: $(cat "$ST_TMP/group-app.one.txt")"
rk dc1 group app.denied orders "$PARTS" "$ST_TMP/read-app.denied.txt" >"$ST_TMP/group-app.denied.txt" ||
    fail "group app.denied on dc1 failed: $(cat "$ST_TMP/group-app.denied.txt")"
assert_eq "0 550
1 550" "$(rk dc1 committed app.denied orders "$PARTS")" "app.denied's commits on dc1"

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
assert_eq 2 "$(grep -cE '^app\.denied +orders +[01] +550 +500 +not written: dc2 refused it \(.*\); read records never replicated$' "$ST_TMP/failover.txt")" \
    "app.denied's rows in strait mirror failover's table saying they were not written (and read records never replicated)"
assert_eq 2 "$(grep -cE '^app\.one +orders +[01] +100 +100 *$' "$ST_TMP/failover.txt")" \
    "app.one's rows in strait mirror failover's table (written: no note)"
grep -qx 'translated group offsets (written to the target unless the NOTE says otherwise):' "$ST_TMP/failover.txt" ||
    fail "strait mirror failover's table heading does not say a NOTE can say the offsets were not written"
log "app.denied: $denied"
mirror_stop
