#!/usr/bin/python3
"""Small kafka-python tools for test_settings.sh (what one setting does, seen by a client).

    metadata HOST PORT                 raw Metadata v2 on one connection (no bootstrap
                                       follow-up): "cluster <id> broker <id> <host>:<port>"
    produce BOOTSTRAP TOPIC SIZE [TS]  one record of SIZE bytes to partition 0 (CreateTime
                                       TS if given; acks from $ACKS, default 1): prints
                                       "ok <offset>" or the error name
    consume BOOTSTRAP TOPIC N          the first N records of partition 0:
                                       "<offset> <timestamp type> <timestamp>" a line
    group BOOTSTRAP GROUP TOPIC        joins GROUP, consumes what is there, commits
    describe BOOTSTRAP TOPIC NAME...   "<name> <value> <source>" per topic config
"""
import os
import socket
import struct
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError


def metadata(host, port):
    body = struct.pack(">i", -1)  # topics: null, i.e. all
    client = b"py_settings"
    frame = struct.pack(">hhih", 3, 2, 1, len(client)) + client + body
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("metadata: connection closed")
            data += chunk
    pos = 8  # size, correlation id (Metadata v2 has no throttle_time_ms)

    def i32():
        nonlocal pos
        v, = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        return v

    def string():
        nonlocal pos
        n, = struct.unpack(">h", data[pos:pos + 2])
        pos += 2
        if n < 0:
            return None
        v = data[pos:pos + n].decode()
        pos += n
        return v

    brokers = []
    for _ in range(i32()):
        node, host_, port_, _rack = i32(), string(), i32(), string()
        brokers.append("%d %s:%d" % (node, host_, port_))
    cluster = string()
    print("cluster %s broker %s" % (cluster, " ".join(brokers)))


def produce(bootstrap, topic, size, ts=None):
    acks = os.environ.get("ACKS", "1")  # "all" for acks=-1
    p = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=1 << 20, retries=0,
                      acks=acks if acks == "all" else int(acks))
    try:
        md = p.send(topic, value=b"x" * int(size), partition=0,
                    timestamp_ms=int(ts) if ts else None).get(timeout=15)
        print("ok %d" % md.offset)
    except KafkaError as e:
        print(type(e).__name__)
    finally:
        p.close()


def consume(bootstrap, topic, n):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=10000, auto_offset_reset="earliest")
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = 0
    for m in c:
        print("%d %d %d" % (m.offset, m.timestamp_type, m.timestamp))
        got += 1
        if got == int(n):
            break
    c.close()


def group(bootstrap, group_id, topic):
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group_id,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      consumer_timeout_ms=5000)
    n = sum(1 for _ in c)
    c.commit()
    c.close()
    print("consumed %d, committed" % n)


def describe(bootstrap, topic, names):
    a = KafkaAdminClient(bootstrap_servers=bootstrap)
    resp = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
    (_err, _msg, _t, _n, entries), = resp.resources
    values = {e[0]: (e[1], e[3]) for e in entries}
    for name in names:
        print("%s %s %s" % (name, values[name][0], values[name][1]))
    a.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "metadata":
        metadata(*args)
    elif cmd == "produce":
        produce(*args)
    elif cmd == "consume":
        consume(*args)
    elif cmd == "group":
        group(*args)
    elif cmd == "describe":
        describe(args[0], args[1], args[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
