#!/usr/bin/python3
"""
offset_fetch_stable.py HOST:PORT GROUP TOPIC REQUIRE_STABLE: one OffsetFetch v7 (KIP-447)
for GROUP's committed offset of TOPIC partition 0, with require_stable 0 or 1; prints
"<error_code> <committed_offset>" of that partition.

No client here sends require_stable where its answer can be read (librdkafka 2.0.2 sets
it for read_committed consumers and retries UNSTABLE_OFFSET_COMMIT quietly), so this
speaks the wire itself, from Kafka's OffsetFetchRequest/Response definitions (v7 is
flexible: request header v2, compact strings and arrays, tagged fields). Exits 1 when
the answer does not parse or has bytes left over.
"""
import socket
import struct
import sys


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def cstr(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            sys.exit("offset_fetch_stable: the answer is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, fmt):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(fmt)))[0]

    def uvarint(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7

    def cstr(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            sys.exit("offset_fetch_stable: the broker closed the connection")
        buf += chunk
    return buf


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    group, topic, stable = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    body = cstr(group)
    body += uvarint(2) + cstr(topic) + uvarint(2) + struct.pack(">i", 0) + uvarint(0)
    body += bytes([1 if stable else 0]) + uvarint(0)
    # request header v2: key 9, version 7, correlation id, client id, tagged fields
    head = struct.pack(">hhih", 9, 7, 42, 6) + b"stable" + uvarint(0)
    frame = head + body
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        r = Reader(recv_exact(s, size))
    if r.int("i") != 42:
        sys.exit("offset_fetch_stable: wrong correlation id")
    r.tags()  # response header v1
    r.int("i")  # throttle_time_ms
    found = None
    for _ in range(r.uvarint() - 1):
        name = r.cstr()
        for _ in range(r.uvarint() - 1):
            partition, offset = r.int("i"), r.int("q")
            r.int("i")  # committed_leader_epoch
            r.cstr()  # metadata
            error = r.int("h")
            r.tags()
            if name == topic and partition == 0:
                found = (error, offset)
        r.tags()
    r.int("h")  # the group's error code
    r.tags()
    if r.pos != len(r.data):
        sys.exit("offset_fetch_stable: bytes left over in the answer")
    if found is None:
        sys.exit("offset_fetch_stable: no answer for %s [0]" % topic)
    print("%d %d" % found)


main()
