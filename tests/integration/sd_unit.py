#!/usr/bin/env python3
"""Reads systemd unit files and stands in for systemd's notify socket, for tests that run
a unit's command lines the way systemd would (without systemd).

  sd_unit.py get UNIT KEY [INSTANCE]    values of KEY in [Service] (or [Unit]), %i
                                        replaced, one a line (continuations joined)
  sd_unit.py argv UNIT KEY [INSTANCE]   the command line of KEY, split as systemd splits
                                        it (quotes, backslash continuations), NUL-separated
  sd_unit.py seconds TIMESPAN           "120", "90s", "2min", "1min 30s" -> seconds
  sd_unit.py syscalls TRACE FILTER       the system calls an `strace -f -o TRACE` run made
                                        that FILTER (e.g. @system-service, as
                                        `systemd-analyze syscall-filter` expands it) does
                                        not allow, one a line, after a count line
  sd_unit.py listen SOCKET OUT          binds a datagram socket at SOCKET (as systemd's
                                        $NOTIFY_SOCKET) and appends every message to OUT
                                        as one line: "<unix ms> <assignments joined by |>"
"""
import os
import re
import shlex
import socket
import sys
import time


def read_unit(path, instance):
    sections, section, pending = {}, None, ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if pending:
                line = pending + " " + line.lstrip()
                pending = ""
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.endswith("\\"):
                pending = stripped[:-1].rstrip()
                continue
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1]
                continue
            key, _, value = stripped.partition("=")
            value = value.strip()
            if instance is not None:
                value = value.replace("%i", instance).replace("%I", instance)
            value = value.replace("%%", "%")
            sections.setdefault(section, []).append((key.strip(), value))
    return sections


def values(path, key, instance):
    secs = read_unit(path, instance)
    return [v for s in ("Service", "Unit", "Install") for k, v in secs.get(s, []) if k == key]


def seconds(span):
    units = {"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "m": 60,
             "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600,
             "ms": 0.001, "msec": 0.001}
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span.strip())
    if not parts:
        sys.exit(f"not a time span: {span!r}")
    for number, unit in parts:
        if unit not in units:
            sys.exit(f"unknown time unit {unit!r} in {span!r}")
        total += float(number) * units[unit]
    return total


def syscall_set(group):
    import subprocess
    text = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                          text=True, check=True).stdout
    groups, cur = {}, None
    for line in text.splitlines():
        if line.startswith("@"):
            cur = line.strip()
            groups[cur] = []
        elif cur and line.strip() and not line.strip().startswith("#"):
            groups[cur].append(line.strip())

    def expand(g, seen):
        out = set()
        for s in groups.get(g, []):
            if s.startswith("@"):
                if s not in seen:
                    out |= expand(s, seen | {s})
            else:
                out.add(s)
        return out
    allowed = expand(group, {group})
    if not allowed:
        sys.exit(f"systemd-analyze syscall-filter knows no group {group}")
    return allowed


def syscalls(trace, group):
    allowed = syscall_set(group)
    used = set()
    call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")
    with open(trace, errors="replace") as f:
        for line in f:
            m = call.match(line)
            if m and m.group(1) not in ("exit", "resumed"):
                used.add(m.group(1))
    if not used:
        sys.exit(f"{trace}: no system calls found (is it strace -f output?)")
    print(f"{len(used)} distinct system calls, {len(allowed)} allowed by {group}")
    for name in sorted(used - allowed):
        print(name)


def listen(path, out):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out, "a", buffering=1) as f:
        while True:
            msg = s.recv(4096).decode("utf-8", "replace")
            f.write(f"{int(time.time() * 1000)} {'|'.join(msg.splitlines())}\n")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "get":
        inst = sys.argv[4] if len(sys.argv) > 4 else None
        for v in values(sys.argv[2], sys.argv[3], inst):
            print(v)
    elif cmd == "argv":
        inst = sys.argv[4] if len(sys.argv) > 4 else None
        found = values(sys.argv[2], sys.argv[3], inst)
        if len(found) != 1:
            sys.exit(f"{sys.argv[2]}: expected one {sys.argv[3]}=, found {len(found)}")
        line = found[0]
        if line[:1] in "@-:+!":
            sys.exit(f"{sys.argv[2]}: {sys.argv[3]}= has a prefix ({line[0]}) this helper does not run")
        sys.stdout.write("\0".join(shlex.split(line)) + "\0")
    elif cmd == "seconds":
        t = seconds(sys.argv[2])
        print(int(t) if t == int(t) else t)
    elif cmd == "syscalls":
        syscalls(sys.argv[2], sys.argv[3])
    elif cmd == "listen":
        listen(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


main()
