#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds Strait (Release, into ./build) and
# runs straitd in the foreground on 127.0.0.1:9092 with its data in ./data, configured
# by deploy/config/straitd.cfg. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=9092
MGMT_PORT=9192

# Refuses early when something already listens where straitd wants to.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_in_use "$PORT"; then
    echo "quickstart: port $PORT on 127.0.0.1 is already in use (another Kafka or straitd?)." >&2
    echo "quickstart: stop that process first; straitd needs 127.0.0.1:$PORT." >&2
    exit 1
fi
if port_in_use "$MGMT_PORT"; then
    echo "quickstart: port $MGMT_PORT on 127.0.0.1 (straitd's management endpoint) is already in use." >&2
    exit 1
fi

./deploy/install-packages.sh

echo "quickstart: building (Release) into ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target straitd strait

mkdir -p data
cat <<MSG

============================================================================
 straitd is starting on 127.0.0.1:$PORT (data in ./data, management endpoint
 tcp://127.0.0.1:$MGMT_PORT). Ctrl-C stops it cleanly.

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
============================================================================

MSG
exec ./build/straitd -c deploy/config/straitd.cfg --host 127.0.0.1 --port "$PORT" --data-dir ./data
