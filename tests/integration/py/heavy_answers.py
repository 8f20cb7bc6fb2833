#!/usr/bin/python3
"""
heavy_answers.py BOOTSTRAP CASE: requests a few hundred KB long whose answers, or the
work to find them, grew without bound on the broker's one event loop (found reviewing
issue 15's flexible versions). Each case sets up what it needs, sends the request on a
plain socket (the wire code of flex_versions.py) and checks the answer's size from its
size prefix before reading it, so a broker that still amplifies fails fast:

  metadata-ids      Metadata v12 naming 1,000,000 topic ids (18 MB) against 1,000 topics.
                    Each id was looked for by scanning every topic (300,000 ids against
                    3,000 topics, 9 x 10^8 compares, held the loop 28 s); the answer must
                    come within 3 s.
  offset-fetch-groups  OffsetFetch v8 naming one group (200 committed offsets, 100-byte
                    metadata each) 5,000 times with all its topics: each repeat was
                    answered in full, 24 KB each (120 MB for a 20 KB request). The repeats
                    now get INVALID_REQUEST (42) and the answer stays under 16 bytes per
                    request byte.
  offset-fetch-partitions  OffsetFetch v7 naming one committed partition (4,000 bytes of
                    metadata) 50,000 times: 4 KB answered per 4 request bytes (200 MB).
                    Repeats now get INVALID_REQUEST without the metadata.
  describe-groups   DescribeGroups v5 naming a Stable group whose member offered 100 KB of
                    metadata, 2,000 times: each repeat described in full (200 MB for a
                    6 KB request). Repeats now get INVALID_REQUEST.
  offset-delete-subscribed  OffsetDelete naming 40,000 topics to a Stable consumer group
                    whose member subscribes to 40,000 topics: each named topic was looked
                    for by reading every member's whole subscription (1.6 x 10^9 compares
                    on the loop, tens of seconds); the answer must come within 3 s, each
                    subscribed topic GROUP_SUBSCRIBED_TO_TOPIC (86), the rest unknown (3).
  metadata-repeats  Metadata v12 naming one 100-partition topic 2,000 times by name and
                    2,000 times by id (88 KB): each repeat was answered with every
                    partition (2.7 KB each, 10 MB; a 1,000-partition topic, 104 MB; 100
                    keeps the broker's stop short under the sanitizers). Kafka answers each topic once; straitd
                    answers each name and each id once: two entries, the answer under 16
                    bytes per request byte.
  offset-delete-repeats  OffsetDelete naming one committed partition 50,000 times (a
                    250-character group id, a 249-character topic): a tombstone was written to
                    __consumer_offsets per mention (about 27 MB of log for a 200 KB
                    request). Kafka writes one; __consumer_offsets (its size by
                    DescribeLogDirs v4) must grow by less than 64 KB, and every mention is
                    answered 0.
  list-groups-states  ListGroups v4 with a states filter of 500,000 names (3 MB) against
                    2,000 groups: each group's state was compared with every name, twice
                    (2 x 10^9 compares on the loop); the answer must come within 3 s and
                    list the 2,000 Empty groups once each.

  txn-admin-lists  DescribeTransactions naming 10,001 empty transactional ids (10 KB):
                    each cost ~100 bytes of memory and ~28 bytes of answer per request
                    byte (a 100 MiB request: gigabytes). The request is refused and the
                    connection closed; 10,000 are still answered, and so is the next
                    connection. ListTransactions with 10,001 state filters: the same.

Exits 1 naming what failed; prints each case's request and answer sizes and time.
"""
import struct
import sys
import time

from flex_versions import (Conn, Reader, TAGS, array, boolean, carray, cbytes, cstr, i16, i32,
                           i64, string, sync, uvarint)


def check(cond, msg):
    if not cond:
        print("heavy_answers: FAIL: " + msg, file=sys.stderr)
        sys.exit(1)

RATIO = 16  # answer bytes allowed per request byte


def send(c, key, version, body):
    """Sends a flexible request; returns (answer size, seconds) from the size prefix."""
    c.cid += 1
    frame = i16(key) + i16(version) + i32(c.cid) + string("heavy-answers") + TAGS + body
    t0 = time.monotonic()
    c.s.sendall(i32(len(frame)) + frame)
    size = struct.unpack(">i", c.recv(4, "answer size"))[0]
    return size, time.monotonic() - t0


def read_rest(c, size, what):
    r = Reader(c.recv(size, what), what)
    check(r.i32() == c.cid, "%s: correlation id" % what)
    r.tags()
    return r


def bounded(c, what, key, version, body):
    size, secs = send(c, key, version, body)
    print("heavy_answers: %s: %d-byte request, %d-byte answer in %.2f s" %
          (what, len(body), size, secs))
    check(size <= RATIO * len(body), "%s: a %d-byte answer to a %d-byte request (more than %d "
          "times: repeats are answered in full)" % (what, size, len(body), RATIO))
    return read_rest(c, size, what)


def create_topics(c, names, partitions=1):
    def entry(r):
        name, _, err = r.cstr(), r.uuid(), r.i16()
        r.cstr(), r.i32(), r.i16()
        r.carray(lambda r: (r.cstr(), r.cstr(), r.bool(), r.i8(), r.bool(), r.tags()))
        r.tags()
        return name, err
    for at in range(0, len(names), 500):
        batch = [cstr(n) + i32(partitions) + i16(1) + carray([]) + carray([]) + TAGS
                 for n in names[at:at + 500]]
        r = c.call(19, 7, carray(batch) + i32(60000) + boolean(False) + TAGS, True,
                   "CreateTopics")
        r.i32()
        for name, err in r.carray(entry):
            check(err in (0, 36), "CreateTopics %s: error %d" % (name, err))


def commit(c, group, topic, partitions, metadata):
    parts = [i32(p) + i64(5) + i32(-1) + cstr(metadata) + TAGS for p in partitions]
    body = cstr(group) + i32(-1) + cstr("") + cstr(None)
    body += carray([cstr(topic) + carray(parts) + TAGS]) + TAGS
    r = c.call(8, 8, body, True, "OffsetCommit")
    r.i32()
    res = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.i32(), r.i16(), r.tags())),
                              r.tags()))
    check(all(p[1] == 0 for p in res[0][1]), "OffsetCommit: %r" % (res[0][1][:3],))


def metadata_ids(c):
    ntopics, nids = 1000, 1000000
    create_topics(c, ["ids-%05d" % i for i in range(ntopics)])
    body = uvarint(nids + 1) + (b"\x42" * 16 + cstr(None) + TAGS) * nids
    body += boolean(False) + boolean(False) + TAGS
    size, secs = send(c, 3, 12, body)
    print("heavy_answers: metadata-ids: %d ids against %d topics answered in %.2f s" %
          (nids, ntopics, secs))
    check(secs < 3.0, "metadata-ids: %.1f s to answer %d topic ids (each looked for among "
          "every topic?)" % (secs, nids))
    c.recv(size, "metadata-ids")


def offset_fetch_groups(c):
    create_topics(c, ["fetch-groups"], partitions=200)
    commit(c, "heavy-g", "fetch-groups", range(200), "m" * 100)
    n = 5000
    body = uvarint(n + 1) + (cstr("heavy-g") + carray(None) + TAGS) * n + boolean(False) + TAGS
    r = bounded(c, "offset-fetch-groups", 9, 8, body)
    r.i32()  # throttle

    def part(r):
        p = (r.i32(), r.i64(), r.i32(), r.cstr(), r.i16())
        r.tags()
        return p
    groups = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.cstr(), r.carray(part),
                                                               r.tags())), r.i16(), r.tags()))
    r.tags()
    r.done()
    check(len(groups) == n, "offset-fetch-groups: %d groups answered, expected %d" %
          (len(groups), n))
    first = groups[0]
    check(first[2] == 0 and len(first[1]) == 1 and len(first[1][0][1]) == 200,
          "offset-fetch-groups: the first mention is not answered in full: error %d" % first[2])
    refused = [g for g in groups[1:] if g[2] == 42 and g[1] == []]
    check(len(refused) == n - 1, "offset-fetch-groups: %d of %d repeats refused with "
          "INVALID_REQUEST" % (len(refused), n - 1))


def offset_fetch_partitions(c):
    create_topics(c, ["fetch-parts"])
    commit(c, "heavy-p", "fetch-parts", [0], "x" * 4000)
    n = 50000
    body = cstr("heavy-p") + carray([cstr("fetch-parts") + carray([i32(0)] * n) + TAGS])
    body += boolean(False) + TAGS
    r = bounded(c, "offset-fetch-partitions", 9, 7, body)
    r.i32()  # throttle

    def part(r):
        p = (r.i32(), r.i64(), r.i32(), r.cstr(), r.i16())
        r.tags()
        return p
    topics = r.carray(lambda r: (r.cstr(), r.carray(part), r.tags()))
    check(r.i16() == 0, "offset-fetch-partitions: group error")
    r.tags()
    r.done()
    parts = topics[0][1]
    check(parts[0][1] == 5 and len(parts[0][3]) == 4000 and parts[0][4] == 0,
          "offset-fetch-partitions: the first mention is not answered with its offset")
    refused = [p for p in parts[1:] if p[4] == 42 and p[3] == "" and p[1] == -1]
    check(len(refused) == n - 1, "offset-fetch-partitions: %d of %d repeats refused with "
          "INVALID_REQUEST" % (len(refused), n - 1))


def describe_groups(c):
    create_topics(c, ["describe-big"])
    topic = "describe-big"
    big = i16(0) + array([string(topic)]) + i32(100 * 1024) + b"u" * (100 * 1024)
    protos = carray([cstr("range") + cbytes(big) + TAGS])
    body = cstr("heavy-d") + i32(30000) + i32(30000) + cstr("") + cstr("heavy-inst")
    body += cstr("consumer") + protos + cstr(None) + TAGS
    r = c.call(11, 9, body, True, "JoinGroup")
    r.i32()
    err, gen = r.i16(), r.i32()
    r.cstr(), r.cstr(), r.cstr(), r.bool()
    me = r.cstr()
    check(err == 0, "describe-groups: JoinGroup error %d" % err)
    err, _ = sync(c, "heavy-d", gen, me, "heavy-inst", [(me, b"")])
    check(err == 0, "describe-groups: SyncGroup error %d" % err)
    n = 2000
    body = uvarint(n + 1) + cstr("heavy-d") * n + boolean(False) + TAGS
    r = bounded(c, "describe-groups", 15, 5, body)
    r.i32()
    groups = r.carray(lambda r: (r.i16(), r.cstr(), r.cstr(), r.cstr(), r.cstr(),
                                 r.carray(lambda r: (r.cstr(), r.cstr(), r.cstr(), r.cstr(),
                                                     r.cbytes(), r.cbytes(), r.tags())),
                                 r.i32(), r.tags()))
    r.tags()
    r.done()
    check(groups[0][0] == 0 and groups[0][2] == "Stable" and len(groups[0][5]) == 1 and
          len(groups[0][5][0][4]) == len(big), "describe-groups: the first mention is not the "
          "Stable group with its member's metadata: %r" % (groups[0][:3],))
    refused = [g for g in groups[1:] if g[0] == 42 and g[5] == []]
    check(len(refused) == n - 1, "describe-groups: %d of %d repeats refused with "
          "INVALID_REQUEST" % (len(refused), n - 1))


def offset_delete_subscribed(c):
    n = 40000
    subscribed = ["sub-%06d" % i for i in range(n)]
    meta = i16(0) + array([string(t) for t in subscribed]) + i32(-1)
    protos = carray([cstr("range") + cbytes(meta) + TAGS])
    body = cstr("heavy-od") + i32(30000) + i32(30000) + cstr("") + cstr("heavy-od-inst")
    body += cstr("consumer") + protos + cstr(None) + TAGS
    r = c.call(11, 9, body, True, "JoinGroup")
    r.i32()
    err, gen = r.i16(), r.i32()
    r.cstr(), r.cstr(), r.cstr(), r.bool()
    me = r.cstr()
    check(err == 0, "offset-delete-subscribed: JoinGroup error %d" % err)
    err, _ = sync(c, "heavy-od", gen, me, "heavy-od-inst", [(me, b"")])
    check(err == 0, "offset-delete-subscribed: SyncGroup error %d" % err)
    # Every other name is one the member subscribes to (in reverse order), the rest not.
    asked = [subscribed[n - 1 - i] if i % 2 == 0 else "not-%06d" % i for i in range(n)]
    body = string("heavy-od") + array([string(t) + array([i32(0)]) for t in asked])
    c.cid += 1
    frame = i16(47) + i16(0) + i32(c.cid) + string("heavy-answers") + body
    t0 = time.monotonic()
    c.s.sendall(i32(len(frame)) + frame)
    size = struct.unpack(">i", c.recv(4, "offset-delete-subscribed"))[0]
    secs = time.monotonic() - t0
    print("heavy_answers: offset-delete-subscribed: %d topics against a %d-topic "
          "subscription answered in %.2f s" % (n, n, secs))
    check(secs < 3.0, "offset-delete-subscribed: %.1f s to answer (each topic looked for in "
          "every member's whole subscription?)" % secs)
    r = Reader(c.recv(size, "offset-delete-subscribed"), "OffsetDelete v0")
    check(r.i32() == c.cid, "offset-delete-subscribed: correlation id")
    check(r.i16() == 0, "offset-delete-subscribed: group error")
    r.i32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
    r.done()
    check([t[0] for t in topics] == asked, "offset-delete-subscribed: the answer's topics "
          "are not the request's, in order")
    want = [86 if i % 2 == 0 else 3 for i in range(n)]
    got = [t[1][0][1] if len(t[1]) == 1 else None for t in topics]
    bad = [(asked[i], got[i], want[i]) for i in range(n) if got[i] != want[i]]
    check(not bad, "offset-delete-subscribed: %d topics with the wrong error (topic, got, "
          "expected): %r" % (len(bad), bad[:3]))


def metadata_repeats(c):
    create_topics(c, ["repeated"], partitions=100)
    body = carray([b"\0" * 16 + cstr("repeated") + TAGS])
    r = c.call(3, 12, body + boolean(False) + boolean(False) + TAGS, True, "Metadata")
    r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    r.cstr(), r.i32()
    tid = r.carray(lambda r: (r.i16(), r.cstr(), r.uuid()))[0][2]
    n = 2000
    entries = [b"\0" * 16 + cstr("repeated") + TAGS] * n + [tid + cstr(None) + TAGS] * n
    body = uvarint(len(entries) + 1) + b"".join(entries) + boolean(False) + boolean(False)
    r = bounded(c, "metadata-repeats", 3, 12, body + TAGS)
    r.i32()
    r.carray(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
    r.cstr(), r.i32()

    def partition(r):
        p = (r.i16(), r.i32(), r.i32(), r.i32(), r.carray(lambda r: r.i32()),
             r.carray(lambda r: r.i32()), r.carray(lambda r: r.i32()))
        r.tags()
        return p
    topics = r.carray(lambda r: (r.i16(), r.cstr(), r.uuid(), r.bool(), r.carray(partition),
                                 r.i32(), r.tags()))
    r.tags()
    r.done()
    check(len(topics) == 2 and all(t[0] == 0 and t[1] == "repeated" and t[2] == tid and
                                   len(t[4]) == 100 for t in topics),
          "metadata-repeats: expected two entries (by name, by id) for the topic with its "
          "100 partitions, got %d: %r" % (len(topics), [t[:3] for t in topics[:3]]))


def offsets_log_bytes(c):
    """The bytes of __consumer_offsets' partitions, by DescribeLogDirs v4 (all topics)."""
    r = c.call(35, 4, uvarint(0) + TAGS, True, "DescribeLogDirs")
    r.i32()
    check(r.i16() == 0, "DescribeLogDirs v4: error")
    part = lambda r: (r.i32(), r.i64(), r.i64(), r.bool(), r.tags())[1]
    dirs = r.carray(lambda r: (r.i16(), r.cstr(),
                               r.carray(lambda r: (r.cstr(), r.carray(part), r.tags())),
                               r.i64(), r.i64(), r.tags()))
    r.tags()
    r.done()
    return sum(sum(sizes) for d in dirs for name, sizes, _ in d[2] if name == "__consumer_offsets")


def offset_delete_repeats(c):
    group, topic = "g" * 250, "t" * 249
    create_topics(c, [topic])
    commit(c, group, topic, [0], "")
    before = offsets_log_bytes(c)
    n = 50000
    body = string(group) + array([string(topic) + array([i32(0)] * n)])
    r = c.call(47, 0, body, False, "OffsetDelete")
    check(r.i16() == 0, "offset-delete-repeats: group error")
    r.i32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
    r.done()
    check(len(topics) == 1 and len(topics[0][1]) == n and
          all(p == (0, 0) for p in topics[0][1]),
          "offset-delete-repeats: expected %d partitions answered (0, 0), got %d: %r" %
          (n, len(topics[0][1]) if topics else 0, sorted(set(topics[0][1]))[:3] if topics else []))
    grown = offsets_log_bytes(c) - before
    print("heavy_answers: offset-delete-repeats: __consumer_offsets grew %d bytes for %d "
          "mentions" % (grown, n))
    check(grown < 64 * 1024, "offset-delete-repeats: __consumer_offsets grew %d bytes (a "
          "tombstone per mention?)" % grown)
    r = c.call(9, 8, carray([cstr(group) + carray(None) + TAGS]) + boolean(False) + TAGS, True,
               "OffsetFetch")
    r.i32()
    groups = r.carray(lambda r: (r.cstr(), r.carray(lambda r: (r.cstr(), r.carray(
        lambda r: (r.i32(), r.i64(), r.i32(), r.cstr(), r.i16(), r.tags())), r.tags())),
        r.i16(), r.tags()))
    check(groups[0][2] == 0 and groups[0][1] == [], "offset-delete-repeats: the offset is still "
          "committed: %r" % (groups[0][1][:1],))


def list_groups_states(c):
    ngroups, nstates = 2000, 500000
    create_topics(c, ["list-states"])
    # The groups, by pipelined OffsetCommit v8 (one group each): Empty, with an offset.
    frames = b""
    for i in range(ngroups):
        c.cid += 1
        body = cstr("ls-%05d" % i) + i32(-1) + cstr("") + cstr(None)
        body += carray([cstr("list-states") + carray([i32(0) + i64(1) + i32(-1) + cstr("") +
                                                       TAGS]) + TAGS]) + TAGS
        frame = i16(8) + i16(8) + i32(c.cid) + string("heavy-answers") + TAGS + body
        frames += i32(len(frame)) + frame
    c.s.sendall(frames)
    for i in range(ngroups):
        size = struct.unpack(">i", c.recv(4, "OffsetCommit"))[0]
        c.recv(size, "OffsetCommit")
    # No name but the last is a state; each as long as "Empty" so each compare reads it.
    states = ["Emptx"] * (nstates - 1) + ["Empty"]
    body = carray([cstr(s) for s in states]) + TAGS
    size, secs = send(c, 16, 4, body)
    print("heavy_answers: list-groups-states: %d states against %d groups answered in %.2f s" %
          (nstates, ngroups, secs))
    check(secs < 3.0, "list-groups-states: %.1f s to answer (each group's state compared with "
          "every name of the filter?)" % secs)
    r = read_rest(c, size, "list-groups-states")
    r.i32()
    check(r.i16() == 0, "list-groups-states: error")
    listed = r.carray(lambda r: (r.cstr(), r.cstr(), r.cstr(), r.tags()))
    r.tags()
    r.done()
    mine = sorted(x[0] for x in listed if x[0].startswith("ls-"))
    check(mine == ["ls-%05d" % i for i in range(ngroups)] and
          all(x[2] == "Empty" for x in listed),
          "list-groups-states: %d of %d groups listed (states %r)" %
          (len(mine), ngroups, sorted(set(x[2] for x in listed))))


def txn_admin_lists(c):
    def closed(body, key, what):
        c2 = Conn(c.bootstrap)
        c2.cid += 1
        frame = i16(key) + i16(0) + i32(c2.cid) + string("heavy-answers") + TAGS + body
        c2.s.sendall(i32(len(frame)) + frame)
        try:
            got = c2.s.recv(4)
        except ConnectionResetError:
            got = b""
        check(got == b"", "%s: answered (%r...) instead of refused" % (what, got))
        print("heavy_answers: txn-admin-lists: %s: connection closed" % what)
    closed(carray([cstr("")] * 10001) + TAGS, 65, "DescribeTransactions of 10,001 ids")
    closed(carray([cstr("")] * 10001) + carray([]) + TAGS, 66,
           "ListTransactions of 10,001 state filters")
    # at the limit: answered, each id unknown (105)
    size, secs = send(c, 65, 0, carray([cstr("")] * 10000) + TAGS)
    r = read_rest(c, size, "DescribeTransactions of 10,000 ids")
    r.i32()
    got = r.carray(lambda r: (r.i16(), r.cstr(), r.cstr(), r.i32(), r.i64(), r.i64(), r.i16(),
                              r.carray(lambda r: (r.cstr(), r.carray(lambda r: r.i32()),
                                                  r.tags())), r.tags())[0])
    r.tags()
    r.done()
    check(got == [105] * 10000, "DescribeTransactions of 10,000 ids: %d answered, errors %r" %
          (len(got), sorted(set(got))))
    print("heavy_answers: txn-admin-lists: 10,000 ids answered, %d bytes" % size)


CASES = {"txn-admin-lists": txn_admin_lists, "metadata-ids": metadata_ids, "offset-fetch-groups": offset_fetch_groups,
         "offset-fetch-partitions": offset_fetch_partitions, "describe-groups": describe_groups,
         "offset-delete-subscribed": offset_delete_subscribed,
         "list-groups-states": list_groups_states, "metadata-repeats": metadata_repeats,
         "offset-delete-repeats": offset_delete_repeats}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.exit("usage: heavy_answers.py BOOTSTRAP (%s)" % " | ".join(CASES))
    c = Conn(sys.argv[1])
    c.s.settimeout(120)
    CASES[sys.argv[2]](c)
    print("heavy_answers: %s ok" % sys.argv[2])


if __name__ == "__main__":
    main()
