# A real ZooKeeper for the cluster tests: Debian's `zookeeper` (3.8) run in standalone
# mode on 127.0.0.1, on a free port, with its own data dir and config in $ST_TMP. Source
# it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/zk_lib.sh"
#   zk_start            # exports ZK_PID, ZK_PORT, ZK_CONNECT (127.0.0.1:port)
#   ... brokers with cluster.zookeeper = "$ZK_CONNECT" ...
#   zk_stop             # by pid; the EXIT trap of lib.sh stops it too
#
# The server is the plain Java main class (ZooKeeperServerMain) started in the background
# and tracked by pid, not zkServer.sh (which daemonises through a pid file and knows only
# the system-wide config). Readiness is ZooKeeper's own answer: `ruok` → `imok`, then
# `srvr` naming its Mode (imok alone comes before the server serves requests); both need
# the four-letter words whitelisted (4lw.commands.whitelist). The start-up time is
# printed each time.
#
# Environment: ZK_CLASSPATH (default /usr/share/java/zookeeper.jar, whose manifest names
# its dependencies), JAVA (default java on the PATH), ZK_TICK_MS (default 200). The
# server accepts session timeouts from 2 ticks (0.4 s) to 60 s, so a failover test can
# ask for a short one.

: "${ZK_CLASSPATH:=/usr/share/java/zookeeper.jar}"
: "${JAVA:=java}"
: "${ZK_TICK_MS:=200}"
command -v "$JAVA" >/dev/null 2>&1 ||
    fail "java is needed for ZooKeeper (deploy/install-packages.sh --test installs default-jre-headless)"
[ -r "${ZK_CLASSPATH%%:*}" ] ||
    fail "$ZK_CLASSPATH not found (deploy/install-packages.sh --test installs zookeeper)"

ZK_PID=""
ZK_PORT=""
ZK_CONNECT=""
ZK_DIR="$ST_TMP/zookeeper"
ZK_LOG="$ZK_DIR/zookeeper.log"

# zk_free_port: prints a port that nothing listens on now. ZooKeeper cannot be given port
# 0, so a port is picked here and handed over; zk_start retries if another process took
# it in between.
zk_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# zk_4lw WORD [PORT]: sends a four-letter word (ruok, srvr, stat) and prints the answer;
# fails (status 1) when nothing answers within 2 s.
zk_4lw() {
    local word=$1 port=${2:-$ZK_PORT}
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf %s "$2" >&3; cat <&3' \
        _ "$port" "$word" 2>/dev/null
}

# zk_start: starts ZooKeeper and waits (at most 30 s) until it answers imok. A restart
# (zk_start after zk_stop) keeps the data dir, and so every znode, but takes a new port
# unless ZK_PORT is already set.
zk_start() {
    mkdir -p "$ZK_DIR/data"
    local attempt port t0 ms
    for attempt in 1 2 3; do
        port=${ZK_PORT:-$(zk_free_port)}
        cat >"$ZK_DIR/zoo.cfg" <<EOF
tickTime=$ZK_TICK_MS
dataDir=$ZK_DIR/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=$((2 * ZK_TICK_MS))
maxSessionTimeout=60000
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,cons
EOF
        t0=$(date +%s%N)
        # A small heap and the client compiler: the server holds a few hundred znodes,
        # and start-up time is what the tests wait for.
        "$JAVA" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
            -Dzookeeper.log.dir="$ZK_DIR" -Dzookeeper.jmx.log4j.disable=true \
            -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$ZK_DIR/zoo.cfg" \
            >>"$ZK_LOG" 2>&1 &
        ZK_PID=$!
        ST_PIDS+=("$ZK_PID")
        local deadline=$(($(date +%s) + 30))
        while kill -0 "$ZK_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            # imok comes as soon as the process listens; srvr names a Mode only once
            # the server serves requests
            if [ "$(zk_4lw ruok "$port")" = imok ] && [[ "$(zk_4lw srvr "$port")" == *"Mode: "* ]]; then
                ms=$((($(date +%s%N) - t0) / 1000000))
                ZK_PORT=$port
                ZK_CONNECT="127.0.0.1:$port"
                export ZK_PID ZK_PORT ZK_CONNECT
                log "zookeeper up on $ZK_CONNECT (pid $ZK_PID) after $ms ms"
                return 0
            fi
            sleep 0.05
        done
        if kill -0 "$ZK_PID" 2>/dev/null; then
            tail -n 30 "$ZK_LOG" >&2
            fail "zookeeper (pid $ZK_PID) did not answer ruok on port $port within 30 s; log: $ZK_LOG"
        fi
        wait "$ZK_PID" 2>/dev/null || true
        log "zookeeper exited at start on port $port (attempt $attempt); trying another port"
        [ -z "${ZK_KEEP_PORT:-}" ] && ZK_PORT=""
    done
    tail -n 30 "$ZK_LOG" >&2
    fail "zookeeper would not start (3 attempts); log: $ZK_LOG"
}

# zk_stop [SIGNAL]: stops the server by pid (TERM by default; KILL simulates a crash)
# and waits for it to exit.
zk_stop() {
    local sig=${1:-TERM}
    [ -n "$ZK_PID" ] || return 0
    kill "-$sig" "$ZK_PID" 2>/dev/null || true
    st_wait_pid "$ZK_PID" 20 || kill -KILL "$ZK_PID" 2>/dev/null || true
    wait "$ZK_PID" 2>/dev/null || true
    ZK_PID=""
}
