#!/usr/bin/python3
"""kafka-python's view of straitd's configs (tracker issue 21), run by test_configs.sh.

    py_configs.py fresh BOOTSTRAP BROKER_ID   describe and alter on a new broker
    py_configs.py reopened BOOTSTRAP BROKER_ID  after a restart: what was altered stayed

The broker runs with broker.id = BROKER_ID and, in its config file,
log.retention_ms = 86400000 and topics.num_partitions = 2 (STATIC_BROKER_CONFIG), the
rest default. Checks, against what Kafka answers:
  * DescribeConfigs v0 (is_default) and v1/v2 (config_source, synonyms, read_only,
    is_sensitive) of a topic and of the broker ("<id>" and "" for cluster defaults);
  * AlterConfigs on the broker, per broker and cluster-wide, changing what new and
    existing topics do at once (message.max.bytes refuses a record, then accepts it);
  * IncrementalAlterConfigs v0 (kafka-python's codec; kafka-python 2.0.2 has no call
    for it) and v1 (flexible, raw frames) on topics and the broker: SET, DELETE, APPEND,
    SUBTRACT, validate_only, and Kafka's errors.
Prints "ok: ..." per check and exits 1 at the first wrong answer.
"""
import socket
import struct
import sys
import time

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError
from kafka.protocol.admin import (AlterConfigsRequest, DescribeConfigsRequest)
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

TOPIC = "configs-py"
BIG = 5000  # bytes of a value above message.max.bytes=2000

# Kafka's ConfigSource
TOPIC_CONFIG, DYNAMIC_BROKER, DYNAMIC_DEFAULT, STATIC, DEFAULT = 1, 2, 3, 4, 5


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


def expect(cond, msg):
    if not cond:
        fail(msg)
    ok(msg)


class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('resources', Array(
            ('error_code', Int16),
            ('error_message', String('utf-8')),
            ('resource_type', Int8),
            ('resource_name', String('utf-8')))))


class IncrementalAlterConfigsRequest_v0(Request):
    """Kafka's IncrementalAlterConfigs v0 in kafka-python's codec."""
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        ('resources', Array(
            ('resource_type', Int8),
            ('resource_name', String('utf-8')),
            ('configs', Array(
                ('config_name', String('utf-8')),
                ('config_operation', Int8),
                ('config_value', String('utf-8')))))),
        ('validate_only', Boolean))


SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
BROKER, TOPIC_T = 4, 2


class Checker:
    def __init__(self, bootstrap, broker_id):
        self.bootstrap = bootstrap
        self.broker_id = broker_id
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="py_configs",
                                      request_timeout_ms=10000)

    def send(self, request):
        node = self.admin._client.least_loaded_node()
        future = self.admin._send_request_to_node(node, request)
        self.admin._wait_for_futures([future])
        return future.value

    # -- describing --

    def describe(self, rtype, name, version=2, synonyms=True, keys=None):
        """{config name: (value, read_only, source_or_is_default, sensitive, synonyms)}"""
        resource = [(rtype, name, keys)]
        if version == 0:
            req = DescribeConfigsRequest[0](resources=resource)
        else:
            req = DescribeConfigsRequest[version](resources=resource, include_synonyms=synonyms)
        resp = self.send(req)
        (err, msg, _rtype, _rname, entries), = resp.resources
        if err:
            fail("DescribeConfigs %d/%r: error %d %s" % (rtype, name, err, msg))
        out = {}
        for e in entries:
            if version == 0:
                n, v, ro, is_default, sens = e
                out[n] = (v, ro, is_default, sens, None)
            else:
                n, v, ro, src, sens, syn = e
                out[n] = (v, ro, src, sens, [tuple(s) for s in syn])
        return out

    def topic(self, name=TOPIC, **kw):
        return self.describe(TOPIC_T, name, **kw)

    def broker(self, name=None, **kw):
        return self.describe(BROKER, str(self.broker_id) if name is None else name, **kw)

    # -- altering --

    def alter(self, rtype, name, configs, validate_only=False):
        req = AlterConfigsRequest[1](resources=[(rtype, name, list(configs.items()))],
                                     validate_only=validate_only)
        (err, msg, _t, _n), = self.send(req).resources
        return err, msg

    def incremental(self, rtype, name, ops, validate_only=False):
        req = IncrementalAlterConfigsRequest_v0(resources=[(rtype, name, ops)],
                                                validate_only=validate_only)
        (err, msg, _t, _n), = self.send(req).resources
        return err, msg

    def must(self, result, what):
        err, msg = result
        if err:
            fail("%s: error %d: %s" % (what, err, msg))
        ok(what)

    def must_fail(self, result, code, what):
        err, msg = result
        if err != code:
            fail("%s: expected error %d, got %d (%s)" % (what, code, err, msg))
        ok("%s -> %d (%s)" % (what, err, msg))

    # -- behaviour --

    def produce_big(self, topic):
        """Error name of producing one BIG-byte record to partition 0, or None."""
        p = KafkaProducer(bootstrap_servers=self.bootstrap, max_request_size=1 << 20,
                          retries=0, acks=1)
        try:
            p.send(topic, value=b"x" * BIG, partition=0).get(timeout=15)
            return None
        except KafkaError as e:
            return type(e).__name__
        finally:
            p.close()


def flexible_incremental(bootstrap, rtype, name, ops, validate_only=False):
    """IncrementalAlterConfigs v1 (flexible: compact strings and arrays, tagged fields,
    request header v2) over a raw socket. Returns [(error, message, type, name)]."""
    def uvarint(n):
        out = b""
        while n >= 0x80:
            out += bytes([(n & 0x7f) | 0x80])
            n >>= 7
        return out + bytes([n])

    def cstr(s):
        if s is None:
            return uvarint(0)
        b = s.encode()
        return uvarint(len(b) + 1) + b

    body = uvarint(2) + struct.pack(">b", rtype) + cstr(name) + uvarint(len(ops) + 1)
    for cname, op, value in ops:
        body += cstr(cname) + struct.pack(">b", op) + cstr(value) + uvarint(0)
    body += uvarint(0) + struct.pack(">?", validate_only) + uvarint(0)
    client = b"py-flex"
    header = struct.pack(">hhih", 44, 1, 4242, len(client)) + client + uvarint(0)
    frame = header + body
    host, port = bootstrap.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                fail("IncrementalAlterConfigs v1: connection closed (%d bytes read)" % len(data))
            data += chunk
    pos = 4

    def rd_uvarint():
        nonlocal pos
        shift = value = 0
        while True:
            b = data[pos]
            pos += 1
            value |= (b & 0x7f) << shift
            if b < 0x80:
                return value
            shift += 7

    def rd_cstr():
        nonlocal pos
        n = rd_uvarint()
        if n == 0:
            return None
        s = data[pos:pos + n - 1].decode()
        pos += n - 1
        return s

    corr, = struct.unpack(">i", data[pos:pos + 4])
    pos += 4
    if corr != 4242:
        fail("IncrementalAlterConfigs v1: correlation id %d" % corr)
    rd_uvarint()  # response header v1 tags
    pos += 4  # throttle
    results = []
    for _ in range(rd_uvarint() - 1):
        err, = struct.unpack(">h", data[pos:pos + 2])
        pos += 2
        msg = rd_cstr()
        rt = data[pos]
        pos += 1
        rn = rd_cstr()
        rd_uvarint()
        results.append((err, msg, rt, rn))
    return results


def fresh(c):
    c.admin.create_topics([NewTopic(TOPIC, 1, 1)])
    bid = str(c.broker_id)

    # --- a topic: Kafka's values, sources and synonyms ---
    t = c.topic()
    expect(t["flush.messages"][0] == "9223372036854775807" and t["flush.messages"][2] == DEFAULT,
           "flush.messages shows Long.MAX_VALUE, DEFAULT_CONFIG")
    expect(t["flush.ms"][0] == "9223372036854775807", "flush.ms shows Long.MAX_VALUE")
    expect(t["message.timestamp.difference.max.ms"][0] == "9223372036854775807",
           "message.timestamp.difference.max.ms shows Long.MAX_VALUE")
    expect(t["retention.bytes"][0] == "-1" and t["segment.ms"][0] == "604800000",
           "retention.bytes -1, segment.ms 604800000")
    expect(t["segment.bytes"][4] == [("log.segment.bytes", "1073741824", DEFAULT)],
           "segment.bytes synonyms: the broker default log.segment.bytes")
    expect(t["retention.ms"][0] == "86400000" and t["retention.ms"][2] == STATIC and
           t["retention.ms"][4] == [("log.retention.ms", "86400000", STATIC),
                                    ("log.retention.hours", "168", DEFAULT)],
           "retention.ms from the config file: STATIC_BROKER_CONFIG, then log.retention.hours")
    expect(all(not v[1] and not v[3] for v in t.values()),
           "topic configs are neither read-only nor sensitive")
    expect(t["cleanup.policy"][4] == [("log.cleanup.policy", "delete", DEFAULT)],
           "cleanup.policy synonym log.cleanup.policy=delete")
    t0 = c.topic(version=0)
    expect(t0["retention.ms"][2] is False and t0["segment.bytes"][2] is True,
           "v0 is_default: false for the file's retention.ms, true for segment.bytes")
    nosyn = c.topic(synonyms=False)
    expect(nosyn["segment.bytes"][4] == [] and nosyn["segment.bytes"][2] == DEFAULT,
           "include_synonyms=false: no synonyms, the source still there")
    only = c.topic(keys=["retention.ms"])
    expect(list(only) == ["retention.ms"], "asking for one key returns one")
    some = c.topic(keys=["segment.ms", "cleanup.policy", "nosuch.config", "retention.ms"])
    expect(sorted(some) == ["cleanup.policy", "retention.ms", "segment.ms"],
           "asking for several keys (one unknown) returns the known ones")

    c.must(c.alter(TOPIC_T, TOPIC, {"retention.ms": "1000"}), "AlterConfigs topic retention.ms")
    t = c.topic()
    expect(t["retention.ms"][2] == TOPIC_CONFIG and
           t["retention.ms"][4][0] == ("retention.ms", "1000", TOPIC_CONFIG),
           "an override is TOPIC_CONFIG, first among its synonyms")
    expect(c.topic(version=0)["retention.ms"][2] is False, "v0: an override is not default")

    # --- the broker ---
    b = c.broker()
    expect(b["broker.id"][0] == bid and b["broker.id"][1] is True, "broker.id, read-only")
    expect(b["num.partitions"][0] == "2" and b["num.partitions"][2] == STATIC,
           "num.partitions from the file: STATIC_BROKER_CONFIG")
    expect(b["auto.create.topics.enable"][2] == DEFAULT and b["auto.create.topics.enable"][1],
           "auto.create.topics.enable: DEFAULT_CONFIG, read-only")
    expect(b["log.retention.ms"][0] == "86400000" and b["log.retention.ms"][2] == STATIC and
           b["log.retention.ms"][1] is False, "log.retention.ms: STATIC_BROKER_CONFIG, dynamic")
    expect(b["log.flush.interval.messages"][0] == "9223372036854775807" and
           b["log.flush.interval.messages"][2] == DEFAULT, "log.flush.interval.messages default")
    expect(b["mgmt.token"][3] is True and b["mgmt.token"][0] is None,
           "mgmt.token is sensitive: no value")
    expect(c.broker(name="") == {}, "\"\": no cluster-wide dynamic config yet")
    b0 = c.broker(version=0)
    expect(b0["log.segment.bytes"][2] is True and b0["log.retention.ms"][2] is False,
           "broker v0 is_default")
    err = c.send(DescribeConfigsRequest[1](resources=[(BROKER, "99", None)],
                                           include_synonyms=False)).resources[0][0]
    expect(err == 42, "another broker's id -> INVALID_REQUEST")

    # --- dynamic: cluster-wide, then per broker; effective at once ---
    expect(c.produce_big(TOPIC) is None, "a 5000-byte record is accepted by default")
    c.must(c.alter(BROKER, "", {"message.max.bytes": "2000", "log.retention.ms": "3600000"}),
           "AlterConfigs cluster-wide message.max.bytes=2000, log.retention.ms=3600000")
    expect(c.produce_big(TOPIC) == "MessageSizeTooLargeError",
           "the same record is refused with MESSAGE_TOO_LARGE, no restart")
    expect(c.broker(name="")["message.max.bytes"][:3] == ("2000", False, DYNAMIC_DEFAULT),
           "\"\" lists message.max.bytes as DYNAMIC_DEFAULT_BROKER_CONFIG")
    t = c.topic()
    expect(t["max.message.bytes"][0] == "2000" and t["max.message.bytes"][2] == DYNAMIC_DEFAULT,
           "the topic's max.message.bytes follows: DYNAMIC_DEFAULT_BROKER_CONFIG")
    c.must(c.alter(TOPIC_T, TOPIC, {}), "AlterConfigs topic: no overrides")
    t = c.topic()
    expect(t["retention.ms"][4] == [("log.retention.ms", "3600000", DYNAMIC_DEFAULT),
                                    ("log.retention.ms", "86400000", STATIC),
                                    ("log.retention.hours", "168", DEFAULT)],
           "retention.ms synonyms: cluster-wide, file, Kafka's default")
    c.must(c.alter(BROKER, bid, {"log.retention.ms": "7200000"}),
           "AlterConfigs per-broker log.retention.ms=7200000")
    t = c.topic()
    expect(t["retention.ms"][0] == "7200000" and t["retention.ms"][2] == DYNAMIC_BROKER,
           "per broker beats cluster-wide: DYNAMIC_BROKER_CONFIG")
    c.must_fail(c.alter(BROKER, bid, {"num.partitions": "3"}), 42,
                "AlterConfigs on read-only num.partitions")
    c.must_fail(c.alter(BROKER, "", {"log.retention.ms": "soon"}), 40,
                "AlterConfigs log.retention.ms=soon")
    c.must_fail(c.alter(BROKER, "", {"no.such.config": "1"}), 42, "AlterConfigs unknown config")
    c.must(c.alter(BROKER, "", {"message.max.bytes": "100"}, validate_only=True),
           "validate_only accepted")
    expect(c.broker(name="")["message.max.bytes"][0] == "2000", "validate_only changed nothing")

    # --- IncrementalAlterConfigs v0 ---
    c.must(c.incremental(TOPIC_T, TOPIC, [("cleanup.policy", APPEND, "compact")]),
           "incremental APPEND cleanup.policy compact")
    expect(c.topic()["cleanup.policy"][0] == "compact,delete", "cleanup.policy compact,delete")
    c.must(c.incremental(TOPIC_T, TOPIC, [("cleanup.policy", SUBTRACT, "delete"),
                                          ("segment.bytes", SET, "1048576")]),
           "incremental SUBTRACT delete, SET segment.bytes")
    t = c.topic()
    expect(t["cleanup.policy"][0] == "compact" and t["segment.bytes"][0] == "1048576",
           "cleanup.policy compact, segment.bytes 1048576, the others kept")
    c.must(c.incremental(TOPIC_T, TOPIC, [("cleanup.policy", DELETE, None)]),
           "incremental DELETE cleanup.policy")
    t = c.topic()
    expect(t["cleanup.policy"][:3] == ("delete", False, DEFAULT) and
           t["segment.bytes"][2] == TOPIC_CONFIG, "back to the default; segment.bytes stays")
    c.must_fail(c.incremental(TOPIC_T, TOPIC, [("retention.ms", APPEND, "5")]), 40,
                "APPEND on a non-list config")
    c.must_fail(c.incremental(TOPIC_T, TOPIC, [("retention.ms", SET, "5"),
                                               ("retention.ms", DELETE, None)]), 42,
                "the same config twice")
    c.must_fail(c.incremental(TOPIC_T, TOPIC, [("retention.ms", 9, "5")]), 42, "operation 9")
    c.must_fail(c.incremental(TOPIC_T, "no-such-topic", [("retention.ms", SET, "5")]), 3,
                "unknown topic")
    c.must(c.incremental(TOPIC_T, TOPIC, [("retention.ms", SET, "5")], validate_only=True),
           "incremental validate_only")
    expect(c.topic()["retention.ms"][2] != TOPIC_CONFIG, "validate_only changed nothing")
    c.must(c.incremental(BROKER, "", [("message.max.bytes", DELETE, None)]),
           "incremental DELETE cluster-wide message.max.bytes")
    expect(c.produce_big(TOPIC) is None, "the 5000-byte record is accepted again")
    c.must(c.incremental(BROKER, "", [("log.cleanup.policy", APPEND, "compact")]),
           "incremental APPEND cluster-wide log.cleanup.policy")
    expect(c.broker(name="")["log.cleanup.policy"][0] == "delete,compact",
           "log.cleanup.policy delete,compact cluster-wide")
    expect(c.topic()["cleanup.policy"][0] == "compact,delete", "and on the topic")

    # --- IncrementalAlterConfigs v1 (flexible) ---
    r = flexible_incremental(c.bootstrap, BROKER, "", [("log.cleanup.policy", SUBTRACT, "compact"),
                                                       ("log.segment.bytes", SET, "2097152")])
    expect(r == [(0, None, BROKER, "")], "v1 (flexible): SUBTRACT and SET on \"\"")
    t = c.topic()
    expect(t["cleanup.policy"][0] == "delete", "cleanup.policy delete again")
    expect(t["segment.bytes"][0] == "1048576", "the topic's own segment.bytes still wins")
    r = flexible_incremental(c.bootstrap, TOPIC_T, TOPIC, [("segment.bytes", DELETE, None)])
    expect(r == [(0, None, TOPIC_T, TOPIC)], "v1: DELETE on the topic")
    expect(c.topic()["segment.bytes"][:3] == ("2097152", False, DYNAMIC_DEFAULT),
           "segment.bytes now the cluster-wide 2097152")
    r = flexible_incremental(c.bootstrap, BROKER, bid, [("broker.id", SET, "3")])
    expect(r[0][0] == 42 and "restart" in r[0][1], "v1: read-only broker.id -> INVALID_REQUEST")


def reopened(c):
    bid = str(c.broker_id)
    d = c.broker(name="")
    expect(d.get("log.retention.ms", ("",))[0] == "3600000" and
           d.get("log.segment.bytes", ("",))[0] == "2097152" and
           d.get("log.cleanup.policy", ("",))[0] == "delete" and "message.max.bytes" not in d,
           "cluster-wide dynamic configs survived the restart")
    expect(c.broker()["log.retention.ms"][:3] == ("7200000", False, DYNAMIC_BROKER),
           "the per-broker one too")
    t = c.topic()
    expect(t["retention.ms"][0] == "7200000" and t["segment.bytes"][0] == "2097152",
           "and the topic uses them")
    c.must(c.alter(BROKER, bid, {}), "AlterConfigs per broker with nothing: all removed")
    expect(c.topic()["retention.ms"][:3] == ("3600000", False, DYNAMIC_DEFAULT),
           "retention.ms falls back to the cluster-wide value")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("fresh", "reopened"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    c = Checker(sys.argv[2], int(sys.argv[3]))
    (fresh if sys.argv[1] == "fresh" else reopened)(c)
    c.admin.close()


if __name__ == "__main__":
    main()
