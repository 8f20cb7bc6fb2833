#!/usr/bin/python3
"""
cli_doc.py: keeps docs/cli.md true to the strait binary.

  cli_doc.py update STRAIT docs/cli.md   rewrites every help block from the real --help
  cli_doc.py check STRAIT docs/cli.md    fails naming each help block that differs
  cli_doc.py run docs/cli.md             runs every example (test_cli_doc.sh), with
                                         $STRAIT, $BOOTSTRAP, $ST_MGMT, $ST_DATA set

A help block in the document:

    <!-- help: topics create -->
    ```text
    ...the output of `strait topics create --help`...
    ```

An example (run by tests/integration/test_cli_doc.sh against a fresh broker, in order;
each "$ " line is a shell command whose stdout must be exactly the lines after it):

    <!-- example -->
    ```console
    $ strait topics create orders --partitions 3
    created topic "orders" with 3 partitions
    ```
"""
import re
import subprocess
import sys

HELP = re.compile(r"<!-- help: ([^>]*?) -->\n```text\n(.*?)```\n", re.S)
EXAMPLE = re.compile(r"<!-- example -->\n```console\n(.*?)```\n", re.S)


def help_text(strait, words):
    args = [strait] + (words.split() if words else []) + ["--help"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        sys.exit("cli_doc: %s exited %d: %s" % (" ".join(args), out.returncode, out.stderr))
    return out.stdout


def update(strait, path):
    doc = open(path).read()

    def fill(m):
        return "<!-- help: %s -->\n```text\n%s```\n" % (m.group(1), help_text(strait, m.group(1)))
    new = HELP.sub(fill, doc)
    open(path, "w").write(new)
    print("cli_doc: %d help blocks written" % len(HELP.findall(doc)))


def check(strait, path):
    doc = open(path).read()
    blocks = HELP.findall(doc)
    stale = [words for words, text in blocks if text != help_text(strait, words)]
    if not blocks:
        sys.exit("cli_doc: %s has no help blocks" % path)
    if stale:
        for words in stale:
            print("cli_doc: the help of 'strait %s' in %s differs from the binary's" % (words, path),
                  file=sys.stderr)
        sys.exit("cli_doc: run tests/integration/py/cli_doc.py update build/strait %s" % path)
    print("cli_doc: %d help blocks match the binary" % len(blocks))


def examples(path):
    doc = open(path).read()
    out = []
    for block in EXAMPLE.findall(doc):
        steps = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append({"command": line[2:], "stdout": []})
            elif steps:
                steps[-1]["stdout"].append(line)
            else:
                sys.exit("cli_doc: an example must start with a '$ ' line: %r" % line)
        out.append(steps)
    return out


# Each example command runs in bash with `strait` bound to the binary under test and the
# test broker (its management endpoint, data directory for the token, and Kafka listener).
PRELUDE = ('strait() { "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" '
           '--bootstrap "$BOOTSTRAP" "$@"; }\n')


def run(path):
    blocks = examples(path)
    if not blocks:
        sys.exit("cli_doc: %s has no examples" % path)
    n = 0
    for steps in blocks:
        for step in steps:
            n += 1
            res = subprocess.run(["bash", "-c", PRELUDE + step["command"]], capture_output=True,
                                 text=True, timeout=60)
            got = res.stdout.splitlines()
            if res.returncode != 0 or got != step["stdout"]:
                print("cli_doc: example failed: $ %s" % step["command"], file=sys.stderr)
                print("  exit status %d; stderr: %s" % (res.returncode, res.stderr.strip()),
                      file=sys.stderr)
                print("  expected:\n" + "".join("    |%s\n" % l for l in step["stdout"]) +
                      "  got:\n" + "".join("    |%s\n" % l for l in got), file=sys.stderr)
                sys.exit(1)
    print("cli_doc: %d example commands gave the documented output" % n)


def main():
    if len(sys.argv) == 4 and sys.argv[1] in ("update", "check"):
        (update if sys.argv[1] == "update" else check)(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
