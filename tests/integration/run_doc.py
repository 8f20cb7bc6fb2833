#!/usr/bin/env python3
"""run_doc.py DOC.md DIR: runs every command of a Markdown document, in order, in DIR.

The document's conventions (docs/quickstart.md follows them):
  ```sh blocks      commands, one a line (a trailing backslash continues it), each run
                    with bash -c in DIR; each must exit 0
  ```text blocks    right after a sh block (blank lines between at most): lines the last
                    command's standard output must show, in this order (others may come
                    between); a line ending in "..." matches any line starting with the
                    rest. The command is run again until they show, for up to 60 s.
  <!-- test: background[, ready: tcp PORT] -->
                    before a sh block of one command: start it and leave it running
                    (a server); with ready, wait (up to 600 s: it may build first) until
                    127.0.0.1:PORT accepts connections.
  <!-- test: stop background -->
                    before a sh block: first send SIGINT (Ctrl-C) to every background
                    command, newest first; each must exit with status 0 within 60 s.
Everything left running at the end is an error. Processes are stopped by their pids.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

RETRY_SECONDS = 60
READY_SECONDS = 600
STOP_SECONDS = 60
COMMAND_TIMEOUT = 120


def parse(path):
    """Returns a list of blocks: {line, commands, background, ready_port, stop, expect}."""
    blocks, directive, lines = [], {}, open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^<!--\s*test:\s*(.*?)\s*-->\s*$", line)
        if m:
            for part in [p.strip() for p in m.group(1).split(",")]:
                if part == "background":
                    directive["background"] = True
                elif part == "stop background":
                    directive["stop"] = True
                elif part.startswith("ready: tcp "):
                    directive["ready_port"] = int(part.split()[-1])
                else:
                    sys.exit(f"{path}:{i + 1}: unknown test directive {part!r}")
            i += 1
            continue
        if line.startswith("```sh"):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            commands, pending = [], ""
            for b in body:
                if b.rstrip().endswith("\\"):
                    pending += b.rstrip()[:-1] + " "
                    continue
                full = (pending + b).strip()
                pending = ""
                if full and not full.startswith("#"):
                    commands.append(full)
            block = dict(line=start, commands=commands, expect=None, **directive)
            directive = {}
            if block.get("background") and len(commands) != 1:
                sys.exit(f"{path}:{start}: a background block holds one command")
            blocks.append(block)
            i += 1
            # a text block right after: the last command's expected output
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j].startswith("```text"):
                expect = []
                j += 1
                while j < len(lines) and not lines[j].startswith("```"):
                    expect.append(lines[j].rstrip())
                    j += 1
                block["expect"] = expect
                i = j + 1
            continue
        i += 1
    return blocks


def shows(output, expect):
    got = [l.rstrip() for l in output.split("\n")]
    k = 0
    for line in got:
        if k == len(expect):
            break
        want = expect[k]
        if line == want or (want.endswith("...") and line.startswith(want[:-3].rstrip())):
            k += 1
    return k == len(expect)


def log(msg):
    print(f"[run_doc +{time.monotonic() - T0:.0f}s] {msg}", flush=True)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def main():
    doc, cwd = sys.argv[1], sys.argv[2]
    logs = os.path.join(cwd, ".run_doc")
    os.makedirs(logs, exist_ok=True)
    blocks = parse(doc)
    running = []  # (Popen, command, log path)

    def fail(msg):
        for proc, cmd, out in running:
            print(f"---- {cmd} (pid {proc.pid}) ----\n{tail(out)}", file=sys.stderr)
        print(f"run_doc: FAIL: {msg}", file=sys.stderr)
        for proc, _, _ in reversed(running):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        sys.exit(1)

    ran = 0
    for b in blocks:
        where = f"{os.path.basename(doc)}:{b['line']}"
        if b.get("stop"):
            for proc, cmd, out in reversed(running):
                t0 = time.monotonic()
                proc.send_signal(signal.SIGINT)
                try:
                    rc = proc.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    fail(f"{cmd!r} still running {STOP_SECONDS} s after Ctrl-C (SIGINT)")
                if rc != 0:
                    fail(f"{cmd!r} exited with status {rc} after Ctrl-C:\n{tail(out, 10)}")
                log(f"Ctrl-C: {cmd!r} stopped cleanly in {(time.monotonic() - t0) * 1000:.0f} ms")
            running.clear()
        if b.get("background"):
            cmd = b["commands"][0]
            out = os.path.join(logs, f"bg{len(running)}.log")
            proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=open(out, "w"), stderr=subprocess.STDOUT)
            running.append((proc, cmd, out))
            log(f"{where}: started in the background (pid {proc.pid}): {cmd}")
            port = b.get("ready_port")
            if port:
                t0 = time.monotonic()
                while True:
                    if proc.poll() is not None:
                        fail(f"{where}: {cmd!r} exited with status {proc.returncode} "
                             f"before 127.0.0.1:{port} accepted")
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        pass
                    if time.monotonic() - t0 > READY_SECONDS:
                        fail(f"{where}: 127.0.0.1:{port} not accepting after {READY_SECONDS} s")
                    time.sleep(0.2)
                log(f"{where}: 127.0.0.1:{port} accepts after {time.monotonic() - t0:.1f} s")
            ran += 1
            continue
        for n, cmd in enumerate(b["commands"]):
            expect = b["expect"] if n == len(b["commands"]) - 1 else None
            t0 = time.monotonic()
            while True:
                try:
                    r = subprocess.run(["bash", "-c", cmd], cwd=cwd, stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True, errors="replace",
                                       timeout=COMMAND_TIMEOUT)
                    ok = r.returncode == 0 and (expect is None or shows(r.stdout, expect))
                except subprocess.TimeoutExpired:
                    r, ok = None, False
                if ok or expect is None or time.monotonic() - t0 > RETRY_SECONDS:
                    break
                time.sleep(0.2)
            if not ok:
                if r is None:
                    fail(f"{where}: {cmd!r} did not finish within {COMMAND_TIMEOUT} s")
                if r.returncode != 0:
                    fail(f"{where}: {cmd!r} exited with status {r.returncode}:\n"
                         f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
                fail(f"{where}: {cmd!r} never showed the documented output within "
                     f"{RETRY_SECONDS} s.\nexpected (in order):\n" + "\n".join(expect) +
                     f"\ngot:\n{r.stdout[-2000:]}")
            ran += 1
            log(f"{where}: ok{' (output as documented)' if expect else ''}: {cmd}")
    if running:
        fail("the document leaves commands running: " + ", ".join(c for _, c, _ in running))
    log(f"all {ran} commands of {os.path.basename(doc)} ran as documented")


T0 = time.monotonic()
main()
