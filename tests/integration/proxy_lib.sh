# Helpers for tests that put tests/tools/netproxy in front of the broker. Source it after
# lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/proxy_lib.sh"
#   start_proxied_broker        # BOOTSTRAP now goes through the proxy
#   proxy_cmd drop              # close every connection the clients have
#
# The proxy starts first (a free port, forwarding nowhere yet), the broker then starts
# advertising the proxy's port (broker.advertised_port), and the proxy is pointed at
# the broker's real port: so every connection a client makes, bootstrap and the ones
# Metadata sends it to, goes through the proxy. NETPROXY names the binary (ctest sets it).

: "${NETPROXY:?NETPROXY must name the netproxy binary (tests/tools; run through ctest)}"
PROXY_PID=""
PROXY_PORT=""
PROXY_CTL="$ST_TMP/proxy.ctl"
DIRECT_BOOTSTRAP="" # the broker itself, bypassing the proxy

# start_proxy [NETPROXY OPTIONS...]: starts netproxy on a free port, its control socket at
# $PROXY_CTL; sets PROXY_PID and PROXY_PORT. The target is set later with proxy_cmd target.
start_proxy() {
    rm -f "$ST_TMP/proxy.ready"
    "$NETPROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --control "$PROXY_CTL" \
        --ready-file "$ST_TMP/proxy.ready" "$@" 2>>"$ST_TMP/netproxy.log" &
    PROXY_PID=$!
    ST_PIDS+=("$PROXY_PID")
    local deadline=$(($(date +%s) + 10))
    while [ ! -s "$ST_TMP/proxy.ready" ]; do
        kill -0 "$PROXY_PID" 2>/dev/null || fail "netproxy exited at start: $(cat "$ST_TMP/netproxy.log")"
        [ "$(date +%s)" -lt "$deadline" ] || fail "netproxy not ready within 10 s"
        sleep 0.05
    done
    read -r PROXY_PORT <"$ST_TMP/proxy.ready"
    log "netproxy pid $PROXY_PID on 127.0.0.1:$PROXY_PORT"
}

# proxy_cmd COMMAND...: one control command; fails the test unless the proxy says "ok".
# The answer is in PROXY_ANSWER.
proxy_cmd() {
    PROXY_ANSWER=$(timeout 10 "$NETPROXY" --control "$PROXY_CTL" --send "$*") ||
        fail "netproxy command \"$*\" failed: $PROXY_ANSWER"
}

# start_proxied_broker: start_proxy (if not running), then a broker advertising the
# proxy's port, with ST_EXTRA_CFG as usual. BOOTSTRAP becomes the proxy's address;
# DIRECT_BOOTSTRAP is the broker's own.
start_proxied_broker() {
    [ -n "$PROXY_PID" ] || start_proxy
    cat >"$ST_TMP/proxied.cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$ST_DATA"; log_level = "info";
           advertised_port = $PROXY_PORT; };
mgmt = { url = "$ST_MGMT"; };
$ST_EXTRA_CFG
CFG
    ST_CONFIG_FILE="$ST_TMP/proxied.cfg" start_broker
    DIRECT_BOOTSTRAP="$BOOTSTRAP"
    proxy_cmd target "127.0.0.1:$BROKER_PORT"
    BOOTSTRAP="127.0.0.1:$PROXY_PORT"
    export BOOTSTRAP
    log "clients reach the broker through netproxy at $BOOTSTRAP"
}
