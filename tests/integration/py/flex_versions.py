#!/usr/bin/python3
"""
flex_versions.py BOOTSTRAP: the flexible (KIP-482) versions of the group APIs, Metadata
and CreateTopics, and DescribeLogDirs / DescribeCluster, checked field by field; and
static membership (group.instance.id, KIP-345) over the flexible group APIs.

No client available here (librdkafka 2.0.2, kafkajs 2.2.4, kafka-python 2.0.2) sends
these versions except OffsetFetch v6-7, ListGroups v3-4 (librdkafka, checked in
rk_group_admin) and ApiVersions v3. So this speaks the wire itself: its encoder and
decoder are written here from Kafka's message definitions (clients/src/main/resources/
common/message/*.json), independently of the broker's codec — a field the broker wrote
in the wrong place or form fails a check below or leaves bytes over.

Each exchange decodes the whole response and requires that nothing is left over.
Exits 1 naming the first check that failed.
"""
import socket
import struct
import sys
import uuid


def fail(msg):
    print("flex_versions: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


# ---- encoding (request side) ----

def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def boolean(v): return b"\x01" if v else b"\x00"


def cstr(s):
    """COMPACT_(NULLABLE_)STRING"""
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def cbytes(b):
    return uvarint(len(b) + 1) + b


def carray(items):
    """COMPACT_ARRAY of already-encoded items (None: null)"""
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(items)


TAGS = uvarint(0)  # an empty tagged-field block


def string(s):
    b = s.encode()
    return i16(len(b)) + b


def array(items):
    return i32(len(items)) + b"".join(items)


# ---- decoding (response side) ----

class Reader:
    def __init__(self, data, what):
        self.d, self.p, self.what = data, 0, what

    def take(self, n):
        check(self.p + n <= len(self.d), "%s: response ends early" % self.what)
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def bool(self): return self.take(1) != b"\x00"
    def uuid(self): return self.take(16)

    def uvarint(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            check(shift < 35, "%s: varint too long" % self.what)

    def cstr(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def cbytes(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1)

    def carray(self, item):
        n = self.uvarint()
        return None if n == 0 else [item(self) for _ in range(n - 1)]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def array(self, item):
        n = self.i32()
        return None if n < 0 else [item(self) for _ in range(n)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        check(self.p == len(self.d),
              "%s: %d bytes left over after the last field" % (self.what, len(self.d) - self.p))


class Conn:
    def __init__(self, bootstrap):
        host, port = bootstrap.rsplit(":", 1)
        self.bootstrap = bootstrap
        self.s = socket.create_connection((host, int(port)), timeout=15)
        self.cid = 0

    def call(self, key, version, body, flexible, what):
        """Sends a request (header v2 when flexible, else v1); returns a Reader on the
        response body (after header v1 when flexible, else v0)."""
        self.cid += 1
        header = i16(key) + i16(version) + i32(self.cid) + string("flex-check")
        if flexible:
            header += TAGS
        frame = header + body
        self.s.sendall(i32(len(frame)) + frame)
        size = struct.unpack(">i", self.recv(4, what))[0]
        r = Reader(self.recv(size, what), "%s v%d" % (what, version))
        check(r.i32() == self.cid, "%s: correlation id" % what)
        if flexible:
            r.tags()
        return r

    def recv(self, n, what):
        b = b""
        while len(b) < n:
            try:
                c = self.s.recv(n - len(b))
            except socket.timeout:
                fail("%s: no answer within 15 s" % what)
            if not c:
                fail("%s: the broker closed the connection (version refused or malformed?)" % what)
            b += c
        return b


def metadata(c, topic, topic_id):
    for v in range(9, 13):
        t = (i8(0) * 16 if v >= 10 else b"") + cstr(topic) + TAGS
        body = carray([t]) + boolean(False)
        if v <= 10:
            body += boolean(False)  # include_cluster_authorized_operations
        body += boolean(False) + TAGS  # include_topic_authorized_operations
        r = c.call(3, v, body, True, "Metadata")
        check(r.i32() == 0, "Metadata v%d throttle" % v)
        brokers = r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
        check(len(brokers) == 1 and brokers[0][2] > 0, "Metadata v%d brokers %r" % (v, brokers))
        cluster_id = r.cstr()
        check(cluster_id, "Metadata v%d cluster id" % v)
        controller = r.i32()
        check(controller == brokers[0][0], "Metadata v%d controller %d" % (v, controller))

        def topic_entry(r):
            err, name = r.i16(), r.cstr()
            tid = r.uuid() if v >= 10 else None
            internal = r.bool()
            parts = r.carray(lambda r: (r.i16(), r.i32(), r.i32(), r.i32(),
                                        r.carray(lambda r: r.i32()), r.carray(lambda r: r.i32()),
                                        r.carray(lambda r: r.i32()), r.tags()))
            ops = r.i32()
            r.tags()
            return err, name, tid, internal, parts, ops
        topics = r.carray(topic_entry)
        if v <= 10:
            check(r.i32() == -2147483648, "Metadata v%d cluster authorized operations" % v)
        r.tags()
        r.done()
        check(len(topics) == 1, "Metadata v%d: %d topics" % (v, len(topics)))
        err, name, tid, internal, parts, ops = topics[0]
        check(err == 0 and name == topic and not internal, "Metadata v%d topic %r" % (v, topics[0]))
        check(len(parts) == 3, "Metadata v%d: %d partitions, expected 3" % (v, len(parts)))
        for i, p in enumerate(parts):
            check(p[0] == 0 and p[1] == i and p[2] == controller and p[3] == 0 and
                  p[4] == [controller] and p[5] == [controller] and p[6] == [],
                  "Metadata v%d partition %r" % (v, p))
        check(ops == -2147483648, "Metadata v%d topic authorized operations" % v)
        if v >= 10:
            check(tid == topic_id, "Metadata v%d topic id %s, CreateTopics said %s"
                  % (v, uuid.UUID(bytes=tid), uuid.UUID(bytes=topic_id)))
    # v12: by id only (null name), and an unknown id.
    unknown = b"\x42" * 16
    body = carray([topic_id + cstr(None) + TAGS, unknown + cstr(None) + TAGS])
    body += boolean(False) + boolean(False) + TAGS
    r = c.call(3, 12, body, True, "Metadata by id")
    r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    r.cstr()
    r.i32()
    topics = r.carray(lambda r: (r.i16(), r.cstr(), r.uuid(), r.bool(),
                                 r.carray(lambda r: (r.i16(), r.i32(), r.i32(), r.i32(),
                                                     r.carray(lambda r: r.i32()),
                                                     r.carray(lambda r: r.i32()),
                                                     r.carray(lambda r: r.i32()), r.tags())),
                                 r.i32(), r.tags()))
    r.tags()
    r.done()
    check(topics[0][0] == 0 and topics[0][1] == topic and len(topics[0][4]) == 3,
          "Metadata v12 by id: %r" % (topics[0][:3],))
    check(topics[1][0] == 100 and topics[1][2] == unknown,
          "Metadata v12 unknown id: error %d, expected UNKNOWN_TOPIC_ID (100)" % topics[1][0])
    # v10-11 answer names that may not be null, so a topic asked for by id alone (a null
    # name) is refused there: the broker closes the connection (Kafka: InvalidRequest)
    # rather than answering a null where no decoder expects one.
    for v in (10, 11):
        bad = Conn(c.bootstrap)
        body = carray([topic_id + cstr(None) + TAGS]) + boolean(False) + boolean(False)
        body += boolean(False) + TAGS
        frame = i16(3) + i16(v) + i32(1) + string("flex-check") + TAGS + body
        bad.s.sendall(i32(len(frame)) + frame)
        try:
            got = bad.s.recv(4)
        except ConnectionResetError:
            got = b""
        check(got == b"", "Metadata v%d by id alone (null name) was answered; expected the "
              "connection closed (the v%d answer has no null names)" % (v, v))
        bad.s.close()
    print("flex_versions: Metadata v9-12 ok (ids, leader epochs, lookup by id; not below v12)")


def create_topics(c, topic):
    """CreateTopics v7 (flexible, with configs and the topic id); returns the id."""
    cfg = carray([cstr("retention.ms") + cstr("3600000") + TAGS])
    t = cstr(topic) + i32(3) + i16(1) + carray([]) + cfg + TAGS
    dup = cstr(topic) + i32(1) + i16(1) + carray([]) + carray([]) + TAGS
    for v, body_topics, expect in ((7, [t], 0), (5, [dup], 36)):
        body = carray(body_topics) + i32(10000) + boolean(False) + TAGS
        r = c.call(19, v, body, True, "CreateTopics")
        check(r.i32() == 0, "CreateTopics v%d throttle" % v)

        def entry(r):
            name = r.cstr()
            tid = r.uuid() if v >= 7 else None
            err, msg = r.i16(), r.cstr()
            nparts, repl = r.i32(), r.i16()
            configs = r.carray(lambda r: (r.cstr(), r.cstr(), r.bool(), r.i8(), r.bool(), r.tags()))
            r.tags()
            return name, tid, err, msg, nparts, repl, configs
        res = r.carray(entry)
        r.tags()
        r.done()
        name, tid, err, msg, nparts, repl, configs = res[0]
        check(name == topic and err == expect,
              "CreateTopics v%d: %s error %d (%s), expected %d" % (v, name, err, msg, expect))
        if expect == 0:
            check(nparts == 3 and repl == 1, "CreateTopics v%d: %d partitions, replication %d"
                  % (v, nparts, repl))
            by_name = {cfg[0]: cfg for cfg in configs}
            ret = by_name.get("retention.ms")
            check(ret and ret[1] == "3600000" and ret[3] == 1,
                  "CreateTopics v%d retention.ms %r (expected 3600000, source 1 = topic)" % (v, ret))
            seg = by_name.get("segment.bytes")
            check(seg and seg[3] in (4, 5), "CreateTopics v%d segment.bytes %r" % (v, seg))
            check(tid != b"\0" * 16, "CreateTopics v7: zero topic id")
            created_id = tid
        else:
            check(nparts == -1 and configs is None,
                  "CreateTopics v%d error entry: %d partitions, configs %r" % (v, nparts, configs))
    print("flex_versions: CreateTopics v5, v7 ok (configs, topic id, TOPIC_ALREADY_EXISTS)")
    return created_id


def find_coordinator(c, group):
    r = c.call(10, 3, cstr(group) + i8(0) + TAGS, True, "FindCoordinator")
    r.i32()
    err, msg, node, host, port = r.i16(), r.cstr(), r.i32(), r.cstr(), r.i32()
    r.tags()
    r.done()
    check(err == 0 and msg is None and node >= 0 and host and port > 0,
          "FindCoordinator v3: %r" % ((err, msg, node, host, port),))
    body = i8(0) + carray([cstr(group), cstr("other-group")]) + TAGS
    r = c.call(10, 4, body, True, "FindCoordinator")
    r.i32()
    coords = r.carray(lambda r: (r.cstr(), r.i32(), r.cstr(), r.i32(), r.i16(), r.cstr(), r.tags()))
    r.tags()
    r.done()
    check([x[0] for x in coords] == [group, "other-group"], "FindCoordinator v4 keys %r" % coords)
    for x in coords:
        check(x[1] == node and x[2] == host and x[3] == port and x[4] == 0 and x[5] is None,
              "FindCoordinator v4 entry %r" % (x,))
    body = i8(7) + carray([cstr(group)]) + TAGS
    r = c.call(10, 4, body, True, "FindCoordinator")
    r.i32()
    coords = r.carray(lambda r: (r.cstr(), r.i32(), r.cstr(), r.i32(), r.i16(), r.cstr(), r.tags()))
    r.tags()
    r.done()
    check(coords[0][4] == 42 and coords[0][1] == -1, "FindCoordinator v4 bad key type: %r" % coords)
    print("flex_versions: FindCoordinator v3, v4 ok")


def subscription(topic):
    # ConsumerProtocolSubscription v0 (not flexible): version, topics, user_data
    return i16(0) + array([string(topic)]) + i32(-1)


def join(c, v, group, member, topic, reason=True, instance=None):
    protos = carray([cstr("range") + cbytes(subscription(topic)) + TAGS])
    body = cstr(group) + i32(10000) + i32(10000) + cstr(member) + cstr(instance) + cstr("consumer")
    body += protos
    if v >= 8:
        body += cstr("flex check" if reason else None)
    body += TAGS
    r = c.call(11, v, body, True, "JoinGroup")
    r.i32()
    err, gen = r.i16(), r.i32()
    ptype = r.cstr() if v >= 7 else None
    pname, leader = r.cstr(), r.cstr()
    skip = r.bool() if v >= 9 else None
    me = r.cstr()
    members = r.carray(lambda r: (r.cstr(), r.cstr(), r.cbytes(), r.tags()))
    r.tags()
    r.done()
    return err, gen, ptype, pname, leader, skip, me, members


def groups(c, topic):
    group = "flex-group"
    # JoinGroup v9: MEMBER_ID_REQUIRED first, then the real join.
    err, gen, ptype, pname, leader, skip, me, members = join(c, 9, group, "", topic)
    check(err == 79 and me, "JoinGroup v9 first join: error %d, member %r" % (err, me))
    check(ptype is None and pname is None, "JoinGroup v9 error: protocol %r/%r, expected nulls"
          % (ptype, pname))
    err, gen, ptype, pname, leader, skip, me2, members = join(c, 9, group, me, topic)
    check(err == 0 and me2 == me and leader == me and gen >= 1,
          "JoinGroup v9: error %d, member %r, leader %r" % (err, me2, leader))
    check(ptype == "consumer" and pname == "range" and skip is False,
          "JoinGroup v9: type %r, protocol %r, skip_assignment %r" % (ptype, pname, skip))
    check(len(members) == 1 and members[0][0] == me and members[0][2] == subscription(topic),
          "JoinGroup v9 members %r" % members)
    # SyncGroup v4 with an assignment, which comes back.
    assignment = i16(0) + array([string(topic) + array([i32(0), i32(1), i32(2)])]) + i32(-1)
    body = cstr(group) + i32(gen) + cstr(me) + cstr(None)
    body += carray([cstr(me) + cbytes(assignment) + TAGS]) + TAGS
    r = c.call(14, 4, body, True, "SyncGroup")
    r.i32()
    err, got = r.i16(), r.cbytes()
    r.tags()
    r.done()
    check(err == 0 and got == assignment, "SyncGroup v4: error %d" % err)
    # Heartbeat v4.
    r = c.call(12, 4, cstr(group) + i32(gen) + cstr(me) + cstr(None) + TAGS, True, "Heartbeat")
    r.i32()
    err = r.i16()
    r.tags()
    r.done()
    check(err == 0, "Heartbeat v4: error %d" % err)
    r = c.call(12, 4, cstr(group) + i32(gen + 5) + cstr(me) + cstr(None) + TAGS, True, "Heartbeat")
    r.i32()
    err = r.i16()
    r.tags()
    r.done()
    check(err == 22, "Heartbeat v4 wrong generation: error %d, expected ILLEGAL_GENERATION" % err)
    # OffsetCommit v8: partitions 0 and 2.
    parts = [i32(0) + i64(11) + i32(-1) + cstr("m0") + TAGS,
             i32(2) + i64(33) + i32(-1) + cstr(None) + TAGS]
    body = cstr(group) + i32(gen) + cstr(me) + cstr(None)
    body += carray([cstr(topic) + carray(parts) + TAGS, cstr("no-such-topic") +
                    carray([i32(0) + i64(1) + i32(-1) + cstr("") + TAGS]) + TAGS]) + TAGS
    r = c.call(8, 8, body, True, "OffsetCommit")
    r.i32()
    res = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.i32(), r.i16(), r.tags())), r.tags()))
    r.tags()
    r.done()
    check(res[0][0] == topic and [p[:2] for p in res[0][1]] == [(0, 0), (2, 0)],
          "OffsetCommit v8: %r" % res)
    check(res[1][1][0][1] == 3, "OffsetCommit v8 unknown topic: %r" % (res[1],))
    # OffsetFetch v8: two groups, one with named partitions, one (unknown) with all.
    g1 = cstr(group) + carray([cstr(topic) + carray([i32(0), i32(1), i32(2)]) + TAGS]) + TAGS
    g2 = cstr("flex-nobody") + carray(None) + TAGS
    r = c.call(9, 8, carray([g1, g2]) + boolean(False) + TAGS, True, "OffsetFetch")
    r.i32()

    def part(r):
        p = (r.i32(), r.i64(), r.i32(), r.cstr(), r.i16())
        r.tags()
        return p
    res = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.cstr(), r.carray(part), r.tags())),
                              r.i16(), r.tags()))
    r.tags()
    r.done()
    check(res[0][0] == group and res[0][2] == 0, "OffsetFetch v8 group %r" % (res[0][:1],))
    got = [(p[0], p[1], p[3]) for p in res[0][1][0][1]]
    check(got == [(0, 11, "m0"), (1, -1, ""), (2, 33, "")], "OffsetFetch v8 offsets %r" % got)
    check(res[1][0] == "flex-nobody" and res[1][1] == [] and res[1][2] == 0,
          "OffsetFetch v8 unknown group %r" % (res[1],))
    # OffsetFetch v6 (flexible, one group, null topics = all it committed).
    r = c.call(9, 6, cstr(group) + carray(None) + TAGS, True, "OffsetFetch")
    r.i32()
    topics = r.carray(lambda r: (r.cstr(), r.carray(part), r.tags()))
    err = r.i16()
    r.tags()
    r.done()
    check(err == 0 and [(t[0], [(p[0], p[1]) for p in t[1]]) for t in topics] ==
          [(topic, [(0, 11), (2, 33)])], "OffsetFetch v6 all: %r" % topics)
    # DescribeGroups v5.
    r = c.call(15, 5, carray([cstr(group), cstr("flex-nobody")]) + boolean(False) + TAGS, True,
               "DescribeGroups")
    r.i32()
    res = r.carray(lambda r: (r.i16(), r.cstr(), r.cstr(), r.cstr(), r.cstr(),
                              r.carray(lambda r: (r.cstr(), r.cstr(), r.cstr(), r.cstr(),
                                                  r.cbytes(), r.cbytes(), r.tags())),
                              r.i32(), r.tags()))
    r.tags()
    r.done()
    err, gid, state, ptype, proto, members, ops, _ = res[0]
    check(err == 0 and gid == group and state == "Stable" and ptype == "consumer" and
          proto == "range", "DescribeGroups v5: %r" % (res[0][:5],))
    check(len(members) == 1 and members[0][0] == me and members[0][2] == "flex-check" and
          members[0][5] == assignment, "DescribeGroups v5 members %r" % (members,))
    check(res[1][2] == "Dead" and res[1][5] == [], "DescribeGroups v5 unknown %r" % (res[1][:3],))
    # ListGroups v3 (no filter) and v4 (states filter).
    for v, states, expect in ((3, None, True), (4, ["Stable"], True), (4, ["Empty"], False)):
        body = (carray([cstr(s) for s in states]) if v >= 4 else b"") + TAGS
        r = c.call(16, v, body, True, "ListGroups")
        r.i32()
        err = r.i16()
        listed = r.carray(lambda r: (r.cstr(), r.cstr(), r.cstr() if v >= 4 else None, r.tags()))
        r.tags()
        r.done()
        names = {x[0]: x for x in listed}
        check(err == 0 and (group in names) == expect,
              "ListGroups v%d filter %r: %r" % (v, states, listed))
        if expect and v >= 4:
            check(names[group][2] == "Stable", "ListGroups v4 state %r" % (names[group],))
    # LeaveGroup v5 (with a reason), then DeleteGroups v2.
    body = cstr(group) + carray([cstr(me) + cstr(None) + cstr("done") + TAGS]) + TAGS
    r = c.call(13, 5, body, True, "LeaveGroup")
    r.i32()
    err = r.i16()
    members = r.carray(lambda r: (r.cstr(), r.cstr(), r.i16(), r.tags()))
    r.tags()
    r.done()
    check(err == 0 and members[0][0] == me and members[0][2] == 0, "LeaveGroup v5 %r" % members)
    r = c.call(42, 2, carray([cstr(group), cstr("flex-nobody")]) + TAGS, True, "DeleteGroups")
    r.i32()
    res = r.carray(lambda r: (r.cstr(), r.i16(), r.tags()))
    r.tags()
    r.done()
    check([x[:2] for x in res] == [(group, 0), ("flex-nobody", 69)], "DeleteGroups v2 %r" % res)
    print("flex_versions: JoinGroup v9, SyncGroup v4, Heartbeat v4, OffsetCommit v8, "
          "OffsetFetch v6/v8, DescribeGroups v5, ListGroups v3/v4, LeaveGroup v5, "
          "DeleteGroups v2 ok")


def heartbeat(c, group, gen, member, instance):
    r = c.call(12, 4, cstr(group) + i32(gen) + cstr(member) + cstr(instance) + TAGS, True,
               "Heartbeat")
    r.i32()
    err = r.i16()
    r.tags()
    r.done()
    return err


def sync(c, group, gen, member, instance, assignments):
    body = cstr(group) + i32(gen) + cstr(member) + cstr(instance)
    body += carray([cstr(m) + cbytes(a) + TAGS for m, a in assignments]) + TAGS
    r = c.call(14, 4, body, True, "SyncGroup")
    r.i32()
    err, got = r.i16(), r.cbytes()
    r.tags()
    r.done()
    return err, got


def commit(c, group, gen, member, instance, topic, offset):
    body = cstr(group) + i32(gen) + cstr(member) + cstr(instance)
    body += carray([cstr(topic) + carray([i32(0) + i64(offset) + i32(-1) + cstr(None) + TAGS]) +
                    TAGS]) + TAGS
    r = c.call(8, 8, body, True, "OffsetCommit")
    r.i32()
    res = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.i32(), r.i16(), r.tags())), r.tags()))
    r.tags()
    r.done()
    return res[0][1][0][1]


def leave(c, group, member, instance):
    body = cstr(group) + carray([cstr(member) + cstr(instance) + cstr("flex check") + TAGS]) + TAGS
    r = c.call(13, 5, body, True, "LeaveGroup")
    r.i32()
    err = r.i16()
    members = r.carray(lambda r: (r.cstr(), r.cstr(), r.i16(), r.tags()))
    r.tags()
    r.done()
    return err, [m[:3] for m in members]


def static_members(c, topic):
    """Static membership (KIP-345) over the flexible versions: the group.instance.id of
    JoinGroup v9, SyncGroup v4, Heartbeat v4, OffsetCommit v8 and LeaveGroup v5 is the
    coordinator's, not read and dropped: a restarted instance takes its place without a
    rebalance and the one it replaced is fenced (FENCED_INSTANCE_ID 82)."""
    group, inst = "flex-static", "flex-inst-a"
    err, gen, _, _, leader, _, old, members = join(c, 9, group, "", topic, instance=inst)
    check(err == 0 and old.startswith(inst + "-") and leader == old,
          "JoinGroup v9 static: error %d, member %r (a static member gets its id at once, "
          "\"<instance id>-<uuid>\")" % (err, old))
    check([(m[0], m[1]) for m in members] == [(old, inst)],
          "JoinGroup v9 static members %r: the instance id is not echoed" % members)
    assignment = i16(0) + array([string(topic) + array([i32(0)])]) + i32(-1)
    err, got = sync(c, group, gen, old, inst, [(old, assignment)])
    check(err == 0 and got == assignment, "SyncGroup v4 static: error %d" % err)
    check(heartbeat(c, group, gen, old, inst) == 0, "Heartbeat v4 static: not 0")
    check(commit(c, group, gen, old, inst, topic, 5) == 0, "OffsetCommit v8 static: not 0")
    # The same instance restarts (a new connection, no member id): its old place, at once.
    c2 = Conn(c.bootstrap)
    err, gen2, _, pname, _, _, new, _ = join(c2, 9, group, "", topic, instance=inst)
    check(err == 0 and gen2 == gen and new != old and new.startswith(inst + "-") and
          pname == "range", "JoinGroup v9 static rejoin: error %d, generation %d (was %d), "
          "member %r (was %r)" % (err, gen2, gen, new, old))
    err, got = sync(c2, group, gen, new, inst, [])
    check(err == 0 and got == assignment,
          "SyncGroup v4 after the static rejoin: error %d, the assignment kept: %s" %
          (err, got == assignment))
    # The replaced instance is fenced on every API that names it.
    for what, err in (("Heartbeat v4", heartbeat(c, group, gen, old, inst)),
                      ("SyncGroup v4", sync(c, group, gen, old, inst, [])[0]),
                      ("OffsetCommit v8", commit(c, group, gen, old, inst, topic, 6)),
                      ("LeaveGroup v5", leave(c, group, old, inst)[1][0][2])):
        check(err == 82, "%s from the replaced instance: error %d, expected FENCED_INSTANCE_ID "
              "(82)" % (what, err))
    check(heartbeat(c2, group, gen, new, inst) == 0, "Heartbeat v4 of the new instance: not 0")
    check(commit(c2, group, gen, new, inst, topic, 7) == 0,
          "OffsetCommit v8 of the new instance: not 0")
    # KIP-345's admin removal: member id "" with the instance id.
    err, members = leave(c, group, "", inst)
    check(err == 0 and members == [("", inst, 0)], "LeaveGroup v5 by instance id: %r" % members)
    check(heartbeat(c2, group, gen, new, inst) == 25,
          "Heartbeat v4 after the removal: expected UNKNOWN_MEMBER_ID (25)")
    c2.s.close()
    print("flex_versions: static membership over JoinGroup v9, SyncGroup v4, Heartbeat v4, "
          "OffsetCommit v8, LeaveGroup v5 ok (a replaced instance gets FENCED_INSTANCE_ID)")


def log_dirs(c, topic):
    for v in (2, 3, 4):
        body = carray([cstr(topic) + carray([i32(1), i32(9)]) + TAGS, cstr("nope") +
                       carray([i32(0)]) + TAGS]) + TAGS
        r = c.call(35, v, body, True, "DescribeLogDirs")
        check(r.i32() == 0, "DescribeLogDirs v%d throttle" % v)
        if v >= 3:
            check(r.i16() == 0, "DescribeLogDirs v%d error" % v)

        def result(r):
            err, d = r.i16(), r.cstr()
            topics = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.i32(), r.i64(), r.i64(),
                                                                         r.bool(), r.tags())),
                                         r.tags()))
            total = usable = None
            if v >= 4:
                total, usable = r.i64(), r.i64()
            r.tags()
            return err, d, topics, total, usable
        results = r.carray(result)
        r.tags()
        r.done()
        check(len(results) == 1, "DescribeLogDirs v%d: %d dirs" % (v, len(results)))
        err, d, topics, total, usable = results[0]
        check(err == 0 and d.startswith("/"), "DescribeLogDirs v%d dir %r" % (v, d))
        check(len(topics) == 1 and topics[0][0] == topic and
              [p[0] for p in topics[0][1]] == [1], "DescribeLogDirs v%d topics %r" % (v, topics))
        check(topics[0][1][0][1] > 0, "DescribeLogDirs v%d: partition 1 size %d, expected > 0"
              % (v, topics[0][1][0][1]))
        if v >= 4:
            check(total > 0 and 0 <= usable <= total, "DescribeLogDirs v4 sizes %r/%r"
                  % (total, usable))
    print("flex_versions: DescribeLogDirs v2-4 ok")


def describe_cluster(c):
    r = c.call(60, 0, boolean(True) + TAGS, True, "DescribeCluster")
    r.i32()
    err, msg, cluster, controller = r.i16(), r.cstr(), r.cstr(), r.i32()
    brokers = r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    ops = r.i32()
    r.tags()
    r.done()
    check(err == 0 and msg is None and cluster and controller == brokers[0][0] and
          len(brokers) == 1 and brokers[0][2] > 0, "DescribeCluster v0 %r" %
          ((err, msg, cluster, controller, brokers),))
    # No authorizer: every cluster operation is allowed.
    want = sum(1 << op for op in (5, 7, 8, 9, 10, 11, 12))
    check(ops == want, "DescribeCluster v0 authorized operations %#x, expected %#x" % (ops, want))
    print("flex_versions: DescribeCluster v0 ok (cluster %s)" % cluster)
    return cluster


def main():
    bootstrap, produce_topic = sys.argv[1], sys.argv[2]
    c = Conn(bootstrap)
    topic = "flex-topic"
    topic_id = create_topics(c, topic)
    metadata(c, topic, topic_id)
    find_coordinator(c, "flex-group")
    groups(c, topic)
    static_members(c, topic)
    log_dirs(c, produce_topic)
    describe_cluster(c)
    print("flex_versions: all checks passed")


if __name__ == "__main__":
    main()
