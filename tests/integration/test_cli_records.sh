#!/usr/bin/env bash
# strait produce | consume as debugging tools (issue 15), checked line by line:
# escaping (a value with a newline and one with a NUL stay one line each), format
# strings, JSON records, keys with escaped separators (-K '\t'), headers, --record-sep,
# --file, start by offset / tail / time, stop at offset / time / end, --partition
# repeated; kcat reads back what strait produced byte for byte. Flag discipline:
# repeated single flags, bad -X, --json honoured or refused; --version of every binary.
. "$(dirname "$0")/lib.sh"
: "${STRAIT:?STRAIT must name the strait binary}"

start_broker
st() { timeout 60 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" --bootstrap "$BOOTSTRAP" "$@"; }
out="$ST_TMP/out.txt"
err="$ST_TMP/err.txt"
expected="$ST_TMP/expected.txt"

# expect_usage WHAT PATTERN ARGS...: exit status 2 and a message matching PATTERN.
expect_usage() {
    local what=$1 pattern=$2 rc=0
    shift 2
    st "$@" >"$out" 2>"$err" </dev/null || rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit status $rc, expected 2 (usage); stderr: $(cat "$err")"
    assert_contains "$err" "$pattern" "$what: the message"
    log "$what: $(head -n 1 "$err")"
}

st topics create rec --partitions 2 >/dev/null

# Partition 0: keys split at a tab given as '\t', headers with escapes; a value with a
# NUL and a raw byte 0xff and one with a backslash.
printf 'k1\tplain value\nk2\tnul\0inside\nk3\tbyte\xff and \\ backslash\n' >"$ST_TMP/in0.txt"
st produce -t rec -p 0 -K '\t' -H 'src=cli\ttest' -H n=1 --file "$ST_TMP/in0.txt" 2>"$err"
assert_contains "$err" '^produced 3 records$' "produce --file summary"
# Partition 1: records separated by '|' so that one value holds a newline.
printf 'k4:line one\nline two|k5:|k6:last' | st produce -t rec -p 1 -K : -D '|' 2>/dev/null

# kcat sees exactly what was sent (keys, values, headers), byte for byte.
kc -C -t rec -p 0 -o beginning -e -q -f '%k=%s|%h\n' >"$out"
printf 'k1=plain value|src=cli\ttest,n=1\nk2=nul\0inside|src=cli\ttest,n=1\nk3=byte\xff and \\ backslash|src=cli\ttest,n=1\n' >"$expected"
assert_same_file "$expected" "$out" "partition 0 as kcat reads it"
kc -C -t rec -p 1 -o beginning -e -q -f '%k=%s;' >"$out"
printf 'k4=line one\nline two;k5=;k6=last;' >"$expected"
assert_same_file "$expected" "$out" "partition 1 as kcat reads it"

# Default output: values, escaped, one line each.
st consume -t rec -p 0 -b -e >"$out" 2>"$err"
printf '%s\n' 'plain value' 'nul\0inside' 'byte\xff and \\ backslash' >"$expected"
assert_same_file "$expected" "$out" "consume: escaped values"
assert_contains "$err" '^consumed 3 records$' "consume summary"
# A value with ESC sequences and U+009B (CSI as a C1 control, valid UTF-8) is escaped
# whole; other UTF-8 (é) stays readable.
st topics create rec-c1 --partitions 1 >/dev/null
printf 'esc\033[2J c1\xc2\x9b31m caf\xc3\xa9\n' | st produce -t rec-c1 2>/dev/null
st consume -t rec-c1 -b -e >"$out" 2>/dev/null
printf 'esc\\x1b[2J c1\\xc2\\x9b31m caf\xc3\xa9\n' >"$expected"
assert_same_file "$expected" "$out" "consume: ESC and C1 controls escaped, UTF-8 text kept"
st consume -t rec -p 1 -b -e --print-key >"$out" 2>/dev/null
printf 'k4\tline one\\nline two\nk5\t\nk6\tlast\n' >"$expected"
assert_same_file "$expected" "$out" "consume --print-key: the newline stays inside its line"
[ "$(wc -l <"$out")" -eq 3 ] || fail "3 records must print as 3 lines, got $(wc -l <"$out")"
st consume -t rec -p 1 -b -e -K ' => ' -D '\n--\n' >"$out" 2>/dev/null
printf 'k4 => line one\\nline two\n--\nk5 => \n--\nk6 => last\n--\n' >"$expected"
assert_same_file "$expected" "$out" "consume -K / -D with escapes"
st consume -t rec -p 0 -b -e --raw -f '%s\0' >"$out" 2>/dev/null
printf 'plain value\0nul\0inside\0byte\xff and \\ backslash\0' >"$expected"
assert_same_file "$expected" "$out" "consume --raw with NUL-separated records"

# Format strings: every directive.
st consume -t rec -p 0 -b -e -f '%t %p %o %K:%k %S:%s [%h] %y %%\n' >"$out" 2>/dev/null
printf '%s\n' 'rec 0 0 2:k1 11:plain value [src=cli\ttest,n=1] CreateTime %' \
    'rec 0 1 2:k2 10:nul\0inside [src=cli\ttest,n=1] CreateTime %' \
    'rec 0 2 2:k3 21:byte\xff and \\ backslash [src=cli\ttest,n=1] CreateTime %' >"$expected"
assert_same_file "$expected" "$out" "consume --format"
st consume -t rec -p 0 -b -e -f '%T\n' >"$out" 2>/dev/null
now=$(date +%s%3N)
while read -r ts; do
    [ "$ts" -gt $((now - 600000)) ] && [ "$ts" -le "$now" ] || fail "%T printed $ts, not a recent epoch ms"
done <"$out"

# JSON records: a line each, bytes that are not UTF-8 as base64.
st consume -t rec -p 0 -b -e --json >"$out" 2>/dev/null
[ "$(wc -l <"$out")" -eq 3 ] || fail "--json: $(wc -l <"$out") lines, expected 3"
jq -c '[.topic, .partition, .offset, .key, .value, .value_base64, .value_length, .timestamp_type,
        [.headers[] | [.key, .value]]]' "$out" >"$ST_TMP/json.txt"
cat >"$expected" <<'EOF'
["rec",0,0,"k1","plain value",null,11,"CreateTime",[["src","cli\ttest"],["n","1"]]]
["rec",0,1,"k2","nul\u0000inside",null,10,"CreateTime",[["src","cli\ttest"],["n","1"]]]
["rec",0,2,"k3",null,"Ynl0Zf8gYW5kIFwgYmFja3NsYXNo",21,"CreateTime",[["src","cli\ttest"],["n","1"]]]
EOF
assert_same_file "$expected" "$ST_TMP/json.txt" "consume --json"

# Where to start and when to stop.
seq 0 19 | st produce -t rec -p 0 2>/dev/null # offsets 3..22
st consume -t rec -p 0 -o -2 -e >"$out" 2>/dev/null
printf '18\n19\n' >"$expected"
assert_same_file "$expected" "$out" "--offset -2 (the last two)"
st consume -t rec -p 0 -o 5 --to-offset 8 -f '%o:%s\n' >"$out" 2>/dev/null
printf '5:2\n6:3\n7:4\n' >"$expected"
assert_same_file "$expected" "$out" "--offset 5 --to-offset 8"
st consume -t rec -p 0 -p 1 -b --to-offset 2 -f '%p:%o\n' >"$out" 2>/dev/null
sort "$out" >"$ST_TMP/sorted.txt"
printf '0:0\n0:1\n1:0\n1:1\n' >"$expected"
assert_same_file "$expected" "$ST_TMP/sorted.txt" "--partition twice, --to-offset 2"
# By time: records produced after a marker time.
sleep_ms_marker=$(date +%s%3N)
wait_until 5 "the clock to move past the marker" test "$(date +%s%3N)" -gt "$sleep_ms_marker"
printf 'late1\nlate2\n' | st produce -t rec -p 0 2>/dev/null
st consume -t rec -p 0 --from-time "$sleep_ms_marker" -e >"$out" 2>/dev/null
printf 'late1\nlate2\n' >"$expected"
assert_same_file "$expected" "$out" "--from-time (epoch ms)"
iso=$(date -u -d "@$((sleep_ms_marker / 1000))" +%Y-%m-%dT%H:%M:%SZ)
st consume -t rec -p 0 --from-time "$iso" -e >"$out" 2>/dev/null
grep -q '^late2$' "$out" || fail "--from-time $iso (ISO 8601) did not reach late2: $(cat "$out")"
st consume -t rec -p 0 -b --to-time "$((sleep_ms_marker - 1))" -f '%o\n' >"$out" 2>/dev/null
[ "$(tail -n 1 "$out")" = 22 ] || fail "--to-time: last offset $(tail -n 1 "$out"), expected 22"
st consume -t rec -p 0 -o end -w 1500 >"$out" 2>"$err"
[ ! -s "$out" ] || fail "--offset end printed old records: $(cat "$out")"
assert_contains "$err" '^consumed 0 records$' "--offset end --timeout-ms"

# Flag discipline and refusals.
expect_usage "a repeated --topic" '--topic is given twice' consume -t rec -t other -e
expect_usage "a repeated --format" '--format is given twice' consume -t rec -f '%s' -f '%k' -e
expect_usage "a bad -X key" '-X no.such.property=1' produce -t rec -X no.such.property=1
expect_usage "an unknown format directive" 'unknown directive %q' consume -t rec -f '%q' -e
expect_usage "a bad escape" 'unknown escape' produce -t rec -K '\q'
expect_usage "--json with --format" '--json prints whole records' consume -t rec --json -f '%s' -e
expect_usage "a stop with --group" 'cannot be combined with --group' consume -t rec -g g1 -e
expect_usage "two starts" 'contradict' consume -t rec -b -o 3
expect_usage "an old short -k" 'unknown option -k' produce -t rec -k :
printf 'x\n' | st produce -t rec -p 1 --json >"$out" 2>/dev/null
assert_eq '{"produced": 1, "failed": 0}' "$(cat "$out")" "produce --json"
rc=0
printf 'nokey\n' | st produce -t rec -K : 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1: $(cat "$err")"
assert_contains "$err" 'record 1: no key separator ":"' "a record without its key"

# --version on every binary.
"$STRAIT" --version | grep -Eq '^strait [0-9]+\.[0-9]+\.[0-9]+ \(librdkafka [0-9.]+\)$' ||
    fail "strait --version: $("$STRAIT" --version)"
"$STRAITD" --version | grep -Eq '^straitd [0-9]+\.[0-9]+\.[0-9]+$' || fail "straitd --version"
if [ -n "${STRAIT_MIRROR:-}" ]; then
    "$STRAIT_MIRROR" --version | grep -Eq '^strait-mirror [0-9]+\.[0-9]+\.[0-9]+ ' ||
        fail "strait-mirror --version"
fi
if [ -n "${STRAIT_CONSOLE:-}" ]; then
    "$STRAIT_CONSOLE" --version | grep -Eq '^strait-console [0-9]+\.[0-9]+\.[0-9]+ \(libwebsockets [0-9]' ||
        fail "strait-console --version: $("$STRAIT_CONSOLE" --version)"
fi
stop_broker
