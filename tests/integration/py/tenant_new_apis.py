#!/usr/bin/python3
"""
tenant_new_apis.py seed ADMIN_BOOTSTRAP A B: as the admin (a super user), commits offsets
  for groups A.g (on A.y and B.y) and B.g (on B.y and A.y), and prints B.y's topic id.
tenant_new_apis.py SASL_BOOTSTRAP USER PASSWORD OWN FOREIGN FOREIGN_TOPIC_ID: tenant
isolation over the APIs and versions issue 15 added, which no client here sends
(librdkafka 2.0.2 stops below them), so test_tenant_isolation.sh's matrix cannot reach
them. Logs in with SASL PLAIN on a plain socket and, with the wire code of
flex_versions.py, asks as USER (a member of the tenant whose prefix is OWN) about the
tenant FOREIGN's topic FOREIGN.y (its id FOREIGN_TOPIC_ID, in hex) and group FOREIGN.g,
and about its own OWN.y and OWN.g (each group has committed offsets on its tenant's .y
topic and on the other tenant's):

  DescribeLogDirs v0-4   DESCRIBE on the cluster: no directory, v3+ CLUSTER_AUTHORIZATION_FAILED
  DescribeCluster v0     answered (no ACL needed, as in Kafka), no topic or group in it,
                         authorized operations 0 (no DESCRIBE on the cluster)
  Metadata v12           by FOREIGN.y's id: UNKNOWN_TOPIC_ID with a null name; all topics:
                         OWN.* only
  OffsetFetch v8         FOREIGN.g: GROUP_AUTHORIZATION_FAILED, no topics; OWN.g with all
                         topics: OWN.y only (not FOREIGN.y, where it also committed)
  FindCoordinator v4     FOREIGN.g: GROUP_AUTHORIZATION_FAILED
  ListGroups v4          OWN.* only; DescribeGroups v5 FOREIGN.g: GROUP_AUTHORIZATION_FAILED
  OffsetDelete v0        FOREIGN.g: GROUP_AUTHORIZATION_FAILED; OWN.g on FOREIGN.y:
                         TOPIC_AUTHORIZATION_FAILED (nothing deleted: the shell test checks)
  DeleteGroups v2        FOREIGN.g: GROUP_AUTHORIZATION_FAILED
  CreateTopics v7        FOREIGN.new: TOPIC_AUTHORIZATION_FAILED

Exits 1 naming the first check that failed.
"""
import sys

from flex_versions import (Conn, TAGS, boolean, carray, cstr, i8, i16, i32, i64, string)


def fail(msg):
    print("tenant_new_apis: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def login(c, user, password):
    """SaslHandshake v1 (PLAIN), then SaslAuthenticate v0: both with request header v1."""
    r = c.call(17, 1, string("PLAIN"), False, "SaslHandshake")
    err = r.i16()
    check(err == 0, "SaslHandshake: error %d" % err)
    token = b"\0" + user.encode() + b"\0" + password.encode()
    r = c.call(36, 0, i32(len(token)) + token, False, "SaslAuthenticate")
    err = r.i16()
    check(err == 0, "SaslAuthenticate as %s: error %d" % (user, err))


def log_dirs(c, foreign):
    for v in range(0, 5):
        flex = v >= 2
        if flex:
            body = carray(None) + TAGS
        else:
            body = i32(-1)
        r = c.call(35, v, body, flex, "DescribeLogDirs")
        r.i32()
        if v >= 3:
            err = r.i16()
            check(err == 31, "DescribeLogDirs v%d: error %d, expected CLUSTER_AUTHORIZATION_"
                  "FAILED (31)" % (v, err))
        n = r.uvarint() - 1 if flex else r.i32()
        check(n == 0, "DescribeLogDirs v%d: %d directories for a tenant user" % (v, n))
        if flex:
            r.tags()
        r.done()
    # Named foreign topic too.
    body = carray([cstr(foreign + ".y") + carray([i32(0)]) + TAGS]) + TAGS
    r = c.call(35, 4, body, True, "DescribeLogDirs")
    check(foreign.encode() not in r.d, "DescribeLogDirs v4 named %s.y: the answer names it" %
          foreign)
    print("tenant_new_apis: DescribeLogDirs v0-4 refused (no directory, v3+ error 31)")


def describe_cluster(c, foreign):
    r = c.call(60, 0, boolean(True) + TAGS, True, "DescribeCluster")
    r.i32()
    err = r.i16()
    check(err == 0, "DescribeCluster: error %d" % err)
    check(foreign.encode() not in r.d, "DescribeCluster names %s" % foreign)
    r.cstr(), r.cstr(), r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    ops = r.i32()
    r.tags()
    r.done()
    # As Kafka: without DESCRIBE on the cluster the operations are 0, though the tenant
    # may IDEMPOTENT_WRITE there.
    check(ops == 0, "DescribeCluster: authorized operations %#x for a user who may not "
          "DESCRIBE the cluster, expected 0" % ops)
    print("tenant_new_apis: DescribeCluster v0 answered (operations 0), nothing of %s in it" %
          foreign)


def metadata(c, own, foreign, foreign_id):
    body = carray([foreign_id + cstr(None) + TAGS]) + boolean(False) + boolean(False) + TAGS
    r = c.call(3, 12, body, True, "Metadata")
    r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    r.cstr()
    r.i32()
    part = (lambda r: (r.i16(), r.i32(), r.i32(), r.i32(), r.carray(lambda r: r.i32()),
                       r.carray(lambda r: r.i32()), r.carray(lambda r: r.i32()), r.tags()))
    topic = (lambda r: (r.i16(), r.cstr(), r.uuid(), r.bool(), r.carray(part), r.i32(),
                        r.tags()))
    topics = r.carray(topic)
    r.tags()
    r.done()
    check(len(topics) == 1 and topics[0][0] == 100 and topics[0][1] is None and
          topics[0][4] == [], "Metadata v12 by %s.y's id: %r, expected UNKNOWN_TOPIC_ID (100) "
          "with no name and no partitions" % (foreign, topics[0][:2]))
    r = c.call(3, 12, carray(None) + boolean(False) + boolean(False) + TAGS, True, "Metadata")
    check(foreign.encode() not in r.d, "Metadata v12 (all topics) names %s.*" % foreign)
    check((own + ".y").encode() in r.d, "Metadata v12 (all topics) lacks %s.y" % own)
    print("tenant_new_apis: Metadata v12 by id and all: nothing of %s" % foreign)


def offset_fetch(c, own, foreign):
    g1 = cstr(own + ".g") + carray(None) + TAGS
    g2 = cstr(foreign + ".g") + carray(None) + TAGS
    r = c.call(9, 8, carray([g1, g2]) + boolean(False) + TAGS, True, "OffsetFetch")
    r.i32()

    def part(r):
        p = (r.i32(), r.i64(), r.i32(), r.cstr(), r.i16())
        r.tags()
        return p
    groups = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.cstr(), r.carray(part),
                                                               r.tags())), r.i16(), r.tags()))
    r.tags()
    r.done()
    check([g[0] for g in groups] == [own + ".g", foreign + ".g"], "OffsetFetch v8 groups %r" %
          [g[0] for g in groups])
    mine, theirs = groups
    check(mine[2] == 0 and [t[0] for t in mine[1]] == [own + ".y"],
          "OffsetFetch v8 %s.g (all topics): error %d, topics %r; expected %s.y only" %
          (own, mine[2], [t[0] for t in mine[1]], own))
    check(theirs[2] == 30 and theirs[1] == [], "OffsetFetch v8 %s.g: error %d with %d topics, "
          "expected GROUP_AUTHORIZATION_FAILED (30) and none" % (foreign, theirs[2],
                                                                 len(theirs[1])))
    print("tenant_new_apis: OffsetFetch v8 shows %s.g's own topics only, refuses %s.g" %
          (own, foreign))


def find_coordinator(c, own, foreign):
    body = i8(0) + carray([cstr(own + ".g"), cstr(foreign + ".g")]) + TAGS
    r = c.call(10, 4, body, True, "FindCoordinator")
    r.i32()
    coords = r.carray(lambda r: (r.cstr(), r.i32(), r.cstr(), r.i32(), r.i16(), r.cstr(),
                                 r.tags()))
    r.tags()
    r.done()
    check(coords[0][4] == 0 and coords[1][4] == 30 and coords[1][1] == -1,
          "FindCoordinator v4: %r, expected 0 for %s.g and 30 for %s.g" % (coords, own, foreign))
    print("tenant_new_apis: FindCoordinator v4 refuses %s.g" % foreign)


def groups(c, own, foreign):
    r = c.call(16, 4, carray([]) + TAGS, True, "ListGroups")
    r.i32()
    check(r.i16() == 0, "ListGroups v4 error")
    listed = r.carray(lambda r: (r.cstr(), r.cstr(), r.cstr(), r.tags()))
    r.tags()
    r.done()
    names = [g[0] for g in listed]
    check(own + ".g" in names and not any(n.startswith(foreign + ".") for n in names),
          "ListGroups v4 as a %s user: %r" % (own, names))
    r = c.call(15, 5, carray([cstr(foreign + ".g")]) + boolean(False) + TAGS, True,
               "DescribeGroups")
    r.i32()
    described = r.carray(lambda r: (r.i16(), r.cstr(), r.cstr(), r.cstr(), r.cstr(),
                                    r.carray(lambda r: None), r.i32(), r.tags()))
    r.tags()
    r.done()
    check(described[0][0] == 30 and described[0][2] == "",
          "DescribeGroups v5 %s.g: %r, expected GROUP_AUTHORIZATION_FAILED (30)" %
          (foreign, described[0][:3]))
    r = c.call(42, 2, carray([cstr(foreign + ".g")]) + TAGS, True, "DeleteGroups")
    r.i32()
    res = r.carray(lambda r: (r.cstr(), r.i16(), r.tags()))
    check(res[0][1] == 30, "DeleteGroups v2 %s.g: error %d, expected 30" % (foreign, res[0][1]))
    print("tenant_new_apis: ListGroups v4, DescribeGroups v5, DeleteGroups v2 keep to %s" % own)


def offset_delete(c, own, foreign):
    def ask(group, topic):
        body = string(group) + i32(1) + string(topic) + i32(1) + i32(0)
        r = c.call(47, 0, body, False, "OffsetDelete")
        err = r.i16()
        r.i32()
        topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
        r.done()
        return err, topics
    err, topics = ask(foreign + ".g", foreign + ".y")
    check(err == 30 and topics == [], "OffsetDelete %s.g: error %d, topics %r; expected "
          "GROUP_AUTHORIZATION_FAILED (30) and none" % (foreign, err, topics))
    err, topics = ask(own + ".g", foreign + ".y")
    check(err == 0 and topics == [(foreign + ".y", [(0, 29)])],
          "OffsetDelete %s.g on %s.y: error %d, %r; expected TOPIC_AUTHORIZATION_FAILED (29) "
          "for the partition" % (own, foreign, err, topics))
    print("tenant_new_apis: OffsetDelete refuses %s.g, and %s.y in %s.g" % (foreign, foreign, own))


def create_topics(c, foreign):
    t = cstr(foreign + ".new") + i32(1) + i16(1) + carray([]) + carray([]) + TAGS
    r = c.call(19, 7, carray([t]) + i32(10000) + boolean(False) + TAGS, True, "CreateTopics")
    r.i32()
    check(r.uvarint() == 2, "CreateTopics v7: one topic expected")
    name, _, err = r.cstr(), r.uuid(), r.i16()
    check(err == 29, "CreateTopics v7 %s: error %d, expected 29" % (name, err))
    print("tenant_new_apis: CreateTopics v7 refuses %s.new" % foreign)


def seed(bootstrap, a, b):
    c = Conn(bootstrap)
    for group, topics in ((a + ".g", (a + ".y", b + ".y")), (b + ".g", (b + ".y", a + ".y"))):
        parts = lambda: carray([i32(0) + i64(1) + i32(-1) + cstr(None) + TAGS])
        body = cstr(group) + i32(-1) + cstr("") + cstr(None)
        body += carray([cstr(t) + parts() + TAGS for t in topics]) + TAGS
        r = c.call(8, 8, body, True, "OffsetCommit")
        r.i32()
        res = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.i32(), r.i16(), r.tags())),
                                  r.tags()))
        check(all(p[1] == 0 for t in res for p in t[1]), "seed: OffsetCommit %s: %r" %
              (group, res))
    body = carray([b"\0" * 16 + cstr(b + ".y") + TAGS]) + boolean(False) + boolean(False) + TAGS
    r = c.call(3, 12, body, True, "Metadata")
    r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    r.cstr()
    r.i32()
    check(r.uvarint() == 2, "seed: Metadata: one topic expected")
    err, name, tid = r.i16(), r.cstr(), r.uuid()
    check(err == 0 and name == b + ".y", "seed: Metadata %s.y: error %d" % (b, err))
    print(tid.hex())


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "seed":
        seed(*sys.argv[2:])
        return
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    bootstrap, user, password, own, foreign, foreign_id = sys.argv[1:]
    c = Conn(bootstrap)
    login(c, user, password)
    log_dirs(c, foreign)
    describe_cluster(c, foreign)
    metadata(c, own, foreign, bytes.fromhex(foreign_id.replace("-", "")))
    offset_fetch(c, own, foreign)
    find_coordinator(c, own, foreign)
    groups(c, own, foreign)
    offset_delete(c, own, foreign)
    create_topics(c, foreign)
    print("tenant_new_apis: %s (tenant %s*) learned and changed nothing of %s*" %
          (user, own, foreign))


if __name__ == "__main__":
    main()
