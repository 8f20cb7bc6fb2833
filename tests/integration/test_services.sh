#!/usr/bin/env bash
# Services (tracker issue 18): deploy/install.sh --prefix installs binaries, units,
# configs and data directories, and a second run changes nothing (an edited config is
# kept, a changed binary is replaced). The installed units pass `systemd-analyze verify`
# and carry the sandbox and limits they promise. Then each unit's ExecStart runs as
# systemd would run it — its command line and working directory from the installed
# unit, $NOTIFY_SOCKET pointing at a listener here (sd_unit.py) — and must report
# READY=1, serve (kcat -L and records through it; a mirrored record; ZooKeeper's
# `srvr` after the unit's own readiness probe; the console's login page) and stop
# cleanly on SIGTERM within the unit's TimeoutStopSec. straitd, strait-mirror and
# strait-console run under strace, and every system call they made must be one the
# units' SystemCallFilter=@system-service allows.
. "$(dirname "$0")/lib.sh"

: "${STRAIT:?STRAIT must name the strait CLI (run through ctest)}"
: "${STRAIT_MIRROR:?STRAIT_MIRROR must name the strait-mirror binary (run through ctest)}"
PY=/usr/bin/python3
SD="$(cd "$(dirname "$0")" && pwd)/sd_unit.py"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(dirname "$STRAITD")"
PREFIX="$ST_TMP/prefix"
UNITS="$PREFIX/lib/systemd/system"
ETC="$PREFIX/etc/strait"
VAR="$PREFIX/var/lib/strait"

# ---- install, twice ----
bash "$SRC/deploy/install.sh" --prefix "$PREFIX" --build-dir "$BUILD" >"$ST_TMP/install1.txt" 2>&1 ||
    fail "install.sh --prefix failed: $(tail -n 5 "$ST_TMP/install1.txt")"
for f in bin/straitd bin/strait bin/strait-mirror libexec/strait/zk-ready \
    etc/strait/straitd-0.cfg etc/strait/strait-mirror.cfg etc/strait/zookeeper/zoo.cfg \
    lib/systemd/system/straitd@.service lib/systemd/system/strait-mirror.service \
    lib/systemd/system/strait-console.service lib/systemd/system/strait-zookeeper.service \
    share/doc/strait/examples/straitd.cfg; do
    [ -f "$PREFIX/$f" ] || fail "install.sh did not install $f"
done
for d in straitd-0 mirror console zookeeper; do
    [ -d "$VAR/$d" ] || fail "install.sh did not create the data directory $VAR/$d"
done
cmp -s "$STRAITD" "$PREFIX/bin/straitd" || fail "the installed straitd is not the built one"
grep -q '/usr/local\|/etc/strait\b\|/var/lib/strait' <(grep -rh '^[A-Za-z]' "$UNITS" | grep -v "$PREFIX") &&
    fail "a unit still names a default path after --prefix: $(grep -rh '^[A-Za-z]' "$UNITS" | grep -v "$PREFIX" | grep -m1 '/usr/local\|/etc/strait\|/var/lib/strait')"
log "install.sh: $(grep -c '^install: \(installed\|created\)' "$ST_TMP/install1.txt") files and directories"

snapshot() { (cd "$PREFIX" && find . -printf '%p %s %m %T@\n' | sort); }
echo "# changed by the operator" >>"$ETC/straitd-0.cfg"
snapshot >"$ST_TMP/snap1.txt"
bash "$SRC/deploy/install.sh" --prefix "$PREFIX" --build-dir "$BUILD" >"$ST_TMP/install2.txt" 2>&1 ||
    fail "the second install.sh run failed: $(tail -n 5 "$ST_TMP/install2.txt")"
snapshot >"$ST_TMP/snap2.txt"
diff "$ST_TMP/snap1.txt" "$ST_TMP/snap2.txt" >&2 || fail "the second install.sh run changed files (above)"
assert_contains "$ST_TMP/install2.txt" 'nothing to do' "the second run says it had nothing to do"
assert_contains "$ST_TMP/install2.txt" "kept your .*straitd-0.cfg" "the second run names the kept config"
# An upgrade: a binary that differs is replaced, the edited config still kept.
printf 'x' >>"$PREFIX/bin/strait"
bash "$SRC/deploy/install.sh" --prefix "$PREFIX" --build-dir "$BUILD" >"$ST_TMP/install3.txt" 2>&1 ||
    fail "the third install.sh run failed"
assert_contains "$ST_TMP/install3.txt" "updated $PREFIX/bin/strait\$" "a changed binary is replaced"
cmp -s "$STRAIT" "$PREFIX/bin/strait" || fail "bin/strait was not replaced by the built one"
tail -n 1 "$ETC/straitd-0.cfg" | grep -q 'changed by the operator' || fail "install.sh overwrote an edited config"
log "install.sh is idempotent: a second run changed nothing, a third replaced one changed binary"

# ---- systemd-analyze verify ----
console_built=0
[ -x "$PREFIX/bin/strait-console" ] && console_built=1
if command -v systemd-analyze >/dev/null 2>&1; then
    to_verify=("$UNITS/straitd@.service" "$UNITS/straitd@0.service" "$UNITS/strait-mirror.service"
        "$UNITS/strait-zookeeper.service")
    if [ "$console_built" = 1 ]; then
        to_verify+=("$UNITS/strait-console.service")
    else
        log "SKIP verifying strait-console.service: strait-console is not built in this tree" \
            "(verify would only say its ExecStart binary is missing)"
    fi
    # Warnings (an unknown key, a bad value) exit 0 too: any output is a failure.
    rc=0
    systemd-analyze verify "${to_verify[@]}" >"$ST_TMP/verify.txt" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$ST_TMP/verify.txt" ]; then
        cat "$ST_TMP/verify.txt" >&2
        fail "systemd-analyze verify complained (status $rc)"
    fi
    log "systemd-analyze verify: ${#to_verify[@]} units clean"
else
    log "SKIP systemd-analyze verify: systemd-analyze is not installed (Debian package systemd;" \
        "deploy/install-packages.sh --test installs it)"
fi

# ---- what each unit promises ----
unit_get() { $PY "$SD" get "$UNITS/$1" "$2" "${3:-}"; }
users=()
for unit in straitd@.service strait-mirror.service strait-console.service strait-zookeeper.service; do
    inst=""
    [ "$unit" = straitd@.service ] && inst=0
    want_type=notify
    [ "$unit" = strait-zookeeper.service ] && want_type=exec
    assert_eq "$want_type" "$(unit_get $unit Type)" "$unit Type="
    assert_eq on-failure "$(unit_get $unit Restart)" "$unit Restart="
    for kv in ProtectSystem=strict ProtectHome=true PrivateTmp=true NoNewPrivileges=true \
        PrivateDevices=true; do
        assert_eq "${kv#*=}" "$(unit_get $unit "${kv%%=*}")" "$unit ${kv%%=*}="
    done
    user=$(unit_get $unit User)
    [ -n "$user" ] && [ "$user" != root ] || fail "$unit: no dedicated User= (got \"$user\")"
    users+=("$user")
    rw=$(unit_get $unit ReadWritePaths "$inst")
    case "$rw" in "$VAR"/*) ;; *) fail "$unit: ReadWritePaths=$rw is not a data directory under $VAR" ;; esac
    assert_eq "$rw" "$(unit_get $unit WorkingDirectory "$inst")" "$unit WorkingDirectory= (its data directory)"
    nofile=$(unit_get $unit LimitNOFILE)
    [[ "$nofile" =~ ^[0-9]+$ ]] && [ "$nofile" -ge 65536 ] || fail "$unit: LimitNOFILE=$nofile, want >= 65536"
    [ -n "$(unit_get $unit TimeoutStopSec)" ] || fail "$unit: no TimeoutStopSec="
done
[ "$(printf '%s\n' "${users[@]}" | sort -u | wc -l)" -eq 4 ] ||
    fail "the four units do not each have their own user: ${users[*]}"
[ "$(unit_get straitd@.service LimitNOFILE)" -ge 1000000 ] || fail "straitd@: LimitNOFILE below 1,000,000"
assert_eq "$VAR/mirror" "$(sed -n 's/^state_dir = "\(.*\)";/\1/p' "$ETC/strait-mirror.cfg")" \
    "the installed mirror config's state_dir (the unit's one writable path)"
log "units: ${users[*]} — notify, on-failure restarts, sandboxed to their data directories"

# ---- running the units' command lines ----
can_strace=0
if command -v strace >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1 &&
    strace -f -qq -o /dev/null true 2>/dev/null; then
    can_strace=1
else
    log "SKIP the system call check: strace (or ptrace) or systemd-analyze is not available"
fi
declare -A U_PID U_MAIN U_NOTIFY U_LOG U_TRACED

# run_unit UNIT INSTANCE NAME [strace]: runs UNIT's ExecStart from its WorkingDirectory
# with NOTIFY_SOCKET set, and for Type=notify waits (TimeoutStartSec, at most 120 s)
# for READY=1.
run_unit() {
    local unit=$1 inst=$2 name=$3 traced=${4:-} argv wd sock out
    mapfile -d '' argv < <($PY "$SD" argv "$UNITS/$unit" ExecStart "$inst")
    [ "${#argv[@]}" -gt 0 ] || fail "$unit: no ExecStart"
    wd=$(unit_get "$unit" WorkingDirectory "$inst")
    sock="$ST_TMP/n-$name.sock" out="$ST_TMP/n-$name.txt"
    : >"$out"
    st_bg "$ST_TMP/n-$name.out" "$ST_TMP/n-$name.err" $PY "$SD" listen "$sock" "$out"
    wait_until 10 "the notify listener of $name" test -S "$sock"
    local wrap=()
    U_TRACED[$name]=0
    if [ "$traced" = strace ] && [ "$can_strace" = 1 ]; then
        # A sanitizer build's leak check cannot run under ptrace; nothing else changes.
        wrap=(env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$ST_TMP/strace-$name.txt")
        U_TRACED[$name]=1
    fi
    U_LOG[$name]="$ST_TMP/$name.log"
    U_NOTIFY[$name]=$out
    log "$name: ${argv[*]}"
    (cd "$wd" && NOTIFY_SOCKET="$sock" exec "${wrap[@]}" "${argv[@]}") >"${U_LOG[$name]}" 2>&1 &
    U_PID[$name]=$!
    U_MAIN[$name]=${U_PID[$name]}
    if [ "${U_TRACED[$name]}" = 1 ]; then
        # The daemon is strace's child: signals go to it, and the cleanup stops it first
        # (a SIGTERM to strace would only detach it). strace also forks short-lived
        # probes of its own at start, so the child must be running the daemon's binary.
        U_MAIN[$name]=""
        traced_child() {
            local c
            for c in $(ps -o pid= --ppid "${U_PID[$name]}"); do
                if [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$(readlink -f "${argv[0]}")" ]; then
                    U_MAIN[$name]=$c
                    return 0
                fi
            done
            return 1
        }
        wait_until 10 "$name's process under strace" traced_child
        ST_PIDS+=("${U_MAIN[$name]}")
    fi
    ST_PIDS+=("${U_PID[$name]}")
    [ "$(unit_get "$unit" Type)" = notify ] || return 0
    local t0 limit
    t0=$(date +%s%N)
    limit=$($PY "$SD" seconds "$(unit_get "$unit" TimeoutStartSec)")
    [ "$limit" -le 120 ] || limit=120
    until grep -q 'READY=1' "$out"; do
        if ! kill -0 "${U_PID[$name]}" 2>/dev/null; then
            tail -n 20 "${U_LOG[$name]}" >&2
            fail "$name exited before it reported READY=1"
        fi
        [ $((($(date +%s%N) - t0) / 1000000000)) -lt "$limit" ] ||
            fail "$name did not report READY=1 within ${limit}s"
        sleep 0.05
    done
    log "$name: READY=1 after $((($(date +%s%N) - t0) / 1000000)) ms: $(grep -m1 READY=1 "$out" | cut -d' ' -f2-)"
}

# stop_unit UNIT NAME: SIGTERM (to the daemon, not strace), and it must exit with 0 or a
# SuccessExitStatus within the unit's TimeoutStopSec; a notify service says STOPPING=1.
stop_unit() {
    local unit=$1 name=$2 pid=${U_PID[$2]} target=${U_MAIN[$2]} limit t0 rc=0 ms
    limit=$($PY "$SD" seconds "$(unit_get "$unit" TimeoutStopSec)")
    t0=$(date +%s%N)
    kill -TERM "$target"
    st_wait_pid "$pid" "$limit" || fail "$name still running ${limit}s (its TimeoutStopSec) after SIGTERM"
    wait "$pid" || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    local ok=" 0 $(unit_get "$unit" SuccessExitStatus | tr '\n' ' ') "
    [[ "$ok" == *" $rc "* ]] || { tail -n 20 "${U_LOG[$name]}" >&2; fail "$name exited with status $rc after SIGTERM (clean: $ok)"; }
    if [ "$(unit_get "$unit" Type)" = notify ]; then
        grep -q 'STOPPING=1' "${U_NOTIFY[$name]}" || fail "$name did not report STOPPING=1"
    fi
    log "$name: stopped cleanly (status $rc) ${ms} ms after SIGTERM; TimeoutStopSec is ${limit}s"
}

# check_syscalls NAME: the traced run stayed within SystemCallFilter=@system-service.
check_syscalls() {
    [ "${U_TRACED[$1]}" = 1 ] || return 0
    $PY "$SD" syscalls "$ST_TMP/strace-$1.txt" @system-service >"$ST_TMP/sys-$1.txt" ||
        fail "reading $1's strace output failed: $(cat "$ST_TMP/sys-$1.txt")"
    [ "$(wc -l <"$ST_TMP/sys-$1.txt")" -eq 1 ] ||
        fail "$1 made system calls SystemCallFilter=@system-service refuses: $(tail -n +2 "$ST_TMP/sys-$1.txt" | tr '\n' ' ')"
    log "$1: $(head -n 1 "$ST_TMP/sys-$1.txt"): all allowed"
}

# Two brokers from the template, instances a and b, configured from the installed
# straitd-0.cfg with a free port and a private management endpoint.
declare -A PORT
for inst in a b; do
    sed -e "s/^\([[:space:]]*id = \)0;/\1$([ $inst = a ] && echo 1 || echo 2);/" \
        -e 's/^\([[:space:]]*port = \)9092;/\10;/' \
        -e "s#url = \"tcp://127.0.0.1:9192\";#url = \"ipc://$ST_TMP/$inst-mgmt.ipc\";#" \
        "$ETC/straitd-0.cfg" >"$ETC/straitd-$inst.cfg"
    grep -q 'port = 0;' "$ETC/straitd-$inst.cfg" && grep -q "$inst-mgmt.ipc" "$ETC/straitd-$inst.cfg" ||
        fail "could not adapt straitd-0.cfg for instance $inst"
    # what the unit's ExecStartPre (install -d as root) does
    mkdir -p "$VAR/straitd-$inst"
    trace=""
    [ $inst = a ] && trace=strace
    run_unit straitd@.service $inst "straitd-$inst" $trace
    PORT[$inst]=$(sed -n 's/.*STATUS=serving Kafka on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "${U_NOTIFY[straitd-$inst]}" | head -n 1)
    [[ "${PORT[$inst]}" =~ ^[1-9][0-9]*$ ]] ||
        fail "straitd-$inst's STATUS names no port: $(cat "${U_NOTIFY[straitd-$inst]}")"
    timeout 30 "$KCAT" -b "127.0.0.1:${PORT[$inst]}" -L >"$ST_TMP/meta-$inst.txt" ||
        fail "kcat -L against straitd-$inst failed"
    assert_contains "$ST_TMP/meta-$inst.txt" "broker $([ $inst = a ] && echo 1 || echo 2) at 127.0.0.1:${PORT[$inst]}" \
        "straitd-$inst serves Metadata with its broker.id"
done
seq 1 20 | sed 's/^/record-/' | timeout 60 "$KCAT" -b "127.0.0.1:${PORT[a]}" -P -t svc.orders ||
    fail "producing to straitd-a failed"
got=$(timeout 60 "$KCAT" -b "127.0.0.1:${PORT[a]}" -C -t svc.orders -o beginning -e -q | wc -l)
assert_eq 20 "$got" "records read back from straitd-a"
timeout 30 "$STRAIT" --mgmt "ipc://$ST_TMP/a-mgmt.ipc" --data-dir "$VAR/straitd-a" status >"$ST_TMP/status-a.txt" ||
    fail "strait status against straitd-a's management endpoint failed"

# strait-mirror from its unit: a → b.
cat >"$ETC/strait-mirror.cfg" <<CFG
clusters = ( { alias = "a"; bootstrap = "127.0.0.1:${PORT[a]}"; },
             { alias = "b"; bootstrap = "127.0.0.1:${PORT[b]}"; } );
flows = ( { source = "a"; target = "b"; topics = [ "svc.*" ]; sync_interval_ms = 1000; } );
mgmt = { url = "ipc://$ST_TMP/mirror-mgmt.ipc"; token = "svc-test"; };
state_dir = "$VAR/mirror";
CFG
run_unit strait-mirror.service "" strait-mirror strace
mirrored() {
    [ "$(timeout 20 "$KCAT" -b "127.0.0.1:${PORT[b]}" -C -t a.svc.orders -o beginning -e -q 2>/dev/null | wc -l)" -ge 20 ]
}
wait_until 60 "the 20 records mirrored to straitd-b's a.svc.orders" mirrored
timeout 30 "$STRAIT" mirror status --mgmt "ipc://$ST_TMP/mirror-mgmt.ipc" --token svc-test >/dev/null ||
    fail "strait mirror status against the unit's daemon failed"
log "strait-mirror: 20 records mirrored a → b"
stop_unit strait-mirror.service strait-mirror
check_syscalls strait-mirror

stop_unit straitd@.service straitd-b
stop_unit straitd@.service straitd-a
for inst in a b; do
    [ -e "$VAR/straitd-$inst/.clean_shutdown" ] || fail "straitd-$inst left no clean-shutdown marker"
done
check_syscalls straitd-a

# ZooKeeper: ExecStart, then the unit's ExecStartPost readiness probe.
if [ -x /usr/bin/java ] && [ -r /usr/share/java/zookeeper.jar ]; then
    zk_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sed -i "s/^clientPort=.*/clientPort=$zk_port/" "$ETC/zookeeper/zoo.cfg"
    grep -q "^clientPort=$zk_port\$" "$ETC/zookeeper/zoo.cfg" || fail "could not set zoo.cfg's clientPort"
    # The probe must fail while nothing serves.
    rc=0
    "$PREFIX/libexec/strait/zk-ready" "$ETC/zookeeper/zoo.cfg" 1 >/dev/null 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || fail "zk-ready succeeded with no ZooKeeper running"
    run_unit strait-zookeeper.service "" zookeeper
    mapfile -d '' post < <($PY "$SD" argv "$UNITS/strait-zookeeper.service" ExecStartPost)
    t0=$(date +%s%N)
    (cd "$VAR/zookeeper" && timeout 120 "${post[@]}") >"$ST_TMP/zk-ready.txt" 2>&1 ||
        fail "the unit's readiness probe failed: $(cat "$ST_TMP/zk-ready.txt"); $(tail -n 5 "${U_LOG[zookeeper]}")"
    log "zookeeper: $(cat "$ST_TMP/zk-ready.txt") after $((($(date +%s%N) - t0) / 1000000)) ms"
    srvr=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf srvr >&3; cat <&3' _ "$zk_port")
    [[ "$srvr" == *"Mode: standalone"* ]] || fail "ZooKeeper's srvr after the probe: $srvr"
    [ -d "$VAR/zookeeper/version-2" ] || fail "ZooKeeper wrote nothing into its data directory $VAR/zookeeper"
    stop_unit strait-zookeeper.service zookeeper
else
    log "SKIP strait-zookeeper.service: java or /usr/share/java/zookeeper.jar is missing" \
        "(deploy/install-packages.sh --test installs zookeeper and default-jre-headless)"
fi

# The console, when this tree builds it.
if [ "$console_built" = 1 ] && [ -f "$ETC/console.cfg" ]; then
    c_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sed -i "s/^\([[:space:]]*port[[:space:]]*=[[:space:]]*\)[0-9]*;/\1$c_port;/" "$ETC/console.cfg"
    run_unit strait-console.service "" strait-console strace
    # The page comes from the web files install.sh put under share/strait/web.
    timeout 10 curl -sfL "http://127.0.0.1:$c_port/" >"$ST_TMP/console-index.html" ||
        fail "strait-console reported READY=1 but does not serve its page on port $c_port"
    grep -qi '<html' "$ST_TMP/console-index.html" || fail "strait-console's / is not its page"
    stop_unit strait-console.service strait-console
    check_syscalls strait-console
else
    log "SKIP running strait-console.service: strait-console is not built in this tree"
fi
