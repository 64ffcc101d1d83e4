#!/usr/bin/env bash
# The Debian package, as an admin gets it (ctest: deploy.package): builds it from this tree
# with dpkg-buildpackage, installs it with dpkg -i, checks what it put where, runs the
# installed binary as the user askdesk against a throw-away redis-server until /healthz
# answers 200, stops it with SIGTERM, installs it again over itself (as an upgrade does), and
# purges it, checking that the user and the files are gone.
#
#   tests/deploy/package_test.sh WORK_DIR      (ctest passes the build folder)
#
# Needs root and a machine without the package or a user askdesk; elsewhere it says why and
# exits 77, which ctest reports as skipped. The tree is copied
# to WORK_DIR/package-test (tracked and new files, nothing git ignores), so it stays clean;
# the path is the same every run, so ccache (if installed) makes a rebuild cheap. Whatever
# happens, the package is purged, the servers stopped and the copy removed. On a machine
# where systemd runs, installing also starts the service on 127.0.0.1:8080, as it would
# for an admin, until the purge.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: package_test.sh WORK_DIR}/package-test
jobs=2

note() { printf 'package_test.sh: [%3ds] %s\n' "$SECONDS" "$*"; }
fail() {
  echo "package_test.sh: $*" >&2
  exit 1
}
skip() {
  echo "package_test.sh: skipped: $*" >&2
  exit 77
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

[ "$(id -u)" -eq 0 ] || skip "needs root: it installs and purges the package"
for tool in dpkg-buildpackage dh redis-server redis-cli curl setpriv python3 systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing (deploy/install-deps.sh --test)"
done
if [ -n "$(dpkg-query -W -f='${db:Status-Status}' askdesk 2>/dev/null)" ] &&
    [ "$(dpkg-query -W -f='${db:Status-Status}' askdesk)" != not-installed ]; then
  skip "the package askdesk is on this machine; this test would purge it (dpkg --purge askdesk)"
fi
getent passwd askdesk >/dev/null && skip "a user askdesk exists; this test would delete it"
getent group askdesk >/dev/null && skip "a group askdesk exists; this test would delete it"

installed=
redis_pid=
daemon_pid=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e  # a server that already died must not stop the purge
  [ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
  [ -n "$redis_pid" ] && kill -KILL "$redis_pid" 2>/dev/null
  wait 2>/dev/null
  if [ -n "$installed" ]; then
    dpkg --purge askdesk >/dev/null 2>&1 || echo "package_test.sh: dpkg --purge askdesk failed" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rm -rf "$work"
mkdir -p "$work/src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do { [ -e "$f" ] || [ -L "$f" ]; } && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$work/src"
else
  tar -C "$root" --exclude=./build --exclude=./var --exclude=node_modules -cf - . |
    tar -xf - -C "$work/src"
fi

note "building the package (dpkg-buildpackage -b, $jobs jobs)"
if command -v ccache >/dev/null; then
  # debhelper gives the build a HOME of its own: name the usual cache.
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR CCACHE_BASEDIR=$work/src
fi
export DEB_BUILD_OPTIONS=noautodbgsym
built=$SECONDS
if ! (cd "$work/src" && dpkg-buildpackage -us -uc -b -j"$jobs") >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  fail "dpkg-buildpackage failed (above: the end of its log)"
fi
built=$((SECONDS - built))
deb=$(echo "$work"/askdesk_*.deb)
[ -f "$deb" ] || fail "dpkg-buildpackage made no askdesk_*.deb"
note "built $(basename "$deb") in ${built}s"

install_package() {
  if ! dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
    cat "$work/dpkg.log"
    fail "dpkg -i failed (missing dependencies: deploy/install-deps.sh)"
  fi
}
installed=1
install_package
note "installed"

[ "$(command -v askdesk)" = /usr/bin/askdesk ] || fail "askdesk is not /usr/bin/askdesk"
version=$(dpkg-query -W -f='${Version}' askdesk)
[ "$(askdesk version)" = "askdesk ${version%%-*}" ] ||
  fail "askdesk version says '$(askdesk version)', the package is $version (debian/changelog)"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd askdesk) || fail "no user askdesk"
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] ||
  fail "askdesk is not a system user without a home and a shell ($uid, $home, $shell)"
conf=/etc/askdesk/askdesk.jsonc
dpkg-query -W -f='${Conffiles}\n' askdesk | grep -q " $conf " || fail "$conf is not a conffile"
[ "$(stat -c '%U:%G %a' /etc/askdesk "$conf")" = "root:askdesk 750
root:askdesk 640" ] || fail "/etc/askdesk and $conf should be root:askdesk, 750 and 640"
# A command (not a function), so that $! below is the daemon itself.
as_askdesk=(setpriv --reuid=askdesk --regid=askdesk --clear-groups)
[ "$("${as_askdesk[@]}" askdesk check-config "$conf")" = ok ] || fail "askdesk check-config $conf failed"
# The containers' configuration, by the binary their image installs.
container_conf=$work/src/deploy/container/askdesk.jsonc
[ "$(ASKDESK_PUBLIC_URL=https://ask.library.example REDIS_PASSWORD=r SENTINEL_PASSWORD=s \
  askdesk check-config "$container_conf")" = ok ] || fail "askdesk check-config $container_conf failed"
unit=$(dpkg -L askdesk | grep -E '^(/usr)?/lib/systemd/system/askdesk\.service$') ||
  fail "the unit is not where systemd looks"
messages=$(systemd-analyze verify --man=no "$unit" 2>&1) && ! grep -q askdesk <<<"$messages" ||
  fail "systemd-analyze verify $unit: $messages"
[ -L /etc/systemd/system/multi-user.target.wants/askdesk.service ] ||
  fail "the unit is not enabled (dh_installsystemd)"
for file in /usr/share/askdesk/web/dashboard/index.html /usr/share/askdesk/web/widget/widget.js \
    /usr/share/doc/askdesk/examples/askdesk.example.jsonc; do
  [ -f "$file" ] || fail "$file is missing"
done
note "checked the binary, the user, $conf (and the containers'), the unit and the web files"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping | grep -q PONG || fail "redis-server did not start: $(cat "$work/redis.log")"

listen=127.0.0.1:$(free_port)
ASKDESK_REDIS_URL=redis://127.0.0.1:$redis_port/0 "${as_askdesk[@]}" /usr/bin/askdesk serve \
  --config "$conf" --listen "$listen" >"$work/askdesk.log" 2>&1 &
daemon_pid=$!
code=
for _ in $(seq 200); do
  code=$(curl -s -o "$work/healthz" -w '%{http_code}' "http://$listen/healthz" || true)
  [ "$code" = 200 ] && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$code" != 200 ]; then
  cat "$work/askdesk.log"
  fail "GET /healthz answered '$code', not 200 (above: the daemon's log)"
fi
[ "$(ps -o user= -p "$daemon_pid")" = askdesk ] || fail "the daemon does not run as askdesk"
for path in / /widget.js /vendor/chart.js; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$listen$path")
  [ "$code" = 200 ] || fail "GET $path answered $code (the web files, libjs-chart.js)"
done
note "the installed daemon runs as askdesk: /healthz, /, /widget.js and /vendor/chart.js answer 200"

stopping=$SECONDS
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
[ "$status" -eq 0 ] || fail "askdesk exited $status on SIGTERM"
note "stopped by SIGTERM in $((SECONDS - stopping))s or less, exit status 0"

install_package
[ "$(stat -c '%U:%G %a' "$conf")" = "root:askdesk 640" ] || fail "$conf lost its owner on reinstall"
note "installed again over itself"

echo 'REDIS_PASSWORD=secret' >/etc/askdesk/askdesk.env
if ! dpkg --purge askdesk >"$work/dpkg.log" 2>&1; then
  cat "$work/dpkg.log"
  fail "dpkg --purge askdesk failed"
fi
installed=
getent passwd askdesk >/dev/null && fail "the user askdesk is still there after the purge"
getent group askdesk >/dev/null && fail "the group askdesk is still there after the purge"
for path in /usr/bin/askdesk /usr/share/askdesk /etc/askdesk "$unit" \
    /etc/systemd/system/multi-user.target.wants/askdesk.service; do
  [ -e "$path" ] || [ -L "$path" ] && fail "$path is still there after the purge"
done
note "purged: the user, the group, /etc/askdesk and the files are gone"
