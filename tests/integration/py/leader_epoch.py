#!/usr/bin/python3
"""
leader_epoch.py BOOTSTRAP TOPIC RECORDS [EPOCH | denied]: the leader epoch APIs of KIP-101/320
against a partition 0 of TOPIC holding RECORDS records, all written in leader epoch
EPOCH (0 by default: a single broker's).

 - OffsetForLeaderEpoch (23) v0-v3 encoded by kafka-python 2.0.2's protocol layer and
   sent by its client (schemas below, from Kafka's OffsetForLeaderEpochRequest/
   Response.json), v4 (flexible, which kafka-python cannot encode) with the encoder of
   flex_versions.py: the end offset of the epoch, UNDEFINED (-1/-1) for a later epoch,
   FENCED_LEADER_EPOCH (74) / UNKNOWN_LEADER_EPOCH (75) for a stale / future
   current_leader_epoch, UNKNOWN_TOPIC_OR_PARTITION for a missing partition.
 - ListOffsets (2) v4/v5: the offsets with their leader epoch; the same fencing.
 - Fetch (1) v11 (kafka-python's own FetchRequest_v11): current_leader_epoch checked.
 - Metadata (3) v9: the partition's leader epoch.

librdkafka 2.0.2, kafkajs 2.2.4 and kafka-python 2.0.2 (what Debian and npm give us)
do not validate positions with OffsetForLeaderEpoch yet (librdkafka does from 2.1.0),
so the requests a KIP-320 consumer sends after a reconnect are sent here by hand.
With "denied" (the authorizer on, the caller holding no ACL): a consumer's
OffsetForLeaderEpoch gets TOPIC_AUTHORIZATION_FAILED (29), a follower's (replica_id >= 0)
CLUSTER_AUTHORIZATION_FAILED (31), with no offsets.
Exits 1 naming the first check that failed.
"""
import os
import sys

from kafka import KafkaAdminClient
from kafka.protocol.api import Request, Response
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.types import Array, Int8, Int16, Int32, Int64, Schema, String

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flex_versions import TAGS, Conn, carray, check, cstr, i32, uvarint  # noqa: E402

FENCED, UNKNOWN_EPOCH, UNKNOWN_TP = 74, 75, 3
TOPIC_DENIED, CLUSTER_DENIED = 29, 31

# ---- OffsetForLeaderEpoch v0-v3 in kafka-python's protocol layer ----

_P0 = Array(("partition", Int32), ("leader_epoch", Int32))
_P2 = Array(("partition", Int32), ("current_leader_epoch", Int32), ("leader_epoch", Int32))
_R0 = Array(("error_code", Int16), ("partition", Int32), ("end_offset", Int64))
_R1 = Array(("error_code", Int16), ("partition", Int32), ("leader_epoch", Int32),
            ("end_offset", Int64))


def _resp(version, schema):
    return type("OffsetForLeaderEpochResponse_v%d" % version, (Response,),
                {"API_KEY": 23, "API_VERSION": version, "SCHEMA": schema})


OFLE_RESP = [
    _resp(0, Schema(("topics", Array(("topic", String("utf-8")), ("partitions", _R0))))),
    _resp(1, Schema(("topics", Array(("topic", String("utf-8")), ("partitions", _R1))))),
    _resp(2, Schema(("throttle_time_ms", Int32),
                    ("topics", Array(("topic", String("utf-8")), ("partitions", _R1))))),
    _resp(3, Schema(("throttle_time_ms", Int32),
                    ("topics", Array(("topic", String("utf-8")), ("partitions", _R1))))),
]


def _req(version, schema):
    return type("OffsetForLeaderEpochRequest_v%d" % version, (Request,),
                {"API_KEY": 23, "API_VERSION": version, "SCHEMA": schema,
                 "RESPONSE_TYPE": OFLE_RESP[version]})


OFLE_REQ = [
    _req(0, Schema(("topics", Array(("topic", String("utf-8")), ("partitions", _P0))))),
    _req(1, Schema(("topics", Array(("topic", String("utf-8")), ("partitions", _P0))))),
    _req(2, Schema(("topics", Array(("topic", String("utf-8")), ("partitions", _P2))))),
    _req(3, Schema(("replica_id", Int32),
                   ("topics", Array(("topic", String("utf-8")), ("partitions", _P2))))),
]

# ---- ListOffsets v4/v5 (kafka-python 2.0.2's v4 declares current_leader_epoch int64) ----

_LO_RESP = Schema(
    ("throttle_time_ms", Int32),
    ("topics", Array(("topic", String("utf-8")),
                     ("partitions", Array(("partition", Int32), ("error_code", Int16),
                                          ("timestamp", Int64), ("offset", Int64),
                                          ("leader_epoch", Int32))))))
_LO_REQ = Schema(
    ("replica_id", Int32), ("isolation_level", Int8),
    ("topics", Array(("topic", String("utf-8")),
                     ("partitions", Array(("partition", Int32),
                                          ("current_leader_epoch", Int32),
                                          ("timestamp", Int64))))))
LO_RESP = {v: type("ListOffsetsResponse_v%d" % v, (Response,),
                   {"API_KEY": 2, "API_VERSION": v, "SCHEMA": _LO_RESP}) for v in (4, 5)}
LO_REQ = {v: type("ListOffsetsRequest_v%d" % v, (Request,),
                  {"API_KEY": 2, "API_VERSION": v, "SCHEMA": _LO_REQ,
                   "RESPONSE_TYPE": LO_RESP[v]}) for v in (4, 5)}


def call(admin, request):
    node = admin._client.least_loaded_node()
    future = admin._send_request_to_node(node, request)
    admin._wait_for_futures([future])
    return future.value


def ofle(admin, version, topic, partition, epoch, current=-1, replica=-1):
    """One partition asked; returns (error, leader_epoch or None, end_offset)."""
    if version >= 3:
        req = OFLE_REQ[version](replica, [(topic, [(partition, current, epoch)])])
    elif version == 2:
        req = OFLE_REQ[version]([(topic, [(partition, current, epoch)])])
    else:
        req = OFLE_REQ[version]([(topic, [(partition, epoch)])])
    resp = call(admin, req)
    check(len(resp.topics) == 1 and resp.topics[0][0] == topic,
          "OffsetForLeaderEpoch v%d: topics %r" % (version, resp.topics))
    parts = resp.topics[0][1]
    check(len(parts) == 1 and parts[0][1] == partition,
          "OffsetForLeaderEpoch v%d: partitions %r" % (version, parts))
    p = parts[0]
    return (p[0], None, p[2]) if version == 0 else (p[0], p[2], p[3])


def ofle_v4(conn, topic, partition, epoch, current=-1):
    part = i32(partition) + i32(current) + i32(epoch) + TAGS
    body = i32(-1) + carray([cstr(topic) + carray([part]) + TAGS]) + TAGS
    r = conn.call(23, 4, body, True, "OffsetForLeaderEpoch")
    check(r.i32() == 0, "OffsetForLeaderEpoch v4: throttle_time_ms")

    def partition_entry(rr):
        e = (rr.i16(), rr.i32(), rr.i32(), rr.i64())
        rr.tags()
        return e

    def topic_entry(rr):
        name = rr.cstr()
        parts = rr.carray(partition_entry)
        rr.tags()
        return name, parts

    topics = r.carray(topic_entry)
    r.tags()
    r.done()
    check(len(topics) == 1 and topics[0][0] == topic and len(topics[0][1]) == 1,
          "OffsetForLeaderEpoch v4: answer %r" % topics)
    err, part, ep, end = topics[0][1][0]
    check(part == partition, "OffsetForLeaderEpoch v4: partition %d" % part)
    return err, ep, end


def metadata_v9_epoch(conn, topic):
    body = carray([cstr(topic) + TAGS]) + b"\x00" + b"\x00" + b"\x00" + TAGS
    r = conn.call(3, 9, body, True, "Metadata")
    r.i32()  # throttle
    r.carray(lambda rr: (rr.i32(), rr.cstr(), rr.i32(), rr.cstr(), rr.tags()))
    r.cstr()  # cluster id
    r.i32()  # controller

    def part(rr):
        e = (rr.i16(), rr.i32(), rr.i32(), rr.i32())
        rr.carray(lambda x: x.i32())
        rr.carray(lambda x: x.i32())
        rr.carray(lambda x: x.i32())
        rr.tags()
        return e

    def topic_entry(rr):
        err, name, _internal = rr.i16(), rr.cstr(), rr.bool()
        parts = rr.carray(part)
        rr.i32()
        rr.tags()
        return err, name, parts

    topics = r.carray(topic_entry)
    r.i32()
    r.tags()
    r.done()
    check(len(topics) == 1 and topics[0][0] == 0, "Metadata v9: %r" % topics)
    return {p[1]: p[3] for p in topics[0][2]}


def main():
    bootstrap, topic, records = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "0"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="leader-epoch",
                             request_timeout_ms=15000)
    conn = Conn(bootstrap)
    if mode == "denied":
        for v in range(4):
            got = ofle(admin, v, topic, 0, 0)
            check(got[0] == TOPIC_DENIED and got[2] == -1,
                  "denied consumer v%d: %r, want error %d" % (v, got, TOPIC_DENIED))
        got = ofle_v4(conn, topic, 0, 0)
        check(got == (TOPIC_DENIED, -1, -1), "denied consumer v4: %r" % (got,))
        got = ofle(admin, 3, topic, 0, 0, replica=1)
        check(got == (CLUSTER_DENIED, -1, -1), "denied follower v3: %r" % (got,))
        admin.close()
        print("leader_epoch: denied as expected (topic and cluster)")
        return
    epoch = int(mode)

    # OffsetForLeaderEpoch: every version, the epoch the records were written in
    for v in range(4):
        err, ep, end = ofle(admin, v, topic, 0, epoch)
        check(err == 0 and end == records and ep in (None, epoch),
              "OffsetForLeaderEpoch v%d epoch %d: error %d, epoch %r, end %d (want %d)"
              % (v, epoch, err, ep, end, records))
    err, ep, end = ofle_v4(conn, topic, 0, epoch)
    check((err, ep, end) == (0, epoch, records),
          "OffsetForLeaderEpoch v4: %r, want (0, %d, %d)" % ((err, ep, end), epoch, records))
    # an epoch the partition never had: UNDEFINED, no error (KIP-279)
    for v in (1, 3):
        got = ofle(admin, v, topic, 0, epoch + 1)
        check(got == (0, -1, -1), "OffsetForLeaderEpoch v%d epoch %d: %r, want (0, -1, -1)"
              % (v, epoch + 1, got))
    # fencing by current_leader_epoch (v2+), and a follower's replica_id (v3)
    got = ofle(admin, 2, topic, 0, epoch, current=epoch + 1)
    check(got[0] == UNKNOWN_EPOCH, "v2 current epoch %d: error %d, want %d"
          % (epoch + 1, got[0], UNKNOWN_EPOCH))
    got = ofle_v4(conn, topic, 0, epoch, current=epoch + 1)
    check(got == (UNKNOWN_EPOCH, -1, -1), "v4 current epoch ahead: %r" % (got,))
    if epoch > 0:
        got = ofle(admin, 3, topic, 0, epoch, current=epoch - 1)
        check(got[0] == FENCED, "v3 current epoch %d: error %d, want %d"
              % (epoch - 1, got[0], FENCED))
    got = ofle(admin, 3, topic, 0, epoch, current=epoch, replica=1)
    check(got == (0, epoch, records), "v3 replica_id 1 (no authorizer): %r" % (got,))
    got = ofle(admin, 3, topic, 9, epoch)
    check(got[0] == UNKNOWN_TP, "v3 partition 9: error %d, want %d" % (got[0], UNKNOWN_TP))

    # ListOffsets v4/v5: offsets with their epochs; current_leader_epoch checked
    for v in (4, 5):
        resp = call(admin, LO_REQ[v](-1, 0, [(topic, [(0, epoch, -1), (0, -1, -2)])]))
        latest, earliest = resp.topics[0][1]
        check(latest[1:] == (0, -1, records, epoch),
              "ListOffsets v%d latest: %r, want error 0, offset %d, epoch %d"
              % (v, latest, records, epoch))
        check(earliest[1] == 0 and earliest[3] == 0 and earliest[4] == epoch,
              "ListOffsets v%d earliest: %r" % (v, earliest))
        resp = call(admin, LO_REQ[v](-1, 0, [(topic, [(0, epoch + 1, -1)])]))
        check(resp.topics[0][1][0][1] == UNKNOWN_EPOCH,
              "ListOffsets v%d current epoch ahead: %r" % (v, resp.topics[0][1][0]))

    # Fetch v11 (kafka-python's): a current epoch ahead is refused, ours reads
    def fetch(current):
        req = FetchRequest[11](-1, 1000, 1, 1 << 20, 0, 0, -1,
                               [(topic, [(0, current, 0, -1, 1 << 20)])], [], "")
        return call(admin, req).topics[0][1][0]
    p = fetch(epoch + 1)  # (partition, error, high watermark, ..., records)
    check(p[1] == UNKNOWN_EPOCH and not p[-1],
          "Fetch v11 current epoch ahead: error %d, %d bytes" % (p[1], len(p[-1] or b"")))
    p = fetch(epoch)
    check(p[1] == 0 and p[2] == records and len(p[-1] or b"") > 0,
          "Fetch v11 current epoch %d: error %d, high watermark %d, %d bytes"
          % (epoch, p[1], p[2], len(p[-1] or b"")))

    epochs = metadata_v9_epoch(conn, topic)
    check(epochs.get(0) == epoch, "Metadata v9 leader epochs %r, want %d" % (epochs, epoch))
    admin.close()
    print("leader_epoch: all checks passed (%d records, epoch %d)" % (records, epoch))


if __name__ == "__main__":
    main()
