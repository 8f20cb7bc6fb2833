#!/usr/bin/env bash
# Topic and broker configs through Kafka's admin APIs, as kafka-python and librdkafka
# see them (tracker issue 21): DescribeConfigs values, sources, synonyms and flags as
# Kafka answers them; dynamic broker configs altered at run time (AlterConfigs and
# IncrementalAlterConfigs, v0 and the flexible v1), effective at once and kept across a
# restart in meta/broker_configs.json. py_configs.py and rk_configs hold the checks.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, where python3-kafka is installed
"$PY" -c 'import kafka' 2>/dev/null || fail "kafka-python missing: deploy/install-packages.sh --test"
BROKER_ID=7
ST_CONFIG_FILE="$ST_TMP/configs.cfg"
cat >"$ST_CONFIG_FILE" <<CFG
broker = { id = $BROKER_ID; host = "127.0.0.1"; data_dir = "$ST_DATA"; };
mgmt = { url = "$ST_MGMT"; };
topics = { num_partitions = 2; };
log = { retention_ms = 86400000; };
CFG

start_broker
"$PY" "$(dirname "$0")/py_configs.py" fresh "$BOOTSTRAP" "$BROKER_ID" >"$ST_TMP/py1.txt" 2>&1 ||
    { cat "$ST_TMP/py1.txt"; fail "kafka-python: describe and alter"; }
log "kafka-python: $(grep -c '^ok:' "$ST_TMP/py1.txt") checks passed on a fresh broker"
[ -s "$ST_DATA/meta/broker_configs.json" ] || fail "no meta/broker_configs.json after AlterConfigs"

"$RK_BIN/rk_configs" "$BOOTSTRAP" "$BROKER_ID" >"$ST_TMP/rk.txt" 2>&1 ||
    { cat "$ST_TMP/rk.txt"; fail "librdkafka: DescribeConfigs and AlterConfigs"; }
log "librdkafka: $(grep -c '^ok:' "$ST_TMP/rk.txt") checks passed"

stop_broker
start_broker
"$PY" "$(dirname "$0")/py_configs.py" reopened "$BOOTSTRAP" "$BROKER_ID" >"$ST_TMP/py2.txt" 2>&1 ||
    { cat "$ST_TMP/py2.txt"; fail "kafka-python: after the restart"; }
log "kafka-python: $(grep -c '^ok:' "$ST_TMP/py2.txt") checks passed after a restart"
broker_log_since_start >"$ST_TMP/run2.log"
assert_contains "$ST_TMP/run2.log" "broker configs: 1 set for this broker, 3 cluster-wide" \
    "the restart loads the dynamic configs"
