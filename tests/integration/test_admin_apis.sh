#!/usr/bin/env bash
# The Kafka admin APIs added for tooling parity (issue 15), each with a real client:
#   rk_group_admin   librdkafka 2.0.2's group admin calls: ListGroups v4 and OffsetFetch v7
#                    (flexible), OffsetDelete v0 (incl. GROUP_SUBSCRIBED_TO_TOPIC)
#   kp_admin.py      kafka-python 2.0.2: admin client, consumer group, and DescribeLogDirs
#                    v0/v1 and OffsetDelete v0 encoded by kafka-python's protocol layer
#   flex_versions.py every flexible version no client here sends (Metadata 9-12,
#                    CreateTopics 5-7, the group APIs, DescribeLogDirs 2-4,
#                    DescribeCluster 0), with an encoder written from Kafka's definitions;
#                    static membership (KIP-345, FENCED_INSTANCE_ID) over the flexible
#                    group APIs
# and kafkajs 2.2.4's admin (js/admin_groups.js), which stays on its own (older) versions.
. "$(dirname "$0")/lib.sh"
PY_DIR="$(cd "$(dirname "$0")/py" && pwd)"
JS_DIR="$(cd "$(dirname "$0")/js" && pwd)"
PYTHON=/usr/bin/python3 # Debian's, which python3-kafka installs into
"$PYTHON" -c 'import kafka' 2>/dev/null ||
    fail "kafka-python is not installed: deploy/install-packages.sh --test installs python3-kafka"

start_broker
timeout 120 "$RK_BIN/rk_group_admin" "$BOOTSTRAP" || fail "rk_group_admin failed"
timeout 120 "$PYTHON" "$PY_DIR/kp_admin.py" "$BOOTSTRAP" || fail "kp_admin.py failed"

# flex_versions.py reads the size of partition 1 of a topic with data there.
"$RK_BIN/rk_admin" "$BOOTSTRAP" create logdirs-check 2 >/dev/null || fail "creating logdirs-check"
printf 'one\ntwo\n' | kc -P -t logdirs-check -p 1
timeout 60 "$PYTHON" "$PY_DIR/flex_versions.py" "$BOOTSTRAP" logdirs-check ||
    fail "flex_versions.py failed"

if [ -n "${NODE:-}" ] && [ -d "$JS_DIR/node_modules/kafkajs" ]; then
    BOOTSTRAP="$BOOTSTRAP" timeout 120 "$NODE" "$JS_DIR/admin_groups.js" || fail "admin_groups.js failed"
else
    log "kafkajs not installed: admin_groups.js skipped"
fi
stop_broker
