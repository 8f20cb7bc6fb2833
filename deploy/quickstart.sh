#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds Strait (Release, into ./build) and
# runs straitd on 127.0.0.1:9092 with its data in ./data (deploy/config/straitd.cfg)
# and beside it strait-console, the admin console, on http://127.0.0.1:8080
# (deploy/config/strait-console.cfg). Ctrl-C stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=9092
MGMT_PORT=9192
SURVEY_PORT=9292 # the management port + 100: the console's status surveys
CONSOLE_PORT=8080

# Refuses early when something already listens where straitd or the console wants to.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT:straitd (Kafka)" "$MGMT_PORT:straitd's management endpoint" \
    "$SURVEY_PORT:straitd's survey endpoint" "$CONSOLE_PORT:strait-console"; do
    if port_in_use "${p%%:*}"; then
        echo "quickstart: port ${p%%:*} on 127.0.0.1 (${p#*:}) is already in use." >&2
        echo "quickstart: stop that process first (another Kafka, straitd or console?)." >&2
        exit 1
    fi
done

./deploy/install-packages.sh

echo "quickstart: building (Release) into ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target straitd strait strait-console

mkdir -p data console-state
STRAITD_PID="" CONSOLE_PID=""
stop() {
    trap - INT TERM EXIT
    [ -n "$CONSOLE_PID" ] && kill -TERM "$CONSOLE_PID" 2>/dev/null
    [ -n "$STRAITD_PID" ] && kill -TERM "$STRAITD_PID" 2>/dev/null
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

rm -f data/.quickstart.ready console-state/.quickstart.ready
./build/straitd -c deploy/config/straitd.cfg --host 127.0.0.1 --port "$PORT" --data-dir ./data \
    --ready-file data/.quickstart.ready &
STRAITD_PID=$!
for _ in $(seq 1 300); do
    [ -s data/.quickstart.ready ] && break
    kill -0 "$STRAITD_PID" 2>/dev/null || { echo "quickstart: straitd exited; see its log above" >&2; exit 1; }
    sleep 0.1
done
[ -s data/.quickstart.ready ] || { echo "quickstart: straitd not ready in 30 s" >&2; exit 1; }

# The console prints a first-start admin password once, on its standard output.
./build/strait-console -c deploy/config/strait-console.cfg \
    --ready-file console-state/.quickstart.ready >console-state/console.out 2>&1 &
CONSOLE_PID=$!
for _ in $(seq 1 300); do
    [ -s console-state/.quickstart.ready ] && break
    kill -0 "$CONSOLE_PID" 2>/dev/null ||
        { echo "quickstart: strait-console exited: $(cat console-state/console.out)" >&2; exit 1; }
    sleep 0.1
done
[ -s console-state/.quickstart.ready ] || { echo "quickstart: strait-console not ready in 30 s" >&2; exit 1; }
ADMIN_PW=$(sed -n 's/.*created user "admin" with password \([A-Za-z0-9]*\).*/\1/p' console-state/console.out)
if [ -n "$ADMIN_PW" ]; then
    LOGIN="user admin, password $ADMIN_PW
   (shown this once: note it; only its hash is kept, in console-state/users.cfg)"
else
    LOGIN="user admin, with the password printed at the first start
   (forgotten? delete console-state/users.cfg and run the quickstart again)"
fi
# From now on the console logs to the terminal too.
tail -n +1 -f console-state/console.out --pid "$CONSOLE_PID" >&2 &

cat <<MSG

============================================================================
 straitd is running on 127.0.0.1:$PORT (data in ./data, management endpoint
 tcp://127.0.0.1:$MGMT_PORT). Ctrl-C stops it and the console cleanly.

 The admin console: http://127.0.0.1:$CONSOLE_PORT
   $LOGIN

 In another terminal, from $(pwd):

   # with the strait CLI
   ./build/strait topics create demo --partitions 1
   printf 'k1:hello\nk2:world\n' | ./build/strait produce --topic demo --key-sep :
   ./build/strait consume --topic demo --from-beginning --max-messages 2 --print-key
   ./build/strait topics describe demo

   # with kcat
   kcat -b 127.0.0.1:$PORT -L
   printf 'k3:from kcat\n' | kcat -b 127.0.0.1:$PORT -P -t demo -K :
   kcat -b 127.0.0.1:$PORT -C -t demo -o beginning -e -f '%k: %s\n'

 Kafka's quickstart step by step, Connect included: docs/quickstart.md
============================================================================

MSG
# Until Ctrl-C, or until either daemon stops.
wait -n "$STRAITD_PID" "$CONSOLE_PID" || true
