#!/usr/bin/env python3
"""check_json_lines.py FILE COMPONENT [MIN_LINES]: every line of FILE is one JSON object
with string fields time (RFC 3339 UTC, milliseconds), level (debug|info|warn|error),
component (== COMPONENT), source and message. Prints the count per level; exits 1 naming
the first bad line."""
import json
import re
import sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def main():
    path, component = sys.argv[1], sys.argv[2]
    min_lines = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    levels = {}
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        sys.exit(f"{path}: the last line is not terminated by a newline")
    lines = data.split(b"\n")[:-1] if data else []
    for n, raw in enumerate(lines, 1):
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            sys.exit(f"{path}:{n}: not a JSON line ({e}): {raw[:200]!r}")
        if not isinstance(obj, dict):
            sys.exit(f"{path}:{n}: not a JSON object: {raw[:200]!r}")
        for key in ("time", "level", "component", "source", "message"):
            if not isinstance(obj.get(key), str):
                sys.exit(f"{path}:{n}: no string field {key!r}: {raw[:200]!r}")
        if not TIME.match(obj["time"]):
            sys.exit(f"{path}:{n}: time {obj['time']!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        if obj["level"] not in ("debug", "info", "warn", "error"):
            sys.exit(f"{path}:{n}: level {obj['level']!r} is not debug|info|warn|error")
        if obj["component"] != component:
            sys.exit(f"{path}:{n}: component {obj['component']!r}, expected {component!r}")
        levels[obj["level"]] = levels.get(obj["level"], 0) + 1
    if len(lines) < min_lines:
        sys.exit(f"{path}: only {len(lines)} lines, expected at least {min_lines}")
    print(f"{path}: {len(lines)} JSON lines, " +
          ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))


main()
