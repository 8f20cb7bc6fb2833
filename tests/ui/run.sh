#!/usr/bin/env bash
# The console's browser tests (tests/ui/console.test.js) against real daemons:
#
#   dc1: straitd with a PLAINTEXT listener (User:ANONYMOUS, a super user: the admin
#        path) and a SASL_PLAINTEXT one; tenants acme and globex with users, topics and
#        consumer groups; strait-mirror copying "orders" dc1 -> dc2
#   dc2: straitd, the mirror's target
#   strait-console over all three, with an admin (its first start), an operator and a
#   tenant user of acme
#
# then Debian's Chromium, driven by playwright-core, runs the seven checks of the issue
# (see console.test.js). Screenshots of every view go to $UI_SCREENSHOTS when set (e.g.
# UI_SCREENSHOTS=docs/images to refresh docs/console.md's), else to the temp dir.
#
# Environment (ctest sets it): STRAITD, STRAIT, STRAIT_MIRROR, STRAIT_CONSOLE, KCAT,
# RK_BIN, UI_PRODUCER, NODE. node_modules comes from `npm ci` in tests/ui (this script
# runs it when missing).
. "$(dirname "$0")/../integration/lib.sh"
PROXY_PID=""
. "$(dirname "$0")/../integration/mirror_lib.sh"
: "${STRAIT_CONSOLE:?STRAIT_CONSOLE must name the strait-console binary (run through ctest)}"
: "${UI_PRODUCER:?UI_PRODUCER must name rk_ui_producer}"
: "${NODE:=node}"
UI_DIR=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || fail "Debian's chromium is not installed: run deploy/install-packages.sh --test"
if [ ! -d "$UI_DIR/node_modules/playwright-core" ] || [ ! -d "$UI_DIR/node_modules/ws" ]; then
    log "installing playwright-core and ws (npm ci in tests/ui)"
    (cd "$UI_DIR" && npm ci --no-audit --no-fund >"$ST_TMP/npm.log" 2>&1) ||
        fail "npm ci in tests/ui failed: $(tail -n 20 "$ST_TMP/npm.log")"
fi

CONSOLE_PID=""
CONSOLE_LOG="$ST_TMP/console.log"
# The console first (its log on failure), then the mirror and the brokers.
ui_cleanup() {
    local rc=$?
    set +e
    if [ -n "$CONSOLE_PID" ]; then
        kill -TERM "$CONSOLE_PID" 2>/dev/null
        st_wait_pid "$CONSOLE_PID" 20 || kill -KILL "$CONSOLE_PID" 2>/dev/null
        wait "$CONSOLE_PID" 2>/dev/null
    fi
    # a broker the browser test restarted runs under a pid it wrote down
    if [ -s "$ST_TMP/restarted.pid" ]; then
        local pid
        pid=$(cat "$ST_TMP/restarted.pid")
        kill -TERM "$pid" 2>/dev/null && st_wait_pid "$pid" 20
    fi
    if [ "$rc" -ne 0 ] && [ -f "$CONSOLE_LOG" ]; then
        echo "---- last 60 lines of the console log ----" >&2
        tail -n 60 "$CONSOLE_LOG" >&2
    fi
    (exit "$rc")
    mirror_cleanup
}
trap ui_cleanup EXIT

# ui_dc_start NAME BROKER_SETTINGS OTHER_GROUPS: a straitd for datacenter NAME (as
# mirror_lib.sh's dc_start, with extra settings).
ui_dc_start() {
    local name=$1 dir="$ST_TMP/$1"
    mkdir -p "$dir"
    local ST_DATA="$dir/data" ST_LOG="$dir/straitd.log" ST_READY="$dir/ready" ST_MGMT="ipc://$dir/mgmt.ipc"
    cat >"$dir/straitd.cfg" <<CFG
broker = { id = 0; host = "127.0.0.1"; data_dir = "$ST_DATA"; log_level = "info"; $2 };
mgmt = { url = "$ST_MGMT"; };
groups = { initial_rebalance_delay_ms = 0; };
$3
CFG
    ST_CONFIG_FILE="$dir/straitd.cfg" start_broker
    DC_PID[$name]=$BROKER_PID
    DC_PORT[$name]=$BROKER_PORT
    DC_DIRECT[$name]="127.0.0.1:$BROKER_PORT"
    DC_BOOT[$name]="127.0.0.1:$BROKER_PORT"
    DC_MGMT[$name]=$ST_MGMT
    DC_DATA[$name]=$ST_DATA
    DC_LOG[$name]=$ST_LOG
    DC_NAMES+=("$name")
    BROKER_PID=""
    log "$name: straitd pid ${DC_PID[$name]} on ${DC_BOOT[$name]}"
}

ui_dc_start dc1 'listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";' \
    'security = { authorizer = true; super_users = "User:ANONYMOUS"; };
quotas = { window_num = 3; window_size_seconds = 1; };'
DC1_SASL="127.0.0.1:$SASL_PLAINTEXT_PORT"
ui_dc_start dc2 "" ""

# Tenants, users, topics and groups on dc1.
out="$ST_TMP/out.txt"
for cmd in "tenants create acme" "tenants create globex" \
    "users add alice --password alice-pw --tenant acme" \
    "users add gina --password gina-pw --tenant globex" \
    "topics create acme.orders --partitions 2" "topics create globex.orders --partitions 1" \
    "topics create acme.quota --partitions 1" "topics create orders --partitions 1"; do
    # shellcheck disable=SC2086
    dc_strait dc1 $cmd >"$out" 2>&1 || fail "strait $cmd: $(cat "$out")"
done
dc_strait dc2 topics create orders --partitions 1 >"$out" 2>&1 || fail "strait topics create orders on dc2: $(cat "$out")"
for t in acme.orders globex.orders orders; do
    seq 1 20 | sed "s/^/$t-/" | timeout 60 "$KCAT" -b "${DC_BOOT[dc1]}" -P -t "$t" -p 0 ||
        fail "kcat could not fill $t"
done
# Consumer groups with committed offsets (and lag: more records after the commit).
for g in acme.billing:acme.orders globex.audit:globex.orders; do
    timeout 60 "$KCAT" -b "${DC_BOOT[dc1]}" -G "${g%%:*}" "${g#*:}" -e -q -o beginning \
        -X auto.commit.interval.ms=100 >/dev/null 2>"$out" || fail "kcat -G $g: $(cat "$out")"
done
seq 1 5 | sed 's/^/late-/' | timeout 60 "$KCAT" -b "${DC_BOOT[dc1]}" -P -t acme.orders -p 0 ||
    fail "kcat could not add to acme.orders"

# The mirror dc1 -> dc2 (identity naming: "orders" on both sides).
mirror_write_config "$(mirror_flow dc1 dc2 identity '"orders"')"
mirror_start

# The console: users beside the first-start admin, clusters dc1 (broker and mirror) and
# dc2 (broker).
hash() { printf '%s\n' "$1" | "$STRAIT_CONSOLE" --hash-password; }
METRICS_TOKEN=$(openssl rand -hex 16) || fail "openssl rand failed"
OPERATOR_HASH=$(hash operator-pw-1) || fail "strait-console --hash-password failed"
TENANT_HASH=$(hash acme-viewer-pw) || fail "strait-console --hash-password failed"
cat >"$ST_TMP/console.cfg" <<CFG
console = { listen = "127.0.0.1"; port = 0; state_dir = "$ST_TMP/console-state";
            login_failure_delay_ms = 1000; metrics_token = "$METRICS_TOKEN"; };
clusters = (
  { name = "dc1";
    brokers = ( { name = "b0"; mgmt = "${DC_MGMT[dc1]}"; token_file = "${DC_DATA[dc1]}/meta/mgmt.token"; } );
    mirrors = ( { name = "m0"; mgmt = "$MIRROR_MGMT"; token = "$MIRROR_TOKEN"; } ); },
  { name = "dc2";
    brokers = ( { name = "b0"; mgmt = "${DC_MGMT[dc2]}"; token_file = "${DC_DATA[dc2]}/meta/mgmt.token"; } ); }
);
users = (
  { name = "olga"; role = "operator"; password_hash = "$OPERATOR_HASH"; },
  { name = "acme-viewer"; role = "tenant"; tenant = "acme"; password_hash = "$TENANT_HASH"; }
);
CFG
"$STRAIT_CONSOLE" -c "$ST_TMP/console.cfg" --ready-file "$ST_TMP/console.ready" >"$CONSOLE_LOG" 2>&1 &
CONSOLE_PID=$!
wait_until 30 "strait-console's ready file" test -s "$ST_TMP/console.ready"
CONSOLE_PORT=$(cat "$ST_TMP/console.ready")
ADMIN_PW=$(sed -n 's/.*created user "admin" with password \([A-Za-z0-9]*\).*/\1/p' "$CONSOLE_LOG")
[ -n "$ADMIN_PW" ] || fail "the console's first start printed no admin password: $(head -n 5 "$CONSOLE_LOG")"
log "strait-console pid $CONSOLE_PID on http://127.0.0.1:$CONSOLE_PORT"

export CONSOLE_URL="http://127.0.0.1:$CONSOLE_PORT" ADMIN_PW KCAT UI_PRODUCER STRAITD STRAIT
export DC1_BOOT="${DC_BOOT[dc1]}" DC1_SASL DC2_BOOT="${DC_BOOT[dc2]}"
export DC1_MGMT="${DC_MGMT[dc1]}" DC1_DATA="${DC_DATA[dc1]}"
export DC2_PID="${DC_PID[dc2]}" DC2_CFG="$ST_TMP/dc2/straitd.cfg" DC2_DATA="${DC_DATA[dc2]}"
export DC2_MGMT="${DC_MGMT[dc2]}" DC2_LOG="${DC_LOG[dc2]}" ST_TMP
export UI_SCREENSHOTS="${UI_SCREENSHOTS:-$ST_TMP/screenshots}"
mkdir -p "$UI_SCREENSHOTS"
timeout 420 "$NODE" "$UI_DIR/console.test.js" || fail "the browser checks failed (see above)"
# /metrics as Prometheus' own client library parses it (scraped with the metrics token).
/usr/bin/python3 "$UI_DIR/check_metrics.py" "$CONSOLE_URL" "$METRICS_TOKEN" || fail "GET /metrics did not parse or check"
# The test SIGKILLed dc2's broker and started a new one (its pid is in restarted.pid):
# the original pid is gone, so the cleanup must not wait for it.
DC_PID[dc2]=""

# The audit log survives a restart: stop the console (it must exit 0), find the actions
# in the file, start it again and see them in the audit view.
kill -TERM "$CONSOLE_PID"
st_wait_pid "$CONSOLE_PID" 20 || fail "strait-console still runs 20 s after SIGTERM"
rc=0
wait "$CONSOLE_PID" || rc=$?
CONSOLE_PID=""
[ "$rc" -eq 0 ] || fail "strait-console exited with status $rc after SIGTERM"
AUDIT="$ST_TMP/console-state/audit.log"
for a in quotas.set mirror.pause mirror.resume mirror.failover; do
    grep -q "\"action\":\"$a\"" "$AUDIT" || fail "the audit log $AUDIT has no $a"
done
grep -q '"via":"bus"' "$AUDIT" || fail "the audit log has no entry the daemons reported over the bus"
if grep -q 'alice-pw\|gina-pw' "$AUDIT"; then fail "a password reached the audit log"; fi
log "audit log: $(wc -l <"$AUDIT") entries after a clean stop"
"$STRAIT_CONSOLE" -c "$ST_TMP/console.cfg" --ready-file "$ST_TMP/console.ready2" >>"$CONSOLE_LOG" 2>&1 &
CONSOLE_PID=$!
wait_until 30 "strait-console's ready file after the restart" test -s "$ST_TMP/console.ready2"
export CONSOLE_URL="http://127.0.0.1:$(cat "$ST_TMP/console.ready2")"
timeout 120 "$NODE" "$UI_DIR/console.test.js" audit-after-restart || fail "the audit view after the restart failed"

# TLS: a second console with a certificate serves HTTPS and marks the cookie Secure.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$ST_TMP/tls.key" -out "$ST_TMP/tls.crt" >/dev/null 2>&1 || fail "openssl could not make a certificate"
sed -e "s|port = 0;|port = 0; tls_certificate = \"$ST_TMP/tls.crt\"; tls_key = \"$ST_TMP/tls.key\";|" \
    "$ST_TMP/console.cfg" >"$ST_TMP/console-tls.cfg"
"$STRAIT_CONSOLE" -c "$ST_TMP/console-tls.cfg" --ready-file "$ST_TMP/console.ready3" >>"$ST_TMP/console-tls.log" 2>&1 &
TLS_PID=$!
ST_PIDS+=("$TLS_PID")
wait_until 30 "the TLS console's ready file" test -s "$ST_TMP/console.ready3"
TLS_URL="https://127.0.0.1:$(cat "$ST_TMP/console.ready3")"
timeout 30 curl -sk -D "$ST_TMP/tls.headers" -o "$ST_TMP/tls.body" -H "Origin: $TLS_URL" \
    -H 'Content-Type: application/json' -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$TLS_URL/login" ||
    fail "POST /login over TLS failed: $(tail -n 5 "$ST_TMP/console-tls.log")"
grep -qi '^set-cookie: strait_session=[0-9a-f]*; Path=/; HttpOnly; SameSite=Strict; Max-Age=[0-9]*; Secure' "$ST_TMP/tls.headers" ||
    fail "the TLS console's session cookie is not Secure: $(grep -i set-cookie "$ST_TMP/tls.headers")"
log "TLS: login over HTTPS, the cookie is HttpOnly, SameSite=Strict and Secure"
