#!/usr/bin/python3
"""
kp_admin.py BOOTSTRAP: kafka-python 2.0.2 (Debian python3-kafka), a pure-Python
client, against straitd: producer, a consumer group that commits, and the admin client
(create_topics, list/describe consumer groups, group offsets, describe_configs,
delete_consumer_groups).

kafka-python 2.0.2 has no call for DescribeLogDirs (35) or OffsetDelete (47), but its
protocol layer (Struct, Schema, Array, ...) encodes and decodes any request from a
schema; the two are declared below from Kafka's message definitions and sent through
the admin client's own connection, so the bytes on the wire are kafka-python's.

Exits 1 naming the first check that failed.
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String

TOPIC = "kp-topic"
GROUP = "kp-group"


def fail(msg):
    print("kp_admin: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class DescribeLogDirsResponse_v0(Response):
    API_KEY = 35
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("log_dirs", Array(
            ("error_code", Int16),
            ("log_dir", String("utf-8")),
            ("topics", Array(
                ("name", String("utf-8")),
                ("partitions", Array(
                    ("partition_index", Int32),
                    ("partition_size", Int64),
                    ("offset_lag", Int64),
                    ("is_future_key", Boolean))))))))


class DescribeLogDirsResponse_v1(Response):
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = DescribeLogDirsResponse_v0.SCHEMA


class DescribeLogDirsRequest_v0(Request):
    API_KEY = 35
    API_VERSION = 0
    RESPONSE_TYPE = DescribeLogDirsResponse_v0
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))


class DescribeLogDirsRequest_v1(Request):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = DescribeLogDirsRequest_v0.SCHEMA


class OffsetDeleteResponse_v0(Response):
    API_KEY = 47
    API_VERSION = 0
    SCHEMA = Schema(
        ("error_code", Int16),
        ("throttle_time_ms", Int32),
        ("topics", Array(
            ("name", String("utf-8")),
            ("partitions", Array(("partition_index", Int32), ("error_code", Int16))))))


class OffsetDeleteRequest_v0(Request):
    API_KEY = 47
    API_VERSION = 0
    RESPONSE_TYPE = OffsetDeleteResponse_v0
    SCHEMA = Schema(
        ("group_id", String("utf-8")),
        ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32)))))


def call(admin, request):
    node = admin._client.least_loaded_node()
    future = admin._send_request_to_node(node, request)
    admin._wait_for_futures([future])
    return future.value


def main():
    bootstrap = sys.argv[1]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kp-admin",
                             request_timeout_ms=15000)
    admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1,
                                  topic_configs={"retention.ms": "7200000"})])
    check(TOPIC in admin.list_topics(), "create_topics: %s not listed" % TOPIC)
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
    configs = {c[0]: c[1] for c in res[0].resources[0][4]}
    check(configs.get("retention.ms") == "7200000",
          "describe_configs retention.ms %r" % configs.get("retention.ms"))

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(10):
        producer.send(TOPIC, value=b"v%d" % i, key=b"k", partition=i % 2)
    producer.flush(30)
    producer.close()

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=GROUP,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=20000)
    seen = 0
    for _ in consumer:
        seen += 1
        if seen == 10:
            break
    check(seen == 10, "consumer read %d records, expected 10" % seen)
    consumer.commit()
    consumer.close()

    groups = admin.list_consumer_groups()
    check((GROUP, "consumer") in groups, "list_consumer_groups %r" % groups)
    desc = admin.describe_consumer_groups([GROUP])
    check(desc[0].group == GROUP and desc[0].state == "Empty",
          "describe_consumer_groups %r" % (desc,))
    offsets = admin.list_consumer_group_offsets(GROUP)
    got = {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == TOPIC}
    check(got == {0: 5, 1: 5}, "list_consumer_group_offsets %r" % got)

    # DescribeLogDirs v0 (all topics) and v1 (one partition).
    for version, request in ((0, DescribeLogDirsRequest_v0(topics=None)),
                             (1, DescribeLogDirsRequest_v1(topics=[(TOPIC, [1])]))):
        resp = call(admin, request)
        check(len(resp.log_dirs) == 1, "DescribeLogDirs v%d: %d dirs" % (version, len(resp.log_dirs)))
        err, log_dir, topics = resp.log_dirs[0]
        check(err == 0 and log_dir.startswith("/"), "DescribeLogDirs v%d dir %r" % (version, log_dir))
        mine = [t for t in topics if t[0] == TOPIC]
        check(len(mine) == 1, "DescribeLogDirs v%d: %s listed %d times" % (version, TOPIC, len(mine)))
        parts = {p[0]: p[1] for p in mine[0][1]}
        expect = {0, 1} if version == 0 else {1}
        check(set(parts) == expect and all(size > 0 for size in parts.values()),
              "DescribeLogDirs v%d partitions %r" % (version, parts))
        if version == 0:
            check(any(t[0] == "__consumer_offsets" for t in topics),
                  "DescribeLogDirs v0: __consumer_offsets missing")
    print("kp_admin: DescribeLogDirs v0, v1 ok")

    # OffsetDelete v0: partition 0 goes, partition 1 stays; an unknown group.
    resp = call(admin, OffsetDeleteRequest_v0(group_id=GROUP, topics=[(TOPIC, [0])]))
    check(resp.error_code == 0 and resp.topics == [(TOPIC, [(0, 0)])],
          "OffsetDelete v0: %r %r" % (resp.error_code, resp.topics))
    offsets = admin.list_consumer_group_offsets(GROUP)
    got = {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == TOPIC}
    check(got == {1: 5}, "after OffsetDelete: %r" % got)
    resp = call(admin, OffsetDeleteRequest_v0(group_id="kp-nobody", topics=[(TOPIC, [0])]))
    check(resp.error_code == 69, "OffsetDelete unknown group: error %d, expected 69" % resp.error_code)
    print("kp_admin: OffsetDelete v0 ok")

    result = admin.delete_consumer_groups([GROUP])
    check(result == [(GROUP, None)] or (len(result) == 1 and result[0][0] == GROUP and
                                         not result[0][1].errno),
          "delete_consumer_groups %r" % result)
    check((GROUP, "consumer") not in admin.list_consumer_groups(), "group still listed")
    admin.close()
    print("kp_admin: all checks passed")


if __name__ == "__main__":
    main()
