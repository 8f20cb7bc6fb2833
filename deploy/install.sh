#!/usr/bin/env bash
# install.sh [--prefix DIR] [--build-dir DIR]: installs Strait as services.
#
#   as root:        binaries in /usr/local/bin, configs in /etc/strait, data directories
#                   in /var/lib/strait, systemd units in /etc/systemd/system, one system
#                   user per service (strait, strait-mirror, strait-console,
#                   strait-zookeeper)
#   --prefix DIR:   everything under DIR (bin/, etc/strait/, var/lib/strait/,
#                   lib/systemd/system/, libexec/strait/, share/), no users, no root
#                   needed; the units' paths are rewritten to DIR
#
# It installs what `cmake --build` made in the build directory (default ./build):
# straitd, strait, strait-mirror and, when built, strait-console. Run it again after an
# upgrade: binaries, units and the reference examples are replaced, your configs and
# data are never touched (a config you changed is kept and the shipped one is left
# under share/doc/strait/examples). A second run with nothing new changes nothing.
# docs/deploy.md walks through it.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
prefix="" build="$src/build"

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix)
        [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }
        prefix=$2
        shift 2
        ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --build-dir)
        [ $# -ge 2 ] || { echo "install.sh: --build-dir needs a directory" >&2; exit 2; }
        build=$2
        shift 2
        ;;
    --build-dir=*) build=${1#--build-dir=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument \"$1\" (see install.sh --help)" >&2; exit 2 ;;
    esac
done

if [ -n "$prefix" ]; then
    mkdir -p "$prefix"
    prefix="$(cd "$prefix" && pwd)"
    BIN=$prefix/bin LIBEXEC=$prefix/libexec/strait ETC=$prefix/etc/strait
    VAR=$prefix/var/lib/strait UNITS=$prefix/lib/systemd/system
    SHARE=$prefix/share/strait DOC=$prefix/share/doc/strait
    as_root=0
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "install.sh: installing into /usr/local, /etc and /var needs root; run it with" >&2
        echo "install.sh: sudo, or pass --prefix DIR for an install under DIR" >&2
        exit 1
    fi
    BIN=/usr/local/bin LIBEXEC=/usr/local/libexec/strait ETC=/etc/strait
    VAR=/var/lib/strait UNITS=/etc/systemd/system
    SHARE=/usr/local/share/strait DOC=/usr/local/share/doc/strait
    as_root=1
fi

[ -x "$build/straitd" ] || {
    echo "install.sh: no straitd in $build: build first," >&2
    echo "install.sh:   cmake -S $src -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j" >&2
    echo "install.sh: or name the build directory with --build-dir DIR" >&2
    exit 1
}

changes=0
note() { printf 'install: %s\n' "$*"; }

# The shipped files name the default locations; a --prefix install rewrites them.
rewrite() {
    local out=$1
    shift
    local e_doc e_libexec e_share e_bin e_etc e_var
    esc() { printf '%s' "$1" | sed 's/[&#\\]/\\&/g'; }
    e_doc=$(esc "$DOC") e_libexec=$(esc "$LIBEXEC") e_share=$(esc "$SHARE")
    e_bin=$(esc "$BIN") e_etc=$(esc "$ETC") e_var=$(esc "$VAR")
    sed -e "s#/usr/local/share/doc/strait#$e_doc#g" \
        -e "s#/usr/local/libexec/strait#$e_libexec#g" \
        -e "s#/usr/local/share/strait#$e_share#g" \
        -e "s#/usr/local/bin#$e_bin#g" \
        -e "s#/etc/strait#$e_etc#g" \
        -e "s#/var/lib/strait#$e_var#g" "$@" >"$out"
}

# put SRC DEST MODE [OWNER]: installs SRC as DEST when DEST is missing or differs.
put() {
    local from=$1 to=$2 mode=$3 owner=${4:-}
    if [ -f "$to" ] && cmp -s "$from" "$to" && [ "$(stat -c %a "$to")" = "${mode#0}" ]; then
        return 0
    fi
    local what=installed
    [ -e "$to" ] && what=updated
    # Through a temporary name and a rename: a running binary is replaced, not rewritten.
    install -D -m "$mode" "$from" "$to.new.$$"
    [ -n "$owner" ] && [ "$as_root" = 1 ] && chown "$owner" "$to.new.$$"
    mv -f "$to.new.$$" "$to"
    note "$what $to"
    changes=$((changes + 1))
}

# put_config SRC DEST OWNER: a config is installed only when missing; yours is kept.
put_config() {
    local from=$1 to=$2 owner=$3
    if [ ! -e "$to" ]; then
        install -D -m 0640 "$from" "$to"
        [ "$as_root" = 1 ] && chown "root:$owner" "$to"
        note "installed $to"
        changes=$((changes + 1))
    elif ! cmp -s "$from" "$to"; then
        note "kept your $to (the shipped one is $DOC/examples/service/$(basename "$to"))"
    fi
}

# make_dir DIR OWNER: a data directory, mode 0750, owned by the service's user.
make_dir() {
    local dir=$1 owner=$2
    if [ ! -d "$dir" ]; then
        install -d -m 0750 "$dir"
        note "created $dir"
        changes=$((changes + 1))
    fi
    if [ "$as_root" = 1 ] && [ "$(stat -c %U:%G "$dir")" != "$owner:$owner" ]; then
        chown "$owner:$owner" "$dir"
        note "owner of $dir set to $owner"
        changes=$((changes + 1))
    fi
}

# ---- users (root only) ----
if [ "$as_root" = 1 ]; then
    for user in strait strait-mirror strait-console strait-zookeeper; do
        getent passwd "$user" >/dev/null && continue
        useradd --system --user-group --no-create-home --home-dir "$VAR" \
            --shell /usr/sbin/nologin --comment "Strait ($user service)" "$user"
        note "created system user $user"
        changes=$((changes + 1))
    done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- binaries ----
for prog in straitd strait strait-mirror strait-console; do
    if [ -x "$build/$prog" ]; then
        put "$build/$prog" "$BIN/$prog" 0755
    elif [ "$prog" = strait-console ]; then
        note "strait-console is not built in $build: its unit is installed, the binary is not"
    else
        echo "install.sh: $build/$prog is missing: build everything (cmake --build $build)" >&2
        exit 1
    fi
done
put "$src/deploy/systemd/zk-ready" "$LIBEXEC/zk-ready" 0755
if [ -d "$src/admin-ui/web" ]; then
    while IFS= read -r -d '' f; do
        put "$f" "$SHARE/web/${f#"$src/admin-ui/web/"}" 0644
    done < <(find "$src/admin-ui/web" -type f -print0 | sort -z)
fi

# ---- units ----
for unit in "$src"/deploy/systemd/*.service; do
    rewrite "$tmp/unit" "$unit"
    put "$tmp/unit" "$UNITS/$(basename "$unit")" 0644
done

# ---- reference material: every setting documented, the docs ----
for f in "$src"/deploy/config/*.cfg; do
    put "$f" "$DOC/examples/$(basename "$f")" 0644
done
for f in "$src"/deploy/config/connect/*.properties; do
    put "$f" "$DOC/examples/connect/$(basename "$f")" 0644
done
for f in "$src"/deploy/systemd/config/*.cfg "$src"/deploy/systemd/config/zookeeper/zoo.cfg; do
    rewrite "$tmp/cfg" "$f"
    put "$tmp/cfg" "$DOC/examples/service/$(basename "$f")" 0644
done
for f in deploy.md quickstart.md operations.md mirroring.md connect.md cluster.md; do
    [ -f "$src/docs/$f" ] && put "$src/docs/$f" "$DOC/$f" 0644
done

# ---- configs (only when missing) ----
install -d -m 0755 "$ETC"
rewrite "$tmp/c" "$src/deploy/systemd/config/straitd-0.cfg"
put_config "$tmp/c" "$ETC/straitd-0.cfg" strait
rewrite "$tmp/c" "$src/deploy/systemd/config/strait-mirror.cfg"
put_config "$tmp/c" "$ETC/strait-mirror.cfg" strait-mirror
rewrite "$tmp/c" "$src/deploy/systemd/config/zookeeper/zoo.cfg"
put_config "$tmp/c" "$ETC/zookeeper/zoo.cfg" strait-zookeeper
if [ -f "$src/deploy/config/strait-console.cfg" ]; then
    # The console's example with its web files where this install put them.
    sed "s#^\([[:space:]]*web_root[[:space:]]*=[[:space:]]*\)\"\";#\1\"$SHARE/web\";#" \
        "$src/deploy/config/strait-console.cfg" >"$tmp/c"
    put_config "$tmp/c" "$ETC/console.cfg" strait-console
fi

# ---- data directories ----
make_dir "$VAR/straitd-0" strait
make_dir "$VAR/mirror" strait-mirror
make_dir "$VAR/console" strait-console
make_dir "$VAR/zookeeper" strait-zookeeper

if [ "$as_root" = 1 ] && [ -d /run/systemd/system ] && [ "$changes" -gt 0 ]; then
    systemctl daemon-reload
    note "systemctl daemon-reload done"
fi

if [ "$changes" -eq 0 ]; then
    note "nothing to do: everything is installed and up to date"
else
    note "$changes change(s)"
fi
cat <<MSG
install: next steps (docs/deploy.md has the details):
  edit $ETC/straitd-0.cfg, then: systemctl enable --now straitd@0
  cluster mode: edit $ETC/zookeeper/zoo.cfg, then: systemctl enable --now strait-zookeeper
  mirroring:    edit $ETC/strait-mirror.cfg, then: systemctl enable --now strait-mirror
  console:      edit $ETC/console.cfg, then: systemctl enable --now strait-console
MSG
