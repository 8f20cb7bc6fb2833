#!/usr/bin/env bash
# strait's operations commands (issue 15), against a broker reached only through the
# Kafka protocol for the Kafka-native commands (--mgmt points nowhere and there is no
# token: they must not need the management endpoint):
#   topics: create several, list/describe/delete by regex, describe several;
#   configs describe/alter (topic, broker, cluster-wide), incremental over AlterConfigs;
#   delete-records to an offset, a time and the end; logdirs with sizes;
#   groups: list --state/--regex, describe several, delete-offsets, reset-offsets
#     --to-offset past the end (clamped, with a note), --by-duration, --to-current
#     --export then --from-file, one refusal for an active group, no field names;
#   acls add with several principals and operations (Kafka admin API; --via-mgmt agrees);
#   connection profiles (--command-config, --profile, $STRAIT_PROFILE, a missing one, a
#     readable one holding a password, a line too long);
#   bash and zsh completion read from the real --help texts.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

ST_EXTRA_CFG='groups = { initial_rebalance_delay_ms = 0; };'
start_broker
# Kafka-native commands: no management endpoint at all.
kst() { timeout 60 "$STRAIT" --mgmt "ipc://$ST_TMP/nowhere.ipc" --token none --bootstrap "$BOOTSTRAP" "$@"; }
mst() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
err="$ST_TMP/err.txt"
ok() { # WHAT ARGS...: kst must succeed; output in $out, stderr in $err
    local what=$1
    shift
    kst "$@" >"$out" 2>"$err" || fail "$what: strait $* failed: $(cat "$err")"
}
refused() { # WHAT STATUS PATTERN ARGS...
    local what=$1 want=$2 pattern=$3 rc=0
    shift 3
    kst "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit status $rc, expected $want: $(cat "$err")"
    assert_contains "$err" "$pattern" "$what: the message"
    log "$what: $(head -n 1 "$err")"
}
no_field_names() { # FILE WHAT: no request field or internal command names in messages
    assert_not_contains "$1" 'to_datetime|to_earliest|to_latest|to_offset|shift_by|resource_name|"operation"|"mechanism"|users\.remove|groups\.' "$2"
}

# ---- topics ----
ok "create three" topics create ops.a ops.b ops.c --partitions 2 --config retention.ms=600000
assert_eq 3 "$(grep -c '^created topic "ops\.[abc]" with 2 partitions$' "$out")" "three topics created"
ok "list by regex" topics list --regex 'ops\.[ab]'
assert_eq "TOPIC PARTITIONS INTERNAL|ops.a 2 no|ops.b 2 no" "$(awk '{print $1, $2, $3}' "$out" | paste -sd'|')" "topics list --regex"
ok "describe two" topics describe ops.a ops.b
assert_eq 2 "$(grep -c '^Topic: ops\.[ab]  Partitions: 2$' "$out")" "describe: both headers"
assert_contains "$out" '^retention\.ms +600000 +override$' "describe: the override"
ok "describe --json by regex" topics describe --regex 'ops\..' --json
assert_eq '["ops.a","ops.b","ops.c"]' "$(jq -c '[.[].name]' "$out")" "describe --regex --json"
refused "describe a missing topic" 1 'topic "ops.none"' topics describe ops.none
ok "still missing" topics list --regex 'ops\.none'
assert_contains "$out" '^no topics$' "describing a missing topic did not create it"
ok "delete by regex" topics delete --regex 'ops\.[bc]'
assert_eq 2 "$(grep -c '^deleted topic "ops\.[bc]"$' "$out")" "delete --regex"

# ---- configs ----
ok "alter set" configs alter --topic ops.a --set segment.ms=3600000 --set max.message.bytes=2000000
ok "describe overrides" configs describe --topic ops.a --overrides
assert_eq "max.message.bytes 2000000 topic|retention.ms 600000 topic|segment.ms 3600000 topic" \
    "$(tail -n +2 "$out" | awk '{print $1, $2, $3}' | sort | paste -sd'|')" "overrides after --set (the earlier one kept)"
ok "alter delete" configs alter --topic ops.a --delete segment.ms
ok "describe overrides" configs describe --topic ops.a --overrides --json
assert_eq '["max.message.bytes","retention.ms"]' "$(jq -c '[.[].name] | sort' "$out")" "--delete removed only segment.ms"
refused "delete a missing override" 1 'no override of segment.ms' configs alter --topic ops.a --delete segment.ms
refused "a bad value" 1 'retention.ms' configs alter --topic ops.a --set retention.ms=soon
refused "set and delete one" 2 'both set and deleted' configs alter --topic ops.a --set a=1 --delete a
ok "broker configs" configs describe --broker 0
assert_contains "$out" '^log\.retention\.ms ' "broker configs: log.retention.ms"
ok "cluster configs before" configs describe --cluster
assert_contains "$out" '^the cluster-wide defaults: no configs$' "nothing set cluster-wide yet"
ok "cluster alter" configs alter --cluster --set log.retention.ms=7200000 --set log.segment.bytes=1048576
assert_contains "$out" '^altered the cluster-wide defaults: 2 set, 0 deleted$' "configs alter --cluster"
ok "cluster alter again" configs alter --cluster --delete log.segment.bytes
ok "cluster configs" configs describe --cluster --json
assert_eq '[["log.retention.ms","7200000","cluster"]]' "$(jq -c '[.[] | [.name, .value, .source]]' "$out")" \
    "cluster-wide: the kept override only"
ok "broker sees it" configs describe --broker 0
assert_contains "$out" '^log\.retention\.ms +7200000 +cluster$' "broker 0 shows the cluster-wide value"
ok "broker alter" configs alter --broker 0 --set log.retention.ms=3600000
ok "broker overrides" configs describe --broker 0 --overrides
assert_eq "log.retention.ms 3600000 broker" "$(tail -n +2 "$out" | awk '{print $1, $2, $3}')" "a per-broker override"
# A broker the cluster lacks is named at once (librdkafka waited its 30 s for it).
t0=$(date +%s)
refused "configs of a broker the cluster lacks" 1 '^strait: there is no broker 7 in the cluster \(its brokers: 0\)$' configs describe --broker 7
refused "alter a broker the cluster lacks" 1 '^strait: there is no broker 7 in the cluster \(its brokers: 0\)$' configs alter --broker 7 --set log.retention.ms=1
[ $(($(date +%s) - t0)) -lt 20 ] || fail "configs --broker 7 took $(($(date +%s) - t0)) s to refuse"
# A topic that does not exist is said so, with where to look, by every command that
# names one (they said "Broker: Unknown topic or partition", configs its name twice).
nosuch='^strait: topic "ops\.nosuch" does not exist \(strait topics list shows the topics\)$'
refused "configs of a missing topic" 1 "$nosuch" configs describe --topic ops.nosuch
refused "alter a missing topic" 1 "$nosuch" configs alter --topic ops.nosuch --set retention.ms=1
refused "describe a missing topic" 1 "$nosuch" topics describe ops.nosuch
refused "delete-records of a missing topic" 1 "$nosuch" delete-records ops.nosuch --all
refused "logdirs of a missing topic" 1 "$nosuch" logdirs --topic ops.nosuch
refused "reset-offsets on a missing topic" 1 "$nosuch" groups reset-offsets ops-g --topic ops.nosuch --to-earliest
refused "delete-offsets on a missing topic" 1 "$nosuch" groups delete-offsets ops-g --topic ops.nosuch

# ---- delete-records and logdirs ----
seq 1 50 | kst produce -t ops.a -p 0 2>"$err" || fail "produce to ops.a [0]: $(cat "$err")"
seq 1 10 | kst produce -t ops.a -p 1 2>"$err" || fail "produce to ops.a [1]: $(cat "$err")"
ok "delete to an offset" delete-records ops.a --to-offset 20 --partition 0
assert_eq "TOPIC PARTITION LOG-START-OFFSET|ops.a 0 20" "$(awk '{print $1, $2, $3}' "$out" | paste -sd'|')" "delete-records --to-offset"
ok "delete past the end" delete-records ops.a --to-offset 1000 --partition 1
assert_contains "$err" 'note: ops.a \[1\]: offset 1000 is past the log end 10: deleting to the end' "the clamp is said"
assert_contains "$out" '^ops\.a +1 +10$' "delete-records clamped to the end"
kst consume -t ops.a -p 0 -b -e -f '%o\n' 2>/dev/null | head -n 1 >"$ST_TMP/first.txt"
assert_eq 20 "$(cat "$ST_TMP/first.txt")" "the first readable offset after delete-records"
marker=$(date +%s%3N)
wait_until 5 "the clock to pass the marker" test "$(date +%s%3N)" -gt "$marker"
printf 'new1\nnew2\n' | kst produce -t ops.a -p 0 2>"$err" || fail "produce new1, new2: $(cat "$err")"
ok "delete by time" delete-records ops.a --to-time "$marker" --partition 0
assert_contains "$out" '^ops\.a +0 +50$' "delete-records --to-time: up to the first record after the marker"
ok "logdirs" logdirs --topic ops.a
assert_contains "$out" '^0 +/.* +ops\.a +0 +[0-9.]+ (B|KiB)$' "logdirs: partition 0 with its size"
ok "logdirs json" logdirs --json
[ "$(jq '[.[].partitions[] | select(.topic == "ops.a" and .partition == 0) | .size_bytes][0]' "$out")" -gt 0 ] ||
    fail "logdirs --json: ops.a [0] has no size: $(cat "$out")"
assert_eq "$(cat "$ST_DATA"/ops.a-0/*.log | wc -c)" \
    "$(jq '[.[].partitions[] | select(.topic == "ops.a" and .partition == 0) | .size_bytes][0]' "$out")" \
    "logdirs size = the bytes of the partition's segments"
refused "logdirs of a broker the cluster lacks" 1 '^strait: there is no broker 7 in the cluster \(its brokers: 0\)$' logdirs --broker 7
[ ! -s "$out" ] || fail "logdirs --broker 7 printed a table: $(cat "$out")"

# ---- groups ----
kst topics create ops.g --partitions 1 >/dev/null
seq 1 24 | kst produce -t ops.g -p 0 2>"$err" || fail "produce to ops.g: $(cat "$err")"
kc -G ops-grp -c 10 -q -X auto.offset.reset=earliest ops.g >/dev/null || fail "kcat -G failed"
kc -G ops-other -c 5 -q -X auto.offset.reset=earliest ops.g >/dev/null || fail "kcat -G failed"
ok "list by state" groups list --state Empty --regex 'ops-.*'
assert_eq "ops-grp Empty|ops-other Empty" "$(tail -n +2 "$out" | awk '{print $1, $2}' | paste -sd'|')" "groups list --state --regex"
ok "describe two" groups describe ops-grp ops-other
assert_contains "$out" '^ops\.g +0 +10 +24 +14 ' "describe ops-grp"
assert_contains "$out" '^ops\.g +0 +5 +24 +19 ' "describe ops-other"
ok "past the end" groups reset-offsets ops-grp --topic ops.g --to-offset 1000 --execute
assert_contains "$err" 'note: ops.g \[0\]: offset 1000 is past the log end 24: using 24' "the clamp is said"
assert_contains "$out" '^ops\.g +0 +10 +24$' "reset --to-offset 1000 wrote 24"
no_field_names "$err" "reset-offsets messages"
ok "by duration" groups reset-offsets ops-grp --topic ops.g --by-duration 1h --execute
assert_contains "$out" '^ops\.g +0 +24 +0$' "--by-duration 1h: every record is younger"
kst groups reset-offsets ops-grp --topic ops.g --to-offset 7 --execute >/dev/null 2>&1
ok "export" groups reset-offsets ops-grp --all-topics --to-current --export
assert_eq "ops.g,0,7" "$(cat "$out")" "--to-current --export"
cp "$out" "$ST_TMP/saved.csv"
kst groups reset-offsets ops-grp --topic ops.g --to-latest --execute >/dev/null 2>&1
ok "from file" groups reset-offsets ops-grp --from-file "$ST_TMP/saved.csv" --execute
assert_contains "$out" '^ops\.g +0 +24 +7$' "--from-file restored offset 7"
refused "from-file with a method" 2 'drop --to-latest' groups reset-offsets ops-grp --from-file "$ST_TMP/saved.csv" --to-latest
refused "a bad datetime" 2 '--to-datetime "yesterday"' groups reset-offsets ops-grp --topic ops.g --to-datetime yesterday
no_field_names "$err" "a bad datetime"
ok "delete offsets" groups delete-offsets ops-other --topic ops.g
assert_contains "$out" '^deleted the offset of group "ops-other" for ops.g \[0\]$' "delete-offsets"
refused "delete-offsets of an unknown group" 1 'Broker: The group id does not exist' groups delete-offsets ops-nobody --topic ops.g
assert_not_contains "$err" 'worker|DELETECONSUMERGROUPOFFSETS|parse response' "no librdkafka internals in the message"
ok "describe after" groups describe ops-other
refused "describe a missing group" 1 '^strait: group "ops-nobody" does not exist' groups describe ops-nobody
assert_not_contains "$out" '^ops\.g ' "no offset left for ops-other"
# Names any client chooses reach the operator's terminal escaped, never raw: a group id
# and a client.id holding ESC sequences (a window title, clear screen) and a newline (a
# forged line), set by kcat, a real client, in a live member.
evil=$(printf 'ops-evil\033]0;title\a\033[2J\nforged')
st_bg /dev/null "$ST_TMP/evil.err" "$KCAT" -b "$BOOTSTRAP" -G "$evil" -q \
    -X "client.id=$(printf 'cli\033[31mred')" -X auto.offset.reset=earliest ops.g
evil_member=$ST_BG_PID
evil_joined() { kst groups describe --regex 'ops-evil.*' 2>/dev/null | grep -q ', 1 member'; }
wait_until 30 "kcat to join the group with the hostile id" evil_joined
ok "list a hostile group id" groups list --regex 'ops-evil.*'
ok "describe a hostile group id" groups describe --regex 'ops-evil.*'
cat "$out" >>"$ST_TMP/evil.txt"
kst groups delete --regex 'ops-evil.*' >>"$ST_TMP/evil.txt" 2>&1 && fail "deleting a group with a live member succeeded"
ok "list again" groups list --regex 'ops-evil.*'
cat "$out" >>"$ST_TMP/evil.txt"
if grep -q "$(printf '[\033\a]')" "$ST_TMP/evil.txt"; then
    fail "an ESC or BEL byte from a group id or client.id reached strait's output: $(cat -v "$ST_TMP/evil.txt")"
fi
assert_eq 2 "$(wc -l <"$out")" "groups list: the header and one line for the hostile id (its newline escaped)"
assert_contains "$ST_TMP/evil.txt" '^ops-evil\\x1b\]0;title\\x07\\x1b\[2J\\nforged +Stable' "the group id, escaped, in the list"
assert_contains "$ST_TMP/evil.txt" 'cli\\x1b\[31mred' "the client.id, escaped, in the description"
assert_contains "$ST_TMP/evil.txt" 'group "ops-evil\\x1b\]0;title\\x07\\x1b\[2J\\nforged" was not deleted' "the group id, escaped, in an error"
kill -TERM "$evil_member"
st_wait_pid "$evil_member" 20 || fail "kcat -G did not stop"
wait "$evil_member" || true
# An active member: the refusal comes once.
st_bg /dev/null "$ST_TMP/member.err" "$RK_BIN/rk_group_consumer" "$BOOTSTRAP" ops-grp ops.g "$ST_TMP/member.out"
member=$ST_BG_PID
assigned() { grep -q '^assignment: 0$' "$ST_TMP/member.err"; }
wait_until 30 "the member to be assigned ops.g [0]" assigned
refused "reset while active" 1 'is active \(1 member' groups reset-offsets ops-grp --topic ops.g --to-earliest --execute
assert_eq 1 "$(grep -c 'active' "$err")" "the refusal is said once"
no_field_names "$err" "the refusal"
kill -TERM "$member"
st_wait_pid "$member" 20 || fail "the member did not stop"
wait "$member" || true

# ---- acls (Kafka admin API): several principals and operations ----
mst acls add --principal User:p1 --principal User:p2 --operation READ --operation DESCRIBE --group ops-grp >"$out" 2>"$err" ||
    fail "acls add with several: $(cat "$err")"
assert_eq 4 "$(grep -c '^added: ALLOW User:p[12] \(READ\|DESCRIBE\) on GROUP LITERAL "ops-grp"' "$out")" "four ACLs added"
# Added through the Kafka admin API: the management endpoint's view holds the same rules.
mst acls list --via-mgmt --group ops-grp >"$out" 2>"$err" || fail "acls list --via-mgmt: $(cat "$err")"
assert_eq 4 "$(grep -cE '^User:p[12] +ALLOW +(READ|DESCRIBE) +GROUP +LITERAL +ops-grp +\*$' "$out")" \
    "the four ACLs as the management endpoint lists them"
mst acls add --principal User:p1 --operation READ --group ops-grp >"$out" 2>"$err" || fail "acls add again: $(cat "$err")"
assert_contains "$out" '^already present: ALLOW User:p1 READ on GROUP LITERAL "ops-grp"' "adding a rule twice"
rc=0
mst acls add --principal User:p1 --operation WRITE --transactional-id tx >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "a transactional-id ACL through librdkafka: exit $rc"
assert_contains "$err" 'add --via-mgmt' "transactional-id ACLs point at --via-mgmt"
rc=0
mst acls remove --principal User:p1 --principal User:p2 >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2: $(cat "$err")"
assert_contains "$err" '--principal is given twice' "a filter takes one principal"
rc=0
mst acls add --principal User:x --operation FLY --topic t >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2: $(cat "$err")"
assert_contains "$err" '^strait acls add: --operation "FLY" must be one of' "a bad operation is a usage error"

# ---- connection profiles ----
cat >"$ST_TMP/profiles" <<EOF
# test profiles
profile = good

[good]
bootstrap.servers = $BOOTSTRAP
client.id = profile-test

[bad]
bootstrap.servers = 127.0.0.1:1
EOF
timeout 60 "$STRAIT" --command-config "$ST_TMP/profiles" topics list --regex 'ops\.a' >"$out" 2>"$err" ||
    fail "the selected profile: $(cat "$err")"
assert_contains "$out" '^ops\.a ' "the file's selected profile reaches the broker"
rc=0
timeout 60 "$STRAIT" --command-config "$ST_TMP/profiles" --profile bad topics list >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1: $(cat "$err")"
assert_contains "$err" 'cannot reach any broker at 127.0.0.1:1' "--profile bad is used"
rc=0
STRAIT_PROFILE=bad timeout 60 "$STRAIT" --command-config "$ST_TMP/profiles" topics list >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "STRAIT_PROFILE=bad was not used (exit $rc)"
rc=0
timeout 60 "$STRAIT" --command-config "$ST_TMP/profiles" --profile nope topics list >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2: $(cat "$err")"
assert_contains "$err" 'profile "nope" is not in .* \(it has: good, bad\)' "a missing profile"
printf '[x]\nno.such.property = 1\n' >"$ST_TMP/bad-profile"
rc=0
timeout 60 "$STRAIT" --command-config "$ST_TMP/bad-profile" --profile x topics list >"$out" 2>"$err" || rc=$?
[ "$rc" -ne 0 ] || fail "exit status 0, expected a failure"
assert_contains "$err" 'bad-profile:2: .*no.such.property' "a bad property names its line"
# A file holding a password that others may read: used, with a warning saying what to do.
printf '[s]\nbootstrap.servers = %s\nsasl.password = hunter2\n' "$BOOTSTRAP" >"$ST_TMP/secret-profile"
chmod 644 "$ST_TMP/secret-profile"
timeout 60 "$STRAIT" --command-config "$ST_TMP/secret-profile" --profile s topics list >"$out" 2>"$err" ||
    fail "a readable profile with a password: $(cat "$err")"
assert_contains "$err" "^strait: warning: .*secret-profile holds a secret \(sasl.password, line 3\) and others may read it \(mode 0644\): chmod 600 " \
    "the warning for a readable file holding a password"
assert_not_contains "$err" hunter2 "the warning does not show the password"
chmod 600 "$ST_TMP/secret-profile"
timeout 60 "$STRAIT" --command-config "$ST_TMP/secret-profile" --profile s topics list >"$out" 2>"$err" ||
    fail "a private profile with a password: $(cat "$err")"
assert_not_contains "$err" warning "no warning once the file is private"
# A line longer than the reader's buffer is an error naming it, not read as two lines.
{ printf '[x]\nclient.id = '; head -c 5000 /dev/zero | tr '\0' a; printf '\n'; } >"$ST_TMP/long-profile"
rc=0
timeout 60 "$STRAIT" --command-config "$ST_TMP/long-profile" --profile x topics list >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "a too long line: exit status $rc, expected 1: $(cat "$err")"
assert_contains "$err" 'long-profile:2: the line is longer than 4094 bytes' "a too long line names its line"
mkdir -p "$ST_TMP/home/.config/strait"
printf 'bootstrap.servers = %s\n' "$BOOTSTRAP" >"$ST_TMP/home/.config/strait/config"
HOME="$ST_TMP/home" XDG_CONFIG_HOME= timeout 60 "$STRAIT" topics list --regex 'ops\.a' >"$out" 2>"$err" ||
    fail "~/.config/strait/config: $(cat "$err")"
assert_contains "$out" '^ops\.a ' "the default profile file is read"

# ---- completion ----
"$STRAIT" completion bash >"$ST_TMP/strait.bash"
PATH="$(dirname "$STRAIT"):$PATH" bash -c '. "$1"; __strait_words' _ "$ST_TMP/strait.bash" >"$out"
for w in topics groups configs delete-records logdirs completion --bootstrap --profile; do
    grep -qx -- "$w" "$out" || fail "bash completion of the first word lacks $w: $(paste -sd' ' "$out")"
done
PATH="$(dirname "$STRAIT"):$PATH" bash -c '. "$1"; __strait_words groups' _ "$ST_TMP/strait.bash" >"$out"
grep -qx reset-offsets "$out" && grep -qx delete-offsets "$out" || fail "completion of groups: $(paste -sd' ' "$out")"
PATH="$(dirname "$STRAIT"):$PATH" bash -c '. "$1"; __strait_words groups reset-offsets' _ "$ST_TMP/strait.bash" >"$out"
grep -qx -- --by-duration "$out" && grep -qx -- --from-file "$out" || fail "completion of reset-offsets options: $(paste -sd' ' "$out")"
PATH="$(dirname "$STRAIT"):$PATH" bash -c '. "$1"; COMP_WORDS=(strait consume --fr); COMP_CWORD=2; _strait; printf "%s\n" "${COMPREPLY[@]}"' _ "$ST_TMP/strait.bash" >"$out"
assert_eq "--from-beginning|--from-time" "$(sort "$out" | paste -sd'|')" "bash completes consume --fr"
"$STRAIT" completion zsh >"$ST_TMP/_strait"
head -n 1 "$ST_TMP/_strait" | grep -qx '#compdef strait' || fail "the zsh script does not start with #compdef"
if command -v zsh >/dev/null; then
    PATH="$(dirname "$STRAIT"):$PATH" zsh -c 'source "$1" 2>/dev/null; __strait_words topics' _ "$ST_TMP/_strait" >"$out"
    grep -qx describe "$out" || fail "zsh: completion of topics: $(paste -sd' ' "$out")"
fi
refused "completion of fish" 2 'unknown shell "fish"' completion fish
stop_broker
