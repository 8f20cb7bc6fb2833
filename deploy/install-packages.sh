#!/usr/bin/env bash
# install-packages.sh [--test]: installs the Debian packages of deploy/packages.txt that
# are missing (all of them with --test, else those not marked "test"). Checks with
# dpkg first and touches apt only when something is missing; uses sudo when not root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
with_test=0
[ "${1:-}" = "--test" ] && with_test=1

missing=()
while read -r name rest; do
    case "$name" in "" | \#*) continue ;; esac
    scope="" cmd=""
    for word in $rest; do
        case "$word" in
        test) scope=test ;;
        cmd=*) cmd=${word#cmd=} ;;
        esac
    done
    [ "$scope" = test ] && [ "$with_test" = 0 ] && continue
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
        continue
    fi
    if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    missing+=("$name")
done <"$here/packages.txt"

if [ "${#missing[@]}" -eq 0 ]; then
    echo "packages: everything needed is installed"
    exit 0
fi

echo "packages: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "packages: missing ${missing[*]}, and this is not root and sudo is not installed." >&2
    echo "packages: as root, run: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
