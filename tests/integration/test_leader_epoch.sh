#!/usr/bin/env bash
# Leader epochs on a single broker (tracker issue 13, part 1; KIP-101/279/320):
#  - every batch is stamped with the partition's leader epoch (0 here) and the partition
#    keeps a leader-epoch-checkpoint, written in the background after the first append;
#  - py/leader_epoch.py asks what a KIP-320 consumer asks after a reconnect
#    (OffsetForLeaderEpoch v0-v4, ListOffsets v4/v5, Fetch v11 with current_leader_epoch,
#    Metadata v9) and checks every answer;
#  - a clean restart keeps the cache (same file, same answers) and kcat (librdkafka)
#    reads everything back; after a crash with the file gone the cache is rebuilt from
#    the batches and written again;
#  - with the authorizer on and no ACL, consumers and followers are refused as Kafka does.
. "$(dirname "$0")/lib.sh"
PY_DIR="$(cd "$(dirname "$0")/py" && pwd)"
PYTHON=/usr/bin/python3 # Debian's, which python3-kafka installs into
"$PYTHON" -c 'import kafka' 2>/dev/null ||
    fail "kafka-python is not installed: deploy/install-packages.sh --test installs python3-kafka"

TOPIC=epochs
FILE="$ST_DATA/$TOPIC-0/leader-epoch-checkpoint"
file_says() { [ -f "$FILE" ] && [ "$(cat "$FILE")" = "$1" ]; }
check_answers() {
    timeout 120 "$PYTHON" "$PY_DIR/leader_epoch.py" "$BOOTSTRAP" "$TOPIC" 10 0 ||
        fail "leader_epoch.py failed ($1)"
}

start_broker
"$RK_BIN/rk_admin" "$BOOTSTRAP" create "$TOPIC" 1 >/dev/null || fail "creating $TOPIC"
[ ! -e "$FILE" ] || fail "$FILE exists before anything was written to the partition"
seq 1 10 | kc -P -t "$TOPIC" -p 0
wait_until 10 "$FILE holding epoch 0 from offset 0" file_says $'0\n1\n0 0'
check_answers "first run"

stop_broker
start_broker
file_says $'0\n1\n0 0' || fail "after a clean restart $FILE holds: $(cat "$FILE")"
check_answers "after a clean restart"
got=$(read_topic "$TOPIC" '%s\n' | tr '\n' ' ')
assert_eq "1 2 3 4 5 6 7 8 9 10 " "$got" "records read by kcat after the restart"

kill9_broker
rm -f "$FILE"
start_broker
broker_log_since_start | grep -q "$TOPIC-0: leader epochs rebuilt from the batches: 1 epoch(s), latest 0" ||
    fail "no line about the leader epochs rebuilt from the batches after the crash"
wait_until 10 "$FILE written again after the rebuild" file_says $'0\n1\n0 0'
check_answers "after a crash without the file"
seq 11 15 | kc -P -t "$TOPIC" -p 0
got=$(read_topic "$TOPIC" '%o ' | wc -w)
assert_eq 15 "$got" "records after appending 5 more"
stop_broker
file_says $'0\n1\n0 0' || fail "after appending more in epoch 0, $FILE holds: $(cat "$FILE")"

# The authorizer on and the caller (ANONYMOUS) holding no ACL: DESCRIBE on the topic is
# missing for a consumer, CLUSTER_ACTION for a follower.
ST_EXTRA_CFG='security = { authorizer = true; super_users = "User:admin"; };'
start_broker
timeout 120 "$PYTHON" "$PY_DIR/leader_epoch.py" "$BOOTSTRAP" "$TOPIC" 15 denied ||
    fail "leader_epoch.py denied failed"
stop_broker
log "leader epochs: stamped, answered, kept across a restart, rebuilt after a crash"
