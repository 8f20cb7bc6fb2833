#!/usr/bin/python3
"""
heavy_answers.py BOOTSTRAP CASE: requests a few hundred KB long whose answers, or the
work to find them, grew without bound on the broker's one event loop (found reviewing
issue 15's flexible versions). Each case sets up what it needs, sends the request on a
plain socket (the wire code of flex_versions.py) and checks the answer's size from its
size prefix before reading it, so a broker that still amplifies fails fast:

  metadata-ids      Metadata v12 naming 300,000 topic ids (5.4 MB) against 3,000 topics.
                    Each id was looked for by scanning every topic (9 x 10^8 compares held
                    the loop 28 s); the answer must come within 3 s.

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
    ntopics, nids = 3000, 300000
    create_topics(c, ["ids-%05d" % i for i in range(ntopics)])
    body = uvarint(nids + 1) + (b"\x42" * 16 + cstr(None) + TAGS) * nids
    body += boolean(False) + boolean(False) + TAGS
    size, secs = send(c, 3, 12, body)
    print("heavy_answers: metadata-ids: %d ids against %d topics answered in %.2f s" %
          (nids, ntopics, secs))
    check(secs < 3.0, "metadata-ids: %.1f s to answer %d topic ids (each looked for among "
          "every topic?)" % (secs, nids))
    c.recv(size, "metadata-ids")


CASES = {"metadata-ids": metadata_ids}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.exit("usage: heavy_answers.py BOOTSTRAP (%s)" % " | ".join(CASES))
    c = Conn(sys.argv[1])
    c.s.settimeout(120)
    CASES[sys.argv[2]](c)
    print("heavy_answers: %s ok" % sys.argv[2])


if __name__ == "__main__":
    main()
