#!/usr/bin/python3
"""Hostile clients against a running strait-console (tests/ui/hostile.sh starts it).

A small websocket client on the standard library (RFC 6455 framing, masked client
frames) and plain HTTP, playing an outsider, a logged-in tenant user and a greedy admin.
Each check is a function named on the command line; it prints what it measured and
exits non-zero with the reason when the console does not hold.

Usage: console_hostile.py URL CHECK...   (environment: see hostile.sh)
"""
import base64
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

URL = sys.argv[1]
HOST = urllib.parse.urlparse(URL).hostname
PORT = urllib.parse.urlparse(URL).port
ENV = os.environ


def log(*args):
    print("[hostile]", *args, flush=True)


def fail(why):
    print("[hostile] FAIL:", why, file=sys.stderr, flush=True)
    sys.exit(1)


# ---- HTTP ----

def http_req(method, path, body=None, headers=None, source=None, timeout=30):
    """(status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def login(user, password, source=None):
    """The session cookie value, or fails."""
    status, hdrs, body = http_req("POST", "/login", json.dumps({"user": user, "password": password}),
                              {"Origin": URL, "Content-Type": "application/json"}, source)
    if status != 200:
        fail(f"login as {user}: HTTP {status} {body[:200]!r}")
    cookie = hdrs.get("set-cookie", "")
    if not cookie.startswith("strait_session="):
        fail(f"login as {user}: no session cookie ({cookie!r})")
    return cookie.split(";")[0].split("=", 1)[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail(f"no VmRSS for pid {pid}")


# ---- websocket ----

class WS:
    """One websocket to the console: connect() → 101 or the refusal's status."""

    def __init__(self, session=None, origin=URL, timeout=10):
        self.sock = socket.create_connection((HOST, PORT), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET /ws HTTP/1.1", f"Host: {HOST}:{PORT}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Protocol: strait-console"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if session:
            lines.append(f"Cookie: strait_session={session}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        first = head.split(b"\r\n")[0].decode(errors="replace")
        self.status = int(first.split()[1]) if len(first.split()) > 1 else 0

    def send(self, obj, opcode=1):
        payload = obj if isinstance(obj, bytes) else (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the console closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """(opcode, payload) of the next whole message."""
        data, opcode = b"", None
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            if opcode is None:
                opcode = b0 & 0x0F
            data += payload
            if b0 & 0x80:
                return opcode, data

    def recv_json(self, want=None, seconds=10):
        """The next text message (of type `want`, skipping others) as JSON."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            opcode, data = self.recv()
            if opcode == 8:
                raise EOFError("closed by the console: " + data[2:].decode(errors="replace"))
            if opcode != 1:
                continue
            m = json.loads(data)
            if want is None or m.get("type") == want:
                return m
        fail(f"no {want} message within {seconds} s")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- checks ----

def check_metrics_auth():
    """/metrics names every tenant, topic and group. With no console.metrics_token (the
    default) only an admin or operator session may read it: never an anonymous client
    (anyone who reaches the port, or a web page through DNS rebinding) nor a tenant user."""
    status, _, body = http_req("GET", "/metrics")
    if status == 200:
        fail(f"GET /metrics without credentials answered 200 ({len(body)} bytes, "
             f"another tenant named: {b'globex' in body})")
    tenant = login("acme-viewer", ENV["TENANT_PW"])
    status, _, body = http_req("GET", "/metrics", headers={"Cookie": f"strait_session={tenant}"})
    if status == 200:
        fail("GET /metrics with a tenant user's session answered 200 (another tenant named: "
             f"{b'globex' in body})")
    status, _, _ = http_req("GET", "/metrics", headers={"Authorization": "Bearer "})
    if status == 200:
        fail("GET /metrics with an empty bearer token answered 200")
    operator = login("olga", ENV["OPERATOR_PW"])
    status, _, body = http_req("GET", "/metrics", headers={"Cookie": f"strait_session={operator}"})
    if status != 200 or b"strait_up" not in body:
        fail(f"GET /metrics with an operator's session: HTTP {status}")
    log("/metrics without a metrics_token: 401 anonymous, empty bearer and tenant session; "
        "200 with an operator session")


def check_origin():
    """The websocket's Origin must be exactly this console's: scheme, host and port."""
    s = login("olga", ENV["OPERATOR_PW"])
    other_port = f"http://{HOST}:{PORT + 1 if PORT < 65535 else PORT - 1}"
    cases = {"own": (URL, 101), "none": (None, 403), "null": ("null", 403),
             "other port": (other_port, 403), "https": (URL.replace("http:", "https:"), 403),
             "suffix": (URL + ".evil.example", 403), "prefix": ("http://evil." + URL[7:], 403)}
    for name, (origin, want) in cases.items():
        ws = WS(s, origin)
        ws.close()
        if ws.status != want:
            fail(f"websocket with Origin {origin!r} ({name}): HTTP {ws.status}, expected {want}")
    log("websocket Origin: own 101; none, null, other port, https, suffix, prefix 403")


def check_sockets_per_session():
    """One session cannot hold an unbounded number of websockets."""
    s = login("acme-viewer", ENV["TENANT_PW"])
    cap = int(ENV["WS_PER_SESSION"])
    socks, refused = [], 0
    try:
        for _ in range(cap + 8):
            ws = WS(s)
            if ws.status != 101:
                refused += 1
                ws.close()
                continue
            try:
                ws.recv_json("hello", 5)
                socks.append(ws)
            except EOFError:
                refused += 1
                ws.close()
    finally:
        for ws in socks:
            ws.close()
    if len(socks) > cap:
        fail(f"one session opened {len(socks)} websockets (the cap is {cap})")
    if len(socks) < cap:
        fail(f"one session could open only {len(socks)} websockets, expected {cap}")
    log(f"one session: {len(socks)} websockets open, {refused} more refused")


def check_backpressure():
    """Clients that send requests and never read what comes back are not buffered
    without bound: the console stops reading them instead."""
    pid = int(ENV["CONSOLE_PID"])
    s = login("acme-viewer", ENV["TENANT_PW"])
    nsock = 8
    socks = []
    for _ in range(nsock):
        ws = WS(s)
        if ws.status != 101:
            fail(f"websocket refused: {ws.status}")
        ws.recv_json("hello", 5)
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        socks.append(ws)
    # 64 unknown series of 600 bytes: each answer echoes ~40 KB of names back.
    req = json.dumps({"type": "history", "id": 1,
                      "series": [("topic|dc1/b0|acme.x|" + str(i)).ljust(600, "y") for i in range(64)]})
    rss0 = rss_kib(pid)
    stop = time.time() + float(ENV.get("FLOOD_SECONDS", "10"))
    sent = [0] * nsock

    def flood(i):
        ws = socks[i]
        ws.sock.settimeout(2)
        while time.time() < stop:
            t0 = time.time()
            try:
                for _ in range(90):  # under the 100 messages a second a socket may send
                    ws.send(req)
                    sent[i] += 1
            except (socket.timeout, OSError):
                pass  # the console stopped reading us: what it should do
            time.sleep(max(0.0, 1.0 - (time.time() - t0)))
    threads = [threading.Thread(target=flood, args=(i,)) for i in range(nsock)]
    for t in threads:
        t.start()
    peak = rss0
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kib(pid))
        time.sleep(0.2)
    for t in threads:
        t.join()
    for ws in socks:
        ws.close()
    grew = (peak - rss0) / 1024
    limit = float(ENV.get("RSS_GROWTH_MIB", "64"))
    log(f"{nsock} non-reading sockets sent {sum(sent)} history requests "
        f"(~{sum(sent) * 40 // 1024} MiB of answers asked for): console RSS {rss0 // 1024} MiB -> "
        f"peak {peak // 1024} MiB (+{grew:.0f} MiB, limit {limit:.0f})")
    if grew > limit:
        fail(f"the console grew by {grew:.0f} MiB buffering answers nobody reads")


def check_audit_flood():
    """A tenant's refused actions are audited, but neither a huge "args" or "target" nor a
    flood of refusals goes into the audit log (and the admins' audit view) whole: each
    entry stays small, and past ST_REFUSALS_PER_MINUTE (20) a user's refusals are counted
    instead of written one by one."""
    path = ENV["AUDIT_LOG"]
    s = login("acme-viewer", ENV["TENANT_PW"])
    ws = WS(s)
    ws.recv_json("hello", 5)
    before = os.path.getsize(path)
    n, budget = 40, 20
    pad = "x" * 30000
    for i in range(n):
        ws.send({"type": "action", "id": i, "action": "topics.create",
                 "target": "dc1/b0" if i % 2 else "dc1/" + pad,
                 "args": {"name": "acme.t", "pad": pad}})
    for i in range(n):
        m = ws.recv_json("result", 10)
        if m.get("ok") or "for role tenant" not in m.get("error", ""):
            fail(f"a tenant's topics.create was not refused: {json.dumps(m)[:200]}")
    ws.close()
    # A barrier: the audit log is written in order, so once an operator's refusal made
    # after the tenant's is in the file, every line of the tenant's is too.
    ws = WS(login("olga", ENV["OPERATOR_PW"]))
    ws.recv_json("hello", 5)
    ws.send({"type": "action", "id": 1, "action": "tenants.create", "target": "dc1/b0",
             "args": {"name": "barrier"}})
    ws.recv_json("result", 10)
    ws.close()
    want = budget + 1  # and one line saying the rest are counted
    deadline = time.time() + 10
    while True:
        with open(path, "rb") as f:
            f.seek(before)
            text = f.read()
        if b'"who":"olga"' in text:
            break
        if time.time() > deadline:
            fail("the operator's refusal never reached the audit log")
        time.sleep(0.05)
    lines = [ln for ln in text.split(b"\n") if b'"acme-viewer"' in ln]
    grew = os.path.getsize(path) - before
    biggest = max((len(ln) for ln in lines), default=0)
    log(f"{n} refused actions with 30 KB args and targets: {len(lines)} audit entries, "
        f"+{grew} bytes, largest {biggest} bytes")
    if biggest > 8192:
        fail(f"an audit entry of {biggest} bytes: a client's args or target went in whole")
    if len(lines) != want:
        fail(f"{len(lines)} audit entries for {n} refusals, expected {budget} and one saying "
             "the rest are counted")
    entries = [json.loads(ln) for ln in lines]
    refusals = [e for e in entries if e.get("action") == "topics.create"]
    if len(refusals) != budget or any(e.get("ok") is not False for e in refusals):
        fail(f"the refusals' audit entries lost what they record: {lines[0][:300]!r}")
    if "cut for the audit log" not in json.dumps(refusals[0]["args"]):
        fail(f"the oversized args are not marked as cut: {lines[0][:300]!r}")
    if not any(e.get("action") == "refusals" and "counted" in e.get("error", "") for e in entries):
        fail("no audit entry says the further refusals are counted")


def check_login_flood():
    """One client hammering POST /login with wrong passwords (from 127.0.0.2) cannot take
    every login slot: a person logging in from elsewhere (127.0.0.1) still gets in."""
    done = threading.Event()
    deadline = time.time() + 60
    counts = {"sent": 0, "503": 0}
    lock = threading.Lock()

    def attacker():
        while not done.is_set() and time.time() < deadline:
            try:
                status, _, _ = http_req("POST", "/login",
                                        json.dumps({"user": "olga", "password": "guess"}),
                                        {"Origin": URL, "Content-Type": "application/json"},
                                        source="127.0.0.2", timeout=15)
            except OSError:
                continue
            with lock:
                counts["sent"] += 1
                counts["503"] += status == 503
            if status == 503:
                time.sleep(0.05)  # again soon, yet without burning the machine's CPU
    threads = [threading.Thread(target=attacker) for _ in range(12)]
    for t in threads:
        t.start()
    results = []
    try:
        # the flood first: wait until it is being refused, i.e. it holds what it may
        while counts["503"] < 10 and time.time() < deadline:
            time.sleep(0.05)
        for _ in range(2):
            t0 = time.time()
            status, _, body = http_req("POST", "/login",
                                       json.dumps({"user": "olga", "password": ENV["OPERATOR_PW"]}),
                                       {"Origin": URL, "Content-Type": "application/json"},
                                       timeout=60)
            results.append((status, round((time.time() - t0) * 1000)))
    finally:
        done.set()
        for t in threads:
            t.join()
    log(f"12 clients from 127.0.0.2 sent {counts['sent']} wrong logins ({counts['503']} told to "
        f"wait); meanwhile the operator's logins from 127.0.0.1: {results} (status, ms)")
    if any(status != 200 for status, _ in results):
        fail(f"a login flood from one address kept a person from logging in: {results}")


def check_action_pool():
    """A tenant user cannot fill the console's action workers with reads of a broker that
    does not answer (each would wait out its timeout): an operator's action on a live
    broker still runs at once."""
    import signal
    stopped = int(ENV["B1_PID"])
    os.kill(stopped, signal.SIGSTOP)
    socks = []
    try:
        deadline = time.time() + 10
        while b"broker dc1/b1 is down" not in open(ENV["CONSOLE_LOG"], "rb").read():
            if time.time() > deadline:
                fail("the console did not see the stopped broker dc1/b1 down within 10 s")
            time.sleep(0.05)
        s = login("acme-viewer", ENV["TENANT_PW"])
        for _ in range(int(ENV["WS_PER_SESSION"])):
            ws = WS(s)
            ws.recv_json("hello", 5)
            socks.append(ws)
        for ws in socks:
            for i in range(4):
                ws.send({"type": "action", "id": i, "action": "topics.describe",
                         "target": "dc1/b1", "args": {"name": "acme.orders"}})
        ws = WS(login("olga", ENV["OPERATOR_PW"]))
        ws.recv_json("hello", 5)
        t0 = time.time()
        ws.send({"type": "action", "id": 1, "action": "topics.describe", "target": "dc1/b0",
                 "args": {"name": "acme.orders"}})
        m = ws.recv_json("result", 30)
        took = time.time() - t0
        ws.close()
        refused = 0
        for t in socks:
            for _ in range(4):
                refused += "dc1/b1 is down" in t.recv_json("result", 10).get("error", "")
        log(f"{len(socks) * 4} tenant reads of the stopped dc1/b1 ({refused} refused at once); "
            f"the operator's read of dc1/b0 answered ok={m.get('ok')} after {took * 1000:.0f} ms")
        if not m.get("ok") or took > 3:
            fail(f"the operator's action waited {took:.1f} s behind the tenant's: "
                 f"{json.dumps(m)[:200]}")
        if refused != len(socks) * 4:
            fail(f"{refused} of {len(socks) * 4} reads of a down broker were refused at once")
    finally:
        os.kill(stopped, signal.SIGCONT)
        for ws in socks:
            ws.close()


def check_slowloris():
    """A request trickled a byte at a time, headers or a POST body, does not hold a
    connection for ever: the console closes it within a bound (10 s, plus slack)."""
    def held(first, then, what):
        t0 = time.time()
        s = socket.create_connection((HOST, PORT))
        s.settimeout(0.5)
        s.sendall(first)
        try:
            while time.time() - t0 < 30:
                try:
                    s.sendall(then)
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
                time.sleep(0.5)
        except OSError:
            pass
        finally:
            s.close()
        took = time.time() - t0
        if took >= 30:
            fail(f"{what} trickled a byte at a time kept its connection for 30 s")
        return took
    headers = held(b"GET /login HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", "request headers")
    body = held(b"POST /login HTTP/1.1\r\nHost: x\r\nOrigin: " + URL.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n", b" ",
                "a login body")
    log(f"trickled: headers closed after {headers:.1f} s, a login body after {body:.1f} s")


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    for name in sys.argv[2:]:
        if name not in CHECKS:
            fail(f"unknown check {name!r}: {', '.join(CHECKS)}")
        CHECKS[name]()
