#!/usr/bin/env bash
# A bad config file fails at start with the file, the line and the reason, and never
# starts a broker; the documented example config (deploy/config/straitd.cfg) loads and
# serves.
. "$(dirname "$0")/lib.sh"

# expect_bad NAME CONTENT PATTERN: straitd -c on CONTENT exits 1 and says PATTERN.
expect_bad() {
    local cfg="$ST_TMP/$1.cfg" out="$ST_TMP/$1.out" rc=0
    printf '%s\n' "$2" > "$cfg"
    timeout 10 "$STRAITD" -c "$cfg" --port 0 --data-dir "$ST_TMP/never-$1" \
        --mgmt "ipc://$ST_TMP/never.ipc" > "$out" 2>&1 || rc=$?
    assert_eq 1 "$rc" "exit status of straitd with $1"
    assert_contains "$out" "$3" "message for $1"
    [ ! -e "$ST_TMP/never-$1" ] || fail "$1: straitd created its data dir despite a bad config"
    log "$1: $(cat "$out")"
}

expect_bad wrong_type 'broker = { port = "x"; };' "$ST_TMP/wrong_type.cfg:1: broker.port must be an integer"
expect_bad unknown 'log = {
  retention_ms = 1000;
  retension_bytes = 5;
};' "unknown.cfg:3: unknown setting \"log.retension_bytes\""
expect_bad syntax 'broker = { port = 1' "syntax.cfg:2: syntax error"
expect_bad range 'topics = { num_partitions = 0; };' "range.cfg:1: topics.num_partitions = 0 is out of range"
# a single broker holds one replica: default_replication_factor takes only 1
expect_bad replication 'topics = { default_replication_factor = 2; };' \
    "replication.cfg:1: topics.default_replication_factor = 2 is out of range \\[1, 1\\]"
expect_bad enum 'log = { cleanup_policy = "keep"; };' 'cleanup.policy|cleanup_policy must be "delete", "compact" or "compact,delete"'
expect_bad level 'broker = { log_level = "loud"; };' "log_level must be debug, info, warn or error"

missing_out="$ST_TMP/missing.out"
rc=0
"$STRAITD" -c "$ST_TMP/does-not-exist.cfg" > "$missing_out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status with a missing config file"
assert_contains "$missing_out" "does-not-exist.cfg: cannot read the config file: No such file" "missing file message"

# The documented example loads; the test's own overrides (port 0, temp data dir, ipc
# management) come from the command line, as start_broker passes them.
example="$(cd "$(dirname "$0")/../.." && pwd)/deploy/config/straitd.cfg"
ST_CONFIG_FILE="$example" start_broker
"$KCAT" -b "$BOOTSTRAP" -L -m 10 > "$ST_TMP/meta.txt"
assert_contains "$ST_TMP/meta.txt" "broker 0 at 127.0.0.1:$BROKER_PORT" "kcat -L against the example config"
